using RecurrentCore.Kernels.Simd;

namespace RecurrentCore.Kernels.Operators;

/// <summary>
/// An elementwise float function <c>y = f(x; α, β)</c> with two run-time parameters (the ONNX recurrent activations),
/// written once over any <see cref="ISimd{TV}"/> width; α and β arrive broadcast to every lane.
/// </summary>
internal interface IParametricOperator
{
    /// <summary>Applies the function to every lane.</summary>
    static abstract TV Invoke<TS, TV>(TV x, TV alpha, TV beta)
        where TS : struct, ISimd<TV>
        where TV : unmanaged;
}

/// <summary>An <see cref="IUnaryOperator"/> as a parametric one that ignores α and β (Relu, Tanh, Sigmoid).</summary>
internal readonly struct Unparametrised<TOp> : IParametricOperator
    where TOp : IUnaryOperator
{
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public static TV Invoke<TS, TV>(TV x, TV alpha, TV beta)
        where TS : struct, ISimd<TV>
        where TV : unmanaged
        => TOp.Invoke<TS, TV>(x);
}
