using System.Runtime.CompilerServices;
using RecurrentCore.Kernels.Simd;

namespace RecurrentCore.Kernels.Operators;

/// <summary><c>y = α·tanh(β·x)</c> with <see cref="TanhOperator"/>.</summary>
internal readonly struct ScaledTanhOperator : IParametricOperator
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Invoke<TS, TV>(TV x, TV alpha, TV beta)
        where TS : struct, ISimd<TV>
        where TV : unmanaged
        => TS.Multiply(alpha, TanhOperator.Invoke<TS, TV>(TS.Multiply(beta, x)));
}
