using System.Runtime.CompilerServices;
using RecurrentCore.Kernels.Simd;

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
    public static TV Invoke<TS, TV>(TV x)
        where TS : struct, ISimd<TV>
        where TV : unmanaged
    {
        var one = TS.Create(1f);
        var ax = TS.Abs(x);

        var e = ExpOperator.InvokeNonPositive<TS, TV>(TS.Multiply(TS.Create(-2f), ax));
        var large = TS.Divide(TS.Subtract(one, e), TS.Add(one, e));

        var z = TS.Multiply(ax, ax);
        var q = TS.MultiplyAdd(TS.Create(Q0), z, TS.Create(Q1));
        q = TS.MultiplyAdd(q, z, TS.Create(Q2));
        q = TS.MultiplyAdd(q, z, TS.Create(Q3));
        q = TS.MultiplyAdd(q, z, TS.Create(Q4));
        var small = TS.MultiplyAdd(TS.Multiply(q, z), ax, ax);

        // A NaN fails the comparison and takes the exp branch, which keeps it NaN.
        var magnitude = TS.Select(TS.LessThan(ax, TS.Create(SmallLimit)), small, large);
        return TS.Or(magnitude, TS.And(x, TS.CreateBits(int.MinValue)));
    }
}

/// <summary>
/// <c>tanh'(x) = 1 − y²</c> from the output <c>y = tanh(x)</c>, as <c>(1 − y)·(1 + y)</c>: one factor is exact for
/// |y| ≥ ½, so the result stays within about 1.5 ULP with or without FMA, where <c>1 − y·y</c> would cancel near |y| = 1.
/// </summary>
internal readonly struct TanhDerivativeFromOutputOperator : IUnaryOperator
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Invoke<TS, TV>(TV x)
        where TS : struct, ISimd<TV>
        where TV : unmanaged
    {
        var one = TS.Create(1f);
        return TS.Multiply(TS.Subtract(one, x), TS.Add(one, x));
    }
}
