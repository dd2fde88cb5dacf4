namespace RecurrentCore.Kernels.Operators;

/// <summary>An elementwise float function <c>y = f(x)</c>, written once over any <see cref="ILanes{TSelf}"/> register.</summary>
internal interface IUnaryOperator
{
    /// <summary>Applies the function to every lane.</summary>
    static abstract TL Invoke<TL>(TL x)
        where TL : unmanaged, ILanes<TL>;
}
