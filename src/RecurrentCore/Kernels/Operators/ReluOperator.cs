using System.Runtime.CompilerServices;
using RecurrentCore.Kernels.Simd;

namespace RecurrentCore.Kernels.Operators;

/// <summary><c>y = max(0, x)</c>; NaN → NaN (the data is the second operand of <c>maxps</c>).</summary>
internal readonly struct ReluOperator : IUnaryOperator
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Invoke<TS, TV>(TV x)
        where TS : struct, ISimd<TV>
        where TV : unmanaged
        => TS.MaxNative(TS.Create(0f), x);
}
