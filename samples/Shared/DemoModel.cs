using RecurrentCore.Layers;

namespace RecurrentCore.Samples;

/// <summary>The model the serving samples run: a safetensors file, or a seeded random layer that client and service can both rebuild.</summary>
internal static class DemoModel
{
    public const int DefaultInput = 64;
    public const int DefaultHidden = 256;

    /// <summary>
    /// A one-layer LSTM with PyTorch's default initialisation, U(−1/√H, 1/√H), drawn from <c>new Random(seed)</c>
    /// (whose sequence is fixed across runs and machines), in the order of <see cref="RecurrentParameters.Named"/>.
    /// </summary>
    public static RecurrentLayer Seeded(int seed, int input = DefaultInput, int hidden = DefaultHidden, CellKind cell = CellKind.Lstm)
    {
        var p = new RecurrentParameters(new RecurrentConfig(cell, input, hidden));
        var rng = new Random(seed);
        double k = 1.0 / Math.Sqrt(hidden);
        foreach (var (_, _, data) in p.Named())
        {
            for (int i = 0; i < data.Length; i++)
            {
                data[i] = (float)(k * ((2 * rng.NextDouble()) - 1));
            }
        }

        return RecurrentLayer.FromParameters(p);
    }

    /// <summary>Parses lstm, gru, rnn-tanh or rnn-relu.</summary>
    public static CellKind ParseCell(string name) => name.ToUpperInvariant() switch
    {
        "LSTM" => CellKind.Lstm,
        "GRU" => CellKind.Gru,
        "RNN-TANH" or "RNN_TANH" => CellKind.RnnTanh,
        "RNN-RELU" or "RNN_RELU" => CellKind.RnnRelu,
        _ => throw new ArgumentException($"--cell: unknown cell '{name}' (expected lstm, gru, rnn-tanh or rnn-relu)"),
    };
}
