using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;
using V = System.Runtime.Intrinsics.Vector128<float>;

namespace RecurrentCore.Kernels.Simd;

/// <summary>
/// The <see cref="KernelVariant.Vector128"/> width: 4 lanes of the portable Vector128 (SSE/AdvSIMD, fused where the
/// hardware fuses); also the 4-lane remainder of the wider variants' gate and activation loops and their horizontal sums.
/// </summary>
[SimdWidthTemplate(typeof(V))]
internal readonly unsafe partial struct Simd128 : ISimd<V>
{
    public static bool IsSupported => Vector128.IsHardwareAccelerated;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V MultiplyAdd(V a, V b, V c) => Vector128.MultiplyAddEstimate(a, b, c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float MultiplyAddScalar(float a, float b, float c) => HasFma ? MathF.FusedMultiplyAdd(a, b, c) : (a * b) + c;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(V value) => (value.GetElement(0) + value.GetElement(2)) + (value.GetElement(1) + value.GetElement(3));

    /// <summary>Whether <see cref="Transpose4"/> exists here (SSE: eight shuffles).</summary>
    public static bool HasNativeTranspose4 => Sse.IsSupported;

    /// <summary>
    /// Transposes in place the 4×4 block whose rows are <paramref name="r0"/>..<paramref name="r3"/>. Only where
    /// <see cref="HasNativeTranspose4"/>: elsewhere sixteen element moves would be no faster than the callers' scalar copy.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Transpose4(ref V r0, ref V r1, ref V r2, ref V r3)
    {
        var t0 = Sse.UnpackLow(r0, r1);
        var t1 = Sse.UnpackHigh(r0, r1);
        var t2 = Sse.UnpackLow(r2, r3);
        var t3 = Sse.UnpackHigh(r2, r3);
        r0 = Sse.MoveLowToHigh(t0, t2);
        r1 = Sse.MoveHighToLow(t2, t0);
        r2 = Sse.MoveLowToHigh(t1, t3);
        r3 = Sse.MoveHighToLow(t3, t1);
    }

    /// <remarks>Transposed so the tree's two levels serve all four registers at once.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreSums4(V v0, V v1, V v2, V v3, float* y, bool accumulate)
    {
        V sums;
        if (Sse.IsSupported)
        {
            var s01 = Sse.UnpackLow(v0, v1) + Sse.UnpackHigh(v0, v1);
            var s23 = Sse.UnpackLow(v2, v3) + Sse.UnpackHigh(v2, v3);
            sums = Sse.MoveLowToHigh(s01, s23) + Sse.MoveHighToLow(s23, s01);
        }
        else
        {
            sums = Vector128.Create(Sum(v0), Sum(v1), Sum(v2), Sum(v3));
        }

        Vector128.Store(accumulate ? Vector128.Load(y) + sums : sums, y);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Prefetch(float* address)
    {
        if (Sse.IsSupported)
        {
            Sse.Prefetch0(address);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V DotBytes(V accumulator, byte* u, sbyte* s)
    {
        // Portable: widen to 16 bits, multiply (|u·s| ≤ 255·128 fits), widen the products to 32 bits and add.
        var ub = Vector128.Load(u);
        var sb = Vector128.Load(s);
        var p0 = Vector128.WidenLower(ub).AsInt16() * Vector128.WidenLower(sb);
        var p1 = Vector128.WidenUpper(ub).AsInt16() * Vector128.WidenUpper(sb);
        var sum = (Vector128.WidenLower(p0) + Vector128.WidenUpper(p0)) + (Vector128.WidenLower(p1) + Vector128.WidenUpper(p1));
        return (accumulator.AsInt32() + sum).AsSingle();
    }

    public static bool HasNativeByteDot => false;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V WidenBytes(sbyte* s) => Vector128.WidenLower(Vector128.CreateScalar(*(long*)s).AsSByte()).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V WidenBytes(byte* u) => Vector128.WidenLower(Vector128.CreateScalar(*(long*)u).AsByte()).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V MultiplyAddPairs(V accumulator, V a, V b)
    {
        if (Sse2.IsSupported)
        {
            return (accumulator.AsInt32() + Sse2.MultiplyAddAdjacent(a.AsInt16(), b.AsInt16())).AsSingle();
        }

        // Portable: |u·s| ≤ 255·128 fits a 16-bit product; widen the products to 32 bits and add.
        var p = a.AsInt16() * b.AsInt16();
        return (accumulator.AsInt32() + Vector128.WidenLower(p) + Vector128.WidenUpper(p)).AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V SignBytes(V value, V signs)
    {
        if (Ssse3.IsSupported)
        {
            return Ssse3.Sign(value.AsSByte(), signs.AsSByte()).AsSingle();
        }

        var v = value.AsSByte();
        return Vector128.ConditionalSelect(Vector128.LessThan(signs.AsSByte(), Vector128<sbyte>.Zero), -v, v).AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V DotQuads(V accumulator, V u, V s)
    {
        if (Ssse3.IsSupported)
        {
            return (accumulator.AsInt32() + Sse2.MultiplyAddAdjacent(Ssse3.MultiplyAddAdjacent(u.AsByte(), s.AsSByte()), Vector128.Create((short)1))).AsSingle();
        }

        // Portable: each lane's four products, exact in 32 bits.
        var ub = u.AsByte();
        var sb = s.AsSByte();
        return (accumulator.AsInt32() + Vector128.Create(
            (int)(ub.GetElement(0) * sb.GetElement(0)) + (ub.GetElement(1) * sb.GetElement(1)) + (ub.GetElement(2) * sb.GetElement(2)) + (ub.GetElement(3) * sb.GetElement(3)),
            (ub.GetElement(4) * sb.GetElement(4)) + (ub.GetElement(5) * sb.GetElement(5)) + (ub.GetElement(6) * sb.GetElement(6)) + (ub.GetElement(7) * sb.GetElement(7)),
            (ub.GetElement(8) * sb.GetElement(8)) + (ub.GetElement(9) * sb.GetElement(9)) + (ub.GetElement(10) * sb.GetElement(10)) + (ub.GetElement(11) * sb.GetElement(11)),
            (ub.GetElement(12) * sb.GetElement(12)) + (ub.GetElement(13) * sb.GetElement(13)) + (ub.GetElement(14) * sb.GetElement(14)) + (ub.GetElement(15) * sb.GetElement(15)))).AsSingle();
    }

    public static string QuantizedInstructions => "bf16: shift / and (even/odd halves), fused multiply-add; int8: steps psignb, pmaddubsw + pmaddwd (portable: per-lane products); projection pmaddwd on widened bytes";

    /// <summary>Fused where the hardware fuses (x86 FMA3, Arm AdvSIMD); a separate multiply and add elsewhere, never a software fma.</summary>
    private static bool HasFma => Fma.IsSupported || AdvSimd.IsSupported;
}
