using System.Runtime.CompilerServices;
using RecurrentCore.Kernels.Simd;

namespace RecurrentCore.Kernels.Operators;

/// <summary>
/// <c>y = σ(x) = 1 / (1 + e^−x)</c>, evaluated as <c>(x ≥ 0 ? 1 : e) / (1 + e)</c> with <c>e = exp(−|x|)</c> so that
/// nothing overflows and σ(x) for very negative x keeps full relative accuracy down to the subnormals.
/// σ(−Inf) = 0, σ(+Inf) = 1, NaN → NaN.
/// </summary>
internal readonly struct SigmoidOperator : IUnaryOperator
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Invoke<TS, TV>(TV x)
        where TS : struct, ISimd<TV>
        where TV : unmanaged
    {
        var one = TS.Create(1f);
        // −|x| as one OR of the sign bit (the exp input is never positive, so its upper clamp is left out).
        var e = ExpOperator.InvokeNonPositive<TS, TV>(TS.Or(x, TS.CreateBits(int.MinValue)));
        var numerator = TS.Select(TS.LessThan(x, TS.Create(0f)), e, one);
        return TS.Divide(numerator, TS.Add(one, e));
    }
}

/// <summary>
/// <c>σ'(x) = y·(1 − y)</c> from the output <c>y = σ(x)</c>. <c>1 − y</c> is exact for y ≥ ½ (Sterbenz), so the result
/// stays within about 1 ULP with or without FMA, where <c>y − y·y</c> would cancel.
/// </summary>
internal readonly struct SigmoidDerivativeFromOutputOperator : IUnaryOperator
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Invoke<TS, TV>(TV x)
        where TS : struct, ISimd<TV>
        where TV : unmanaged
        => TS.Multiply(x, TS.Subtract(TS.Create(1f), x));
}
