using System.Runtime.CompilerServices;
using RecurrentCore.Kernels.Simd;

namespace RecurrentCore.Kernels.Operators;

/// <summary>
/// <c>y = ln(1 + eˣ)</c> as <c>max(x, 0) + ln(1 + u)</c>, u = e^−|x| ≤ 1, which cannot overflow; ln(1 + u) is
/// <c>ln(w)·u / (w − 1)</c> with w = 1 + u (Goldberg, What Every Computer Scientist Should Know About Floating-Point
/// Arithmetic, Theorem 4), exact in u when w rounds to 1, so softplus of very negative x keeps its relative accuracy.
/// softplus(+Inf) = +Inf, softplus(−Inf) = 0, NaN → NaN.
/// </summary>
internal readonly struct SoftplusOperator : IParametricOperator
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Invoke<TS, TV>(TV x, TV alpha, TV beta)
        where TS : struct, ISimd<TV>
        where TV : unmanaged
    {
        var one = TS.Create(1f);
        var u = ExpOperator.Invoke<TS, TV>(TS.Subtract(TS.Zero, TS.Abs(x)));
        var w = TS.Add(one, u);
        var log1p = TS.Divide(TS.Multiply(LogOperator.Invoke<TS, TV>(w), u), TS.Subtract(w, one));
        log1p = TS.Select(TS.LessThanOrEqual(w, one), u, log1p);
        return TS.Add(TS.MaxNative(TS.Zero, x), log1p);
    }
}
