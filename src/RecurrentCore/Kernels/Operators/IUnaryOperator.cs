using RecurrentCore.Kernels.Simd;

namespace RecurrentCore.Kernels.Operators;

/// <summary>An elementwise float function <c>y = f(x)</c>, written once over any <see cref="ISimd{TV}"/> width.</summary>
internal interface IUnaryOperator
{
    /// <summary>Applies the function to every lane.</summary>
    static abstract TV Invoke<TS, TV>(TV x)
        where TS : struct, ISimd<TV>
        where TV : unmanaged;
}
