namespace RecurrentCore.Reference;

/// <summary>The activation functions of the ONNX RNN, LSTM and GRU operators (https://onnx.ai/onnx/operators/onnx__RNN.html).</summary>
public enum ActivationFunction
{
    /// <summary>max(0, x).</summary>
    Relu,

    /// <summary>tanh(x).</summary>
    Tanh,

    /// <summary>1 / (1 + e^−x).</summary>
    Sigmoid,

    /// <summary>α·x + β.</summary>
    Affine,

    /// <summary>x for x ≥ 0, α·x otherwise (default α = 0.01).</summary>
    LeakyRelu,

    /// <summary>x for x &gt; α, 0 otherwise.</summary>
    ThresholdedRelu,

    /// <summary>α·tanh(β·x).</summary>
    ScaledTanh,

    /// <summary>min(max(α·x + β, 0), 1) (default α = 0.2, β = 0.5).</summary>
    HardSigmoid,

    /// <summary>x for x ≥ 0, α·(e^x − 1) otherwise (default α = 1).</summary>
    Elu,

    /// <summary>x / (1 + |x|).</summary>
    Softsign,

    /// <summary>log(1 + e^x).</summary>
    Softplus,
}

/// <summary>One activation function with its α and β (unused ones are ignored), evaluated in double precision.</summary>
/// <param name="Function">The function.</param>
/// <param name="Alpha">α, for the functions that take it.</param>
/// <param name="Beta">β, for the functions that take it.</param>
public readonly record struct RecurrentActivation(ActivationFunction Function, double Alpha = 0, double Beta = 0)
{
    /// <summary>σ.</summary>
    public static RecurrentActivation Sigmoid => new(ActivationFunction.Sigmoid);

    /// <summary>tanh.</summary>
    public static RecurrentActivation Tanh => new(ActivationFunction.Tanh);

    /// <summary>relu.</summary>
    public static RecurrentActivation Relu => new(ActivationFunction.Relu);

    /// <summary>How many of (α, β) the function reads: (1, 1), (1, 0) or (0, 0).</summary>
    public static (bool Alpha, bool Beta) Parameters(ActivationFunction f) => f switch
    {
        ActivationFunction.Affine or ActivationFunction.ScaledTanh or ActivationFunction.HardSigmoid => (true, true),
        ActivationFunction.LeakyRelu or ActivationFunction.ThresholdedRelu or ActivationFunction.Elu => (true, false),
        _ => (false, false),
    };

    /// <summary>
    /// The (α, β) a function gets when activation_alpha / activation_beta run out: ONNX Runtime's (LeakyRelu 0.01;
    /// HardSigmoid 0.2, 0.5; Elu 1; every other 0). The spec says "the same as the ONNX operators of the same name",
    /// which would give ThresholdedRelu α = 1; Affine and ScaledTanh have no such operator any more. We follow ONNX
    /// Runtime so that its models give its results (docs/onnx.md).
    /// </summary>
    public static (double Alpha, double Beta) Defaults(ActivationFunction f) => f switch
    {
        ActivationFunction.LeakyRelu => (0.01, 0.0),
        ActivationFunction.HardSigmoid => (0.2, 0.5),
        ActivationFunction.Elu => (1.0, 0.0),
        _ => (0.0, 0.0),
    };

    /// <summary>The function at <paramref name="x"/>.</summary>
    public double Apply(double x) => Function switch
    {
        ActivationFunction.Relu => Math.Max(x, 0.0),
        ActivationFunction.Tanh => Math.Tanh(x),
        ActivationFunction.Sigmoid => ReferenceMath.Sigmoid(x),
        ActivationFunction.Affine => (Alpha * x) + Beta,
        ActivationFunction.LeakyRelu => x >= 0 ? x : Alpha * x,
        ActivationFunction.ThresholdedRelu => x > Alpha ? x : 0.0,
        ActivationFunction.ScaledTanh => Alpha * Math.Tanh(Beta * x),
        ActivationFunction.HardSigmoid => Math.Min(Math.Max((Alpha * x) + Beta, 0.0), 1.0),
        ActivationFunction.Elu => x >= 0 ? x : Alpha * (Math.Exp(x) - 1.0),
        ActivationFunction.Softsign => x / (1.0 + Math.Abs(x)),
        ActivationFunction.Softplus => x > 0 ? x + Math.Log(1.0 + Math.Exp(-x)) : Math.Log(1.0 + Math.Exp(x)),
        _ => throw new InvalidOperationException($"unknown activation function {(int)Function}"),
    };

    /// <inheritdoc/>
    public override string ToString()
    {
        var (a, b) = Parameters(Function);
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        return a && b ? string.Create(inv, $"{Function}({Alpha:R}, {Beta:R})") : a ? string.Create(inv, $"{Function}({Alpha:R})") : Function.ToString();
    }
}
