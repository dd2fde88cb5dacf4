using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using V = System.Runtime.Intrinsics.Vector512<float>;

namespace RecurrentCore.Kernels.Simd;

/// <summary>The <see cref="KernelVariant.Avx512"/> width: 16 lanes of Vector512 (AVX-512F, AVX-512BW for the quantized kernels' byte and word ops, FMA).</summary>
[SimdWidthTemplate(typeof(V))]
internal readonly unsafe partial struct Simd512 : ISimd<V>
{
    public static bool IsSupported => Vector512.IsHardwareAccelerated && Avx512F.IsSupported && Avx512BW.IsSupported && Fma.IsSupported;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V MultiplyAdd(V a, V b, V c) => Avx512F.FusedMultiplyAdd(a, b, c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float MultiplyAddScalar(float a, float b, float c) => MathF.FusedMultiplyAdd(a, b, c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(V value) => Simd128.Sum(Fold(value));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreSums4(V v0, V v1, V v2, V v3, float* y, bool accumulate) =>
        Simd128.StoreSums4(Fold(v0), Fold(v1), Fold(v2), Fold(v3), y, accumulate);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Prefetch(float* address) => Sse.Prefetch0(address);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V DotBytes(V accumulator, byte* u, sbyte* s)
    {
        // No VNNI class for 512-bit registers in .NET 10 (only the VEX AvxVnni): zero/sign-extend to 16 bits and
        // VPMADDWD, whose pair sums (≤ 2·255·128) cannot overflow.
        var lo = Avx512BW.MultiplyAddAdjacent(Avx512BW.ConvertToVector512Int16(Vector256.Load(u)), Avx512BW.ConvertToVector512Int16(Vector256.Load(s)));
        var hi = Avx512BW.MultiplyAddAdjacent(Avx512BW.ConvertToVector512Int16(Vector256.Load(u + 32)), Avx512BW.ConvertToVector512Int16(Vector256.Load(s + 32)));
        return (accumulator.AsInt32() + lo + hi).AsSingle();
    }

    public static bool HasNativeByteDot => false;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V WidenBytes(sbyte* s) => Avx512BW.ConvertToVector512Int16(Vector256.Load(s)).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V WidenBytes(byte* u) => Avx512BW.ConvertToVector512Int16(Vector256.Load(u)).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V MultiplyAddPairs(V accumulator, V a, V b) =>
        (accumulator.AsInt32() + Avx512BW.MultiplyAddAdjacent(a.AsInt16(), b.AsInt16())).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V SignBytes(V value, V signs)
    {
        var v = value.AsSByte();
        return Vector512.ConditionalSelect(Vector512.LessThan(signs.AsSByte(), Vector512<sbyte>.Zero), -v, v).AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V DotQuads(V accumulator, V u, V s) =>
        (accumulator.AsInt32() + Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(u.AsByte(), s.AsSByte()), Vector512.Create((short)1))).AsSingle();

    public static string QuantizedInstructions => "bf16: vpslld / vpandd (even/odd halves), vfmadd231ps; int8: steps vpsubb + blend (signs), vpmaddubsw + vpmaddwd; projection vpmovzx/sxbw + vpmaddwd (.NET 10 has no 512-bit VNNI)";

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Fold(V v)
    {
        var t = v.GetLower() + v.GetUpper();
        return t.GetLower() + t.GetUpper();
    }
}
