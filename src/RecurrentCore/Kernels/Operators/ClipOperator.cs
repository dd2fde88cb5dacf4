using System.Runtime.CompilerServices;
using RecurrentCore.Kernels.Simd;

namespace RecurrentCore.Kernels.Operators;

/// <summary><c>y = min(max(x, −α), α)</c>: ONNX's clip of the pre-activations (β unused); NaN → NaN.</summary>
internal readonly struct ClipOperator : IParametricOperator
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Invoke<TS, TV>(TV x, TV alpha, TV beta)
        where TS : struct, ISimd<TV>
        where TV : unmanaged
        => TS.MinNative(alpha, TS.MaxNative(TS.Subtract(TS.Zero, alpha), x));
}
