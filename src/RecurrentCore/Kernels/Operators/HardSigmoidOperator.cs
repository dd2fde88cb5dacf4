using System.Runtime.CompilerServices;
using RecurrentCore.Kernels.Simd;

namespace RecurrentCore.Kernels.Operators;

/// <summary><c>y = min(max(α·x + β, 0), 1)</c>; NaN → NaN (constants first in min/max).</summary>
internal readonly struct HardSigmoidOperator : IParametricOperator
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Invoke<TS, TV>(TV x, TV alpha, TV beta)
        where TS : struct, ISimd<TV>
        where TV : unmanaged
        => TS.MinNative(TS.Create(1f), TS.MaxNative(TS.Zero, TS.MultiplyAdd(alpha, x, beta)));
}
