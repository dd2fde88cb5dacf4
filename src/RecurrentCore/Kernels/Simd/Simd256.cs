using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using V = System.Runtime.Intrinsics.Vector256<float>;

namespace RecurrentCore.Kernels.Simd;

/// <summary>The <see cref="KernelVariant.Avx2Fma"/> width: 8 lanes of Vector256 (AVX2, FMA3); also the 8-lane remainder of the AVX-512 gate and activation loops.</summary>
[SimdWidthTemplate(typeof(V))]
internal readonly unsafe partial struct Simd256 : ISimd<V>
{
    public static bool IsSupported => Avx2.IsSupported && Fma.IsSupported;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V MultiplyAdd(V a, V b, V c) => Fma.MultiplyAdd(a, b, c);

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
        if (AvxVnni.IsSupported)
        {
            return AvxVnni.MultiplyWideningAndAdd(accumulator.AsInt32(), Vector256.Load(u), Vector256.Load(s)).AsSingle();
        }

        // Zero/sign-extend to 16 bits and VPMADDWD, whose pair sums (≤ 2·255·128) cannot overflow.
        var lo = Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(u), Avx2.ConvertToVector256Int16(s));
        var hi = Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(u + 16), Avx2.ConvertToVector256Int16(s + 16));
        return (accumulator.AsInt32() + lo + hi).AsSingle();
    }

    public static bool HasNativeByteDot => AvxVnni.IsSupported;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V WidenBytes(sbyte* s) => Avx2.ConvertToVector256Int16(s).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V WidenBytes(byte* u) => Avx2.ConvertToVector256Int16(u).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V MultiplyAddPairs(V accumulator, V a, V b) =>
        (accumulator.AsInt32() + Avx2.MultiplyAddAdjacent(a.AsInt16(), b.AsInt16())).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V SignBytes(V value, V signs) => Avx2.Sign(value.AsSByte(), signs.AsSByte()).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V DotQuads(V accumulator, V u, V s) => AvxVnni.IsSupported
        ? AvxVnni.MultiplyWideningAndAdd(accumulator.AsInt32(), u.AsByte(), s.AsSByte()).AsSingle()
        : (accumulator.AsInt32() + Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(u.AsByte(), s.AsSByte()), Vector256.Create((short)1))).AsSingle();

    public static string QuantizedInstructions => AvxVnni.IsSupported
        ? "bf16: vpslld / vpandd (even/odd halves), vfmadd231ps; int8: vpsignb + vpdpbusd (AVX-VNNI)"
        : "bf16: vpslld / vpandd (even/odd halves), vfmadd231ps; int8: steps vpsignb, vpmaddubsw + vpmaddwd; projection vpmovzx/sxbw + vpmaddwd (no AVX-VNNI)";

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Fold(V v) => v.GetLower() + v.GetUpper();
}
