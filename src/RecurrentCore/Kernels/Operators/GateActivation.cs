namespace RecurrentCore.Kernels.Operators;

/// <summary>The activation functions of the ONNX RNN, LSTM and GRU operators, as the kernels know them.</summary>
internal enum GateFunction
{
    Relu,
    Tanh,
    Sigmoid,
    Affine,
    LeakyRelu,
    ThresholdedRelu,
    ScaledTanh,
    HardSigmoid,
    Elu,
    Softsign,
    Softplus,
}

/// <summary>
/// One gate activation with its α and β, applied as one vectorised pass over a span: the function is chosen once per
/// pass (a switch per call, never per element), so a cell can take any of them per gate and direction at run time.
/// </summary>
/// <param name="Function">The function.</param>
/// <param name="Alpha">α (ignored by functions without one).</param>
/// <param name="Beta">β (ignored by functions without one).</param>
internal readonly record struct GateActivation(GateFunction Function, float Alpha = 0f, float Beta = 0f)
{
    /// <summary><c>y[i] = f(x[i]; α, β)</c>; <paramref name="y"/> may be <paramref name="x"/>.</summary>
    /// <exception cref="ArgumentException">Lengths differ, spans partially overlap, or the variant is unsupported.</exception>
    public void Apply(ReadOnlySpan<float> x, Span<float> y, KernelVariant variant)
    {
        switch (Function)
        {
            case GateFunction.Relu: ParametricDriver.Invoke<Unparametrised<ReluOperator>>(x, y, Alpha, Beta, variant); break;
            case GateFunction.Tanh: ParametricDriver.Invoke<Unparametrised<TanhOperator>>(x, y, Alpha, Beta, variant); break;
            case GateFunction.Sigmoid: ParametricDriver.Invoke<Unparametrised<SigmoidOperator>>(x, y, Alpha, Beta, variant); break;
            case GateFunction.Affine: ParametricDriver.Invoke<AffineOperator>(x, y, Alpha, Beta, variant); break;
            case GateFunction.LeakyRelu: ParametricDriver.Invoke<LeakyReluOperator>(x, y, Alpha, Beta, variant); break;
            case GateFunction.ThresholdedRelu: ParametricDriver.Invoke<ThresholdedReluOperator>(x, y, Alpha, Beta, variant); break;
            case GateFunction.ScaledTanh: ParametricDriver.Invoke<ScaledTanhOperator>(x, y, Alpha, Beta, variant); break;
            case GateFunction.HardSigmoid: ParametricDriver.Invoke<HardSigmoidOperator>(x, y, Alpha, Beta, variant); break;
            case GateFunction.Elu: ParametricDriver.Invoke<EluOperator>(x, y, Alpha, Beta, variant); break;
            case GateFunction.Softsign: ParametricDriver.Invoke<SoftsignOperator>(x, y, Alpha, Beta, variant); break;
            case GateFunction.Softplus: ParametricDriver.Invoke<SoftplusOperator>(x, y, Alpha, Beta, variant); break;
            default: throw new InvalidOperationException($"unknown gate function {(int)Function}");
        }
    }

    /// <summary>In place: <c>v[i] = f(v[i]; α, β)</c>.</summary>
    public void Apply(Span<float> values, KernelVariant variant) => Apply(values, values, variant);

    /// <summary>
    /// In place: <c>v[i] = min(max(v[i], −clip), clip)</c>, ONNX's clip of the pre-activations; nothing when
    /// <paramref name="clip"/> is +Inf (no clip).
    /// </summary>
    public static void Clip(Span<float> values, float clip, KernelVariant variant)
    {
        if (!float.IsPositiveInfinity(clip))
        {
            ParametricDriver.Invoke<ClipOperator>(values, values, clip, 0f, variant);
        }
    }
}
