using System.Runtime.CompilerServices;
using RecurrentCore.Kernels.Simd;

namespace RecurrentCore.Kernels.Operators;

/// <summary>
/// <c>y = x</c> for x ≥ 0, <c>α·(eˣ − 1)</c> otherwise. eˣ − 1 keeps its relative accuracy near 0 by Kahan's
/// <c>(u − 1)·x / ln u</c>, u = eˣ (W. Kahan; Higham, Accuracy and Stability of Numerical Algorithms, §1.14.1), which
/// cancels the rounding error of u; below −½ the plain u − 1 has no cancellation. NaN → NaN.
/// </summary>
internal readonly struct EluOperator : IParametricOperator
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Invoke<TS, TV>(TV x, TV alpha, TV beta)
        where TS : struct, ISimd<TV>
        where TV : unmanaged
    {
        var one = TS.Create(1f);
        var u = ExpOperator.Invoke<TS, TV>(TS.MinNative(TS.Zero, x));
        var um1 = TS.Subtract(u, one);
        var kahan = TS.Divide(TS.Multiply(um1, x), LogOperator.Invoke<TS, TV>(u));
        kahan = TS.Select(TS.LessThanOrEqual(one, u), x, kahan);
        var expm1 = TS.Select(TS.LessThan(x, TS.Create(-0.5f)), um1, kahan);
        return TS.Select(TS.LessThan(x, TS.Zero), TS.Multiply(alpha, expm1), x);
    }
}
