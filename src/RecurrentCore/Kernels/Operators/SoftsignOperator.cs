using System.Runtime.CompilerServices;
using RecurrentCore.Kernels.Simd;

namespace RecurrentCore.Kernels.Operators;

/// <summary><c>y = x / (1 + |x|)</c>; ±Inf → NaN as in the reference's x / (1 + |x|) (never reached from finite inputs).</summary>
internal readonly struct SoftsignOperator : IParametricOperator
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Invoke<TS, TV>(TV x, TV alpha, TV beta)
        where TS : struct, ISimd<TV>
        where TV : unmanaged
        => TS.Divide(x, TS.Add(TS.Create(1f), TS.Abs(x)));
}
