using System.Runtime.CompilerServices;
using RecurrentCore.Kernels.Simd;

namespace RecurrentCore.Kernels.Operators;

/// <summary>
/// <c>y = tanh(x) = sign(x)·(1 − e)/(1 + e)</c> with <c>e = exp(−2|x|)</c>, numerator and denominator each rounded
/// once from the same reduction (<see cref="ExpOperator.OffsetsNonPositive"/>: e − 1 does not cancel near 0, so no
/// separate small-|x| polynomial is needed); −2|x| is clamped at −20, where tanh already rounds to ±1. One exp-like
/// evaluation and one division: tanh sits on the one-row step's latency chain twice per LSTM step, and the earlier
/// form (Cephes <c>tanhf</c>'s polynomial below 0.625 and (1 − e)/(1 + e) above, both evaluated) cost eight more
/// operations (14 → 10 multiply-adds, 6 → 2 multiplies). tanh(±Inf) = ±1, tanh(±0) = ±0, NaN → NaN.
/// </summary>
internal readonly struct TanhOperator : IUnaryOperator
{
    // tanh(10) = 1 − 4.1e−9 rounds to 1 in float, as does everything beyond.
    private const float MinExpInput = -20f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Invoke<TS, TV>(TV x)
        where TS : struct, ISimd<TV>
        where TV : unmanaged
    {
        // Constant first: a NaN passes through the clamp and stays NaN.
        ExpOperator.OffsetsNonPositive<TS, TV>(TS.MaxNative(TS.Create(MinExpInput), TS.Multiply(TS.Create(-2f), TS.Abs(x))), out var minusOne, out var plusOne);

        // e − 1 ≤ 0, so the quotient is −tanh|x| (or ±0): its magnitude with x's sign.
        var t = TS.Divide(minusOne, plusOne);
        return TS.Or(TS.Abs(t), TS.And(x, TS.CreateBits(int.MinValue)));
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
