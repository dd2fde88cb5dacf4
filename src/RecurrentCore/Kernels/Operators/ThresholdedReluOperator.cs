using System.Runtime.CompilerServices;
using RecurrentCore.Kernels.Simd;

namespace RecurrentCore.Kernels.Operators;

/// <summary><c>y = x</c> for x &gt; α, 0 otherwise (NaN → 0, as <c>x &gt; α ? x : 0</c> in the reference).</summary>
internal readonly struct ThresholdedReluOperator : IParametricOperator
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Invoke<TS, TV>(TV x, TV alpha, TV beta)
        where TS : struct, ISimd<TV>
        where TV : unmanaged
        => TS.Select(TS.LessThan(alpha, x), x, TS.Zero);
}
