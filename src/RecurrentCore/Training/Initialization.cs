namespace RecurrentCore.Training;

/// <summary>
/// PyTorch's default initialisations, drawn from a <see cref="SeededRandom"/>. The distributions match PyTorch;
/// the values do not (the random streams differ). What is promised is determinism: the same seed gives the same
/// parameters.
/// </summary>
public static class Initialization
{
    /// <summary>Fills <paramref name="values"/> with U(−<paramref name="bound"/>, <paramref name="bound"/>).</summary>
    public static void Uniform(Span<float> values, double bound, SeededRandom random)
    {
        ArgumentNullException.ThrowIfNull(random);
        for (int k = 0; k < values.Length; k++)
        {
            values[k] = (float)random.NextUniform(-bound, bound);
        }
    }

    /// <summary>
    /// nn.RNN / nn.LSTM / nn.GRU <c>reset_parameters</c>: every weight and bias ~ U(−1/√H, 1/√H), in set order.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="hiddenSize"/> is not positive.</exception>
    public static void PyTorchRecurrent(ParameterSet parameters, int hiddenSize, SeededRandom random)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentOutOfRangeException.ThrowIfLessThan(hiddenSize, 1);
        double bound = 1.0 / Math.Sqrt(hiddenSize);
        foreach (var p in parameters)
        {
            Uniform(p.Value.Span, bound, random);
        }
    }

    /// <summary>
    /// The same U(−1/√H, 1/√H) for the double-precision reference parameters, tensor by tensor in state_dict order.
    /// Each value is rounded to float32 first, so a float32 set initialised from the same seed in the same order
    /// holds identical values.
    /// </summary>
    public static void PyTorchRecurrent(RecurrentParameters parameters, SeededRandom random)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(random);
        double bound = 1.0 / Math.Sqrt(parameters.Config.HiddenSize);
        foreach (var (_, _, data) in parameters.Named())
        {
            for (int k = 0; k < data.Length; k++)
            {
                data[k] = (float)random.NextUniform(-bound, bound);
            }
        }
    }

    /// <summary>
    /// nn.Linear <c>reset_parameters</c>: <c>kaiming_uniform_(W, a=√5)</c>, whose bound is
    /// <c>gain·√(3/fan_in)</c> with <c>gain = √(2/(1+a²)) = √(1/3)</c>, i.e. U(−1/√in, 1/√in); the bias ~ U(−1/√in, 1/√in).
    /// </summary>
    public static void PyTorchLinear(Linear layer, SeededRandom random)
    {
        ArgumentNullException.ThrowIfNull(layer);
        double bound = 1.0 / Math.Sqrt(layer.InFeatures);
        Uniform(layer.Weight.Value.Span, bound, random);
        if (layer.Bias is not null)
        {
            Uniform(layer.Bias.Value.Span, bound, random);
        }
    }

    /// <summary>nn.Embedding <c>reset_parameters</c>: every weight ~ N(0, 1).</summary>
    public static void PyTorchEmbedding(Embedding layer, SeededRandom random)
    {
        ArgumentNullException.ThrowIfNull(layer);
        ArgumentNullException.ThrowIfNull(random);
        Span<float> w = layer.Weight.Value.Span;
        for (int k = 0; k < w.Length; k++)
        {
            w[k] = (float)random.NextNormal();
        }
    }
}
