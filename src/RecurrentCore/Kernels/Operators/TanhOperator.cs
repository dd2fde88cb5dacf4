using System.Runtime.CompilerServices;

namespace RecurrentCore.Kernels.Operators;

/// <summary>
/// <c>y = tanh(x)</c>. For |x| &lt; 0.625 the odd polynomial <c>x + x·z·P(z)</c>, z = x², of Cephes <c>tanhf</c>
/// (S. L. Moshier, Cephes Math Library 2.2, <c>tanhf.c</c>); above, <c>(1 − e)/(1 + e)</c> with <c>e = exp(−2|x|)</c>,
/// which cannot overflow; the sign of x is copied onto the result. tanh(±Inf) = ±1, NaN → NaN.
/// </summary>
internal readonly struct TanhOperator : IUnaryOperator
{
    private const float SmallLimit = 0.625f;
    private const float Q0 = -5.70498872745e-3f;
    private const float Q1 = 2.06390887954e-2f;
    private const float Q2 = -5.37397155531e-2f;
    private const float Q3 = 1.33314422036e-1f;
    private const float Q4 = -3.33332819422e-1f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TL Invoke<TL>(TL x)
        where TL : unmanaged, ILanes<TL>
    {
        var one = TL.Create(1f);
        var ax = TL.Abs(x);

        var e = ExpOperator.Invoke(TL.Create(-2f) * ax);
        var large = (one - e) / (one + e);

        var z = ax * ax;
        var q = TL.MultiplyAdd(TL.Create(Q0), z, TL.Create(Q1));
        q = TL.MultiplyAdd(q, z, TL.Create(Q2));
        q = TL.MultiplyAdd(q, z, TL.Create(Q3));
        q = TL.MultiplyAdd(q, z, TL.Create(Q4));
        var small = TL.MultiplyAdd(q * z, ax, ax);

        // A NaN fails the comparison and takes the exp branch, which keeps it NaN.
        var magnitude = TL.Select(TL.LessThan(ax, TL.Create(SmallLimit)), small, large);
        return magnitude | (x & TL.CreateBits(int.MinValue));
    }
}

/// <summary>
/// <c>tanh'(x) = 1 − y²</c> from the output <c>y = tanh(x)</c>, as <c>(1 − y)·(1 + y)</c>: one factor is exact for
/// |y| ≥ ½, so the result stays within about 1.5 ULP with or without FMA, where <c>1 − y·y</c> would cancel near |y| = 1.
/// </summary>
internal readonly struct TanhDerivativeFromOutputOperator : IUnaryOperator
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TL Invoke<TL>(TL x)
        where TL : unmanaged, ILanes<TL>
    {
        var one = TL.Create(1f);
        return (one - x) * (one + x);
    }
}
