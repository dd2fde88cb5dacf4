using System.Runtime.CompilerServices;

namespace RecurrentCore.Kernels.Operators;

/// <summary>
/// <c>y = exp(x)</c>: Cody–Waite reduction <c>x = n·ln2 + r</c>, |r| ≤ ln2/2, then the degree-7 polynomial of Cephes
/// <c>expf</c> (S. L. Moshier, Cephes Math Library 2.2, <c>expf.c</c>), scaled by 2^n in two steps so that results in
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

    private const float P0 = 1.9875691500e-4f;
    private const float P1 = 1.3981999507e-3f;
    private const float P2 = 8.3334519073e-3f;
    private const float P3 = 4.1665795894e-2f;
    private const float P4 = 1.6666665459e-1f;
    private const float P5 = 5.0000001201e-1f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TL Invoke<TL>(TL x)
        where TL : unmanaged, ILanes<TL>
    {
        // Constant first: a NaN x passes through both clamps.
        x = TL.MaxNative(TL.Create(MinInput), TL.MinNative(TL.Create(MaxInput), x));

        var shifted = TL.MultiplyAdd(x, TL.Create(Log2E), TL.Create(Shifter));
        var n = shifted - TL.Create(Shifter);
        var r = TL.MultiplyAdd(n, TL.Create(-Ln2Hi), x);
        r = TL.MultiplyAdd(n, TL.Create(-Ln2Lo), r);

        var p = TL.MultiplyAdd(TL.Create(P0), r, TL.Create(P1));
        p = TL.MultiplyAdd(p, r, TL.Create(P2));
        p = TL.MultiplyAdd(p, r, TL.Create(P3));
        p = TL.MultiplyAdd(p, r, TL.Create(P4));
        p = TL.MultiplyAdd(p, r, TL.Create(P5));
        var one = TL.Create(1f);
        p = TL.MultiplyAdd(p, r * r, r + one);

        // n ∈ [-150, 128] as an integer; 2^n = 2^(n>>1) · 2^(n - (n>>1)), both factors normal floats.
        var k = TL.IntSubtract(shifted, TL.Create(Shifter));
        var k1 = TL.IntShiftRightArithmetic(k, 1);
        var k2 = TL.IntSubtract(k, k1);
        var bias = TL.CreateBits(127);
        var s1 = TL.IntShiftLeft(TL.IntAdd(k1, bias), 23);
        var s2 = TL.IntShiftLeft(TL.IntAdd(k2, bias), 23);
        return p * s1 * s2;
    }
}
