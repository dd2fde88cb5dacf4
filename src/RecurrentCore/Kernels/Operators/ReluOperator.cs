using System.Runtime.CompilerServices;

namespace RecurrentCore.Kernels.Operators;

/// <summary><c>y = max(0, x)</c>; NaN → NaN (the data is the second operand of <c>maxps</c>).</summary>
internal readonly struct ReluOperator : IUnaryOperator
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TL Invoke<TL>(TL x)
        where TL : unmanaged, ILanes<TL>
        => TL.MaxNative(TL.Create(0f), x);
}
