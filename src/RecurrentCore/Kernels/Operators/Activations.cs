namespace RecurrentCore.Kernels.Operators;

/// <summary>
/// Vectorised float32 activations and their derivatives from outputs, elementwise over spans.
/// The output may be the same span as the input (in place) but must not partially overlap it.
/// Error bounds against a double reference are in docs/numerics.md; every function is finite and saturates for
/// ±Inf and propagates NaN.
/// </summary>
internal static class Activations
{
    /// <summary><c>y[i] = exp(x[i])</c>. exp(−Inf) = 0, exp(+Inf) = +Inf, overflow gives +Inf.</summary>
    /// <param name="x">The inputs.</param>
    /// <param name="y">The outputs, same length as <paramref name="x"/>.</param>
    /// <param name="variant">The kernel variant; <see cref="KernelCatalog.Active"/> when null.</param>
    /// <exception cref="ArgumentException">Lengths differ, spans partially overlap, or the variant is unsupported.</exception>
    public static void Exp(ReadOnlySpan<float> x, Span<float> y, KernelVariant? variant = null) =>
        UnaryDriver.Invoke<ExpOperator>(x, y, Variants.Resolve(variant));

    /// <summary><c>y[i] = 1 / (1 + exp(−x[i]))</c>. σ(−Inf) = 0, σ(+Inf) = 1.</summary>
    /// <param name="x">The inputs.</param>
    /// <param name="y">The outputs, same length as <paramref name="x"/>.</param>
    /// <param name="variant">The kernel variant; <see cref="KernelCatalog.Active"/> when null.</param>
    /// <exception cref="ArgumentException">Lengths differ, spans partially overlap, or the variant is unsupported.</exception>
    public static void Sigmoid(ReadOnlySpan<float> x, Span<float> y, KernelVariant? variant = null) =>
        UnaryDriver.Invoke<SigmoidOperator>(x, y, Variants.Resolve(variant));

    /// <summary><c>y[i] = tanh(x[i])</c>. tanh(±Inf) = ±1.</summary>
    /// <param name="x">The inputs.</param>
    /// <param name="y">The outputs, same length as <paramref name="x"/>.</param>
    /// <param name="variant">The kernel variant; <see cref="KernelCatalog.Active"/> when null.</param>
    /// <exception cref="ArgumentException">Lengths differ, spans partially overlap, or the variant is unsupported.</exception>
    public static void Tanh(ReadOnlySpan<float> x, Span<float> y, KernelVariant? variant = null) =>
        UnaryDriver.Invoke<TanhOperator>(x, y, Variants.Resolve(variant));

    /// <summary><c>y[i] = max(0, x[i])</c>; NaN propagates.</summary>
    /// <param name="x">The inputs.</param>
    /// <param name="y">The outputs, same length as <paramref name="x"/>.</param>
    /// <param name="variant">The kernel variant; <see cref="KernelCatalog.Active"/> when null.</param>
    /// <exception cref="ArgumentException">Lengths differ, spans partially overlap, or the variant is unsupported.</exception>
    public static void Relu(ReadOnlySpan<float> x, Span<float> y, KernelVariant? variant = null) =>
        UnaryDriver.Invoke<ReluOperator>(x, y, Variants.Resolve(variant));

    /// <summary><c>d[i] = s[i]·(1 − s[i])</c>: the sigmoid's derivative from its output <c>s = σ(x)</c>.</summary>
    /// <param name="s">Sigmoid outputs.</param>
    /// <param name="d">The derivatives, same length as <paramref name="s"/>.</param>
    /// <param name="variant">The kernel variant; <see cref="KernelCatalog.Active"/> when null.</param>
    /// <exception cref="ArgumentException">Lengths differ, spans partially overlap, or the variant is unsupported.</exception>
    public static void SigmoidDerivativeFromOutput(ReadOnlySpan<float> s, Span<float> d, KernelVariant? variant = null) =>
        UnaryDriver.Invoke<SigmoidDerivativeFromOutputOperator>(s, d, Variants.Resolve(variant));

    /// <summary><c>d[i] = 1 − t[i]²</c>: tanh's derivative from its output <c>t = tanh(x)</c>.</summary>
    /// <param name="t">Tanh outputs.</param>
    /// <param name="d">The derivatives, same length as <paramref name="t"/>.</param>
    /// <param name="variant">The kernel variant; <see cref="KernelCatalog.Active"/> when null.</param>
    /// <exception cref="ArgumentException">Lengths differ, spans partially overlap, or the variant is unsupported.</exception>
    public static void TanhDerivativeFromOutput(ReadOnlySpan<float> t, Span<float> d, KernelVariant? variant = null) =>
        UnaryDriver.Invoke<TanhDerivativeFromOutputOperator>(t, d, Variants.Resolve(variant));
}
