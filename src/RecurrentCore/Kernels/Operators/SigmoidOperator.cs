using System.Runtime.CompilerServices;

namespace RecurrentCore.Kernels.Operators;

/// <summary>
/// <c>y = σ(x) = 1 / (1 + e^−x)</c>, evaluated as <c>(x ≥ 0 ? 1 : e) / (1 + e)</c> with <c>e = exp(−|x|)</c> so that
/// nothing overflows and σ(x) for very negative x keeps full relative accuracy down to the subnormals.
/// σ(−Inf) = 0, σ(+Inf) = 1, NaN → NaN.
/// </summary>
internal readonly struct SigmoidOperator : IUnaryOperator
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TL Invoke<TL>(TL x)
        where TL : unmanaged, ILanes<TL>
    {
        var one = TL.Create(1f);
        var e = ExpOperator.Invoke(TL.Create(0f) - TL.Abs(x));
        var numerator = TL.Select(TL.LessThan(x, TL.Create(0f)), e, one);
        return numerator / (one + e);
    }
}

/// <summary>
/// <c>σ'(x) = y·(1 − y)</c> from the output <c>y = σ(x)</c>. <c>1 − y</c> is exact for y ≥ ½ (Sterbenz), so the result
/// stays within about 1 ULP with or without FMA, where <c>y − y·y</c> would cancel.
/// </summary>
internal readonly struct SigmoidDerivativeFromOutputOperator : IUnaryOperator
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TL Invoke<TL>(TL x)
        where TL : unmanaged, ILanes<TL>
        => x * (TL.Create(1f) - x);
}
