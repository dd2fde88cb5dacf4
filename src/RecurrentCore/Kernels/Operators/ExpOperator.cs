using System.Runtime.CompilerServices;
using RecurrentCore.Kernels.Simd;

namespace RecurrentCore.Kernels.Operators;

/// <summary>
/// <c>y = exp(x)</c>: Cody–Waite reduction <c>x = n·ln2 + r</c>, |r| ≤ ln2/2, then the degree-7 polynomial of Cephes
/// <c>expf</c> (S. L. Moshier, Cephes Math Library 2.2, <c>expf.c</c>) by Estrin's scheme, scaled by 2^n in two steps so that results in
/// the subnormal range round once and x &gt; ln(FLT_MAX) overflows to +Inf. exp(−Inf) = 0, exp(+Inf) = +Inf, NaN → NaN.
/// </summary>
internal readonly struct ExpOperator : IUnaryOperator
{
    // Inputs are clamped here: above, the result is +Inf; below, it rounds to 0 (exp(-104) < 2^-150).
    private const float MaxInput = 88.8f;
    private const float MinInput = -104f;
    private const float Log2E = 1.44269504088896341f;

    // 1.5·2^23: adding it rounds to an integer that then sits in the low mantissa bits.
    private const float Shifter = 12582912f;

    // ln2 = Ln2Hi + Ln2Lo; Ln2Hi has 9 significant bits so n·Ln2Hi is exact for |n| ≤ 150.
    private const float Ln2Hi = 0.693359375f;
    private const float Ln2Lo = -2.12194440e-4f;

    // ln2 rounded to float (0.693147182464599609375; ln2 − Ln2 = −1.9e−9).
    private const float Ln2 = 0.693147182f;

    private const float P0 = 1.9875691500e-4f;
    private const float P1 = 1.3981999507e-3f;
    private const float P2 = 8.3334519073e-3f;
    private const float P3 = 4.1665795894e-2f;
    private const float P4 = 1.6666665459e-1f;
    private const float P5 = 5.0000001201e-1f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Invoke<TS, TV>(TV x)
        where TS : struct, ISimd<TV>
        where TV : unmanaged =>
        // Constant first: a NaN x passes through both clamps.
        Reduced<TS, TV>(TS.MaxNative(TS.Create(MinInput), TS.MinNative(TS.Create(MaxInput), x)));

    /// <summary>
    /// exp(x) for x ≤ 0 (or NaN), bit for bit <see cref="Invoke{TS, TV}"/> there: the upper clamp cannot bind, and
    /// leaving it out takes one operation off the latency chain of σ and tanh, which only ever pass −|x|.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV InvokeNonPositive<TS, TV>(TV x)
        where TS : struct, ISimd<TV>
        where TV : unmanaged =>
        Reduced<TS, TV>(TS.MaxNative(TS.Create(MinInput), x));

    /// <summary>
    /// <c>eˣ − 1</c> and <c>eˣ + 1</c>, each rounded once, for x ∈ [−20, 0] (or NaN) that the caller has clamped:
    /// <c>2^n·q + (2^n ∓ 1)</c> with <c>q = r + r²·P(r)</c> of the same polynomial, so eˣ − 1 does not cancel near 0
    /// (n = 0 gives q itself); 2^n is one normal float on this range and 2^n ± 1 is exact for n ≥ −23 (for n down to
    /// −29, where tanh is within 2^−24 of ±1, the sum rounds twice; the exhaustive sweep's worst case, 1.961 ULP, is
    /// elsewhere). The reduction is one multiply-add with ln2 rounded to float (<see cref="Ln2"/>): on this range
    /// |n| ≤ 29, so r is off by at most |n|·|ln2 − Ln2| ≤ 5.5e−8, which moves eˣ by that relative amount and eˣ ∓ 1 by at
    /// most about 4.6e−9 of their size (at n = −1, where 1 − eˣ can be as small as 0.29; less beyond), well below half
    /// an ULP. tanh waits on this twice per step: one multiply-add less.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void OffsetsNonPositive<TS, TV>(TV x, out TV minusOne, out TV plusOne)
        where TS : struct, ISimd<TV>
        where TV : unmanaged
    {
        var shifted = TS.MultiplyAdd(x, TS.Create(Log2E), TS.Create(Shifter));
        var r = TS.MultiplyAdd(TS.Subtract(shifted, TS.Create(Shifter)), TS.Create(-Ln2), x);
        var p = Estrin<TS, TV>(r, out var r2);
        var q = TS.MultiplyAdd(p, r2, r);
        var s = TS.IntShiftLeft(TS.IntAdd(TS.IntSubtract(shifted, TS.Create(Shifter)), TS.CreateBits(127)), 23);
        var one = TS.Create(1f);
        minusOne = TS.MultiplyAdd(s, q, TS.Subtract(s, one));
        plusOne = TS.MultiplyAdd(s, q, TS.Add(s, one));
    }

    /// <summary>exp(x) for x already clamped to [MinInput, MaxInput] (or NaN).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV Reduced<TS, TV>(TV x)
        where TS : struct, ISimd<TV>
        where TV : unmanaged
    {
        var p = Polynomial<TS, TV>(x, out var shifted, out var r, out var r2);
        p = TS.MultiplyAdd(p, r2, TS.Add(r, TS.Create(1f)));

        // n ∈ [-150, 128] as an integer; 2^n = 2^(n>>1) · 2^(n - (n>>1)), both factors normal floats.
        var k = TS.IntSubtract(shifted, TS.Create(Shifter));
        var k1 = TS.IntShiftRightArithmetic(k, 1);
        var k2 = TS.IntSubtract(k, k1);
        var bias = TS.CreateBits(127);
        var s1 = TS.IntShiftLeft(TS.IntAdd(k1, bias), 23);
        var s2 = TS.IntShiftLeft(TS.IntAdd(k2, bias), 23);
        return TS.Multiply(TS.Multiply(p, s1), s2);
    }

    /// <summary>
    /// Cody–Waite reduction <c>x = n·ln2 + r</c> (<paramref name="shifted"/> holds n in its low mantissa bits) and
    /// <c>P(r) = P5 + P4·r + … + P0·r⁵</c>, with eʳ = 1 + r + r²·P(r).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV Polynomial<TS, TV>(TV x, out TV shifted, out TV r, out TV r2)
        where TS : struct, ISimd<TV>
        where TV : unmanaged
    {
        shifted = TS.MultiplyAdd(x, TS.Create(Log2E), TS.Create(Shifter));
        var n = TS.Subtract(shifted, TS.Create(Shifter));
        r = TS.MultiplyAdd(n, TS.Create(-Ln2Hi), x);
        r = TS.MultiplyAdd(n, TS.Create(-Ln2Lo), r);
        return Estrin<TS, TV>(r, out r2);
    }

    /// <summary><c>P(r)</c> by Estrin's scheme, and r².</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV Estrin<TS, TV>(TV r, out TV r2)
        where TS : struct, ISimd<TV>
        where TV : unmanaged
    {
        // Three independent pairs, joined by r², so the chain is three fused multiply-adds deep where Horner's is five
        // (the step kernels wait on exp twice per step).
        r2 = TS.Multiply(r, r);
        var a = TS.MultiplyAdd(TS.Create(P4), r, TS.Create(P5));
        var b = TS.MultiplyAdd(TS.Create(P2), r, TS.Create(P3));
        var c = TS.MultiplyAdd(TS.Create(P0), r, TS.Create(P1));
        return TS.MultiplyAdd(r2, TS.MultiplyAdd(r2, c, b), a);
    }
}
