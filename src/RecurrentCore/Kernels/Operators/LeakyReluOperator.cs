using System.Runtime.CompilerServices;
using RecurrentCore.Kernels.Simd;

namespace RecurrentCore.Kernels.Operators;

/// <summary><c>y = x</c> for x ≥ 0, <c>α·x</c> otherwise; NaN → NaN.</summary>
internal readonly struct LeakyReluOperator : IParametricOperator
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Invoke<TS, TV>(TV x, TV alpha, TV beta)
        where TS : struct, ISimd<TV>
        where TV : unmanaged
        => TS.Select(TS.LessThan(x, TS.Zero), TS.Multiply(alpha, x), x);
}
