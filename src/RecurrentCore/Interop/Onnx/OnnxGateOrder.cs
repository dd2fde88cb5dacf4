namespace RecurrentCore.Interop.Onnx;

/// <summary>
/// Every conversion between PyTorch and ONNX weight layouts, in one place.
/// <code>
/// cell   PyTorch blocks   ONNX blocks   ONNX block j = PyTorch block
/// LSTM   i, f, g, o       i, o, f, c    [0, 3, 1, 2]
/// GRU    r, z, n          z, r, h       [1, 0, 2]
/// RNN    (one)            (one)         [0]
/// W: (D, G·H, In) = weight_ih per direction;  R: (D, G·H, H) = weight_hh;  B: (D, 2·G·H) = [bias_ih | bias_hh]
/// </code>
/// (ONNX operator specs: https://onnx.ai/onnx/operators/onnx__LSTM.html, onnx__GRU.html, onnx__RNN.html.)
/// </summary>
internal static class OnnxGateOrder
{
    private static readonly int[] Lstm = [0, 3, 1, 2];
    private static readonly int[] Gru = [1, 0, 2];
    private static readonly int[] Single = [0];

    /// <summary>For each ONNX gate block, the PyTorch block it holds.</summary>
    public static ReadOnlySpan<int> OnnxToPyTorchBlocks(CellKind cell) => cell switch
    {
        CellKind.Lstm => Lstm,
        CellKind.Gru => Gru,
        _ => Single,
    };

    /// <summary>Copies a PyTorch (G·H, cols) matrix or (G·H) vector into ONNX gate order at <paramref name="dst"/>.</summary>
    public static void ToOnnx(CellKind cell, ReadOnlySpan<double> pytorch, Span<double> dst)
    {
        var blocks = OnnxToPyTorchBlocks(cell);
        int block = pytorch.Length / blocks.Length;
        for (int j = 0; j < blocks.Length; j++)
        {
            pytorch.Slice(blocks[j] * block, block).CopyTo(dst.Slice(j * block, block));
        }
    }

    /// <summary>Copies an ONNX-ordered (G·H, cols) matrix or (G·H) vector into PyTorch gate order at <paramref name="dst"/>.</summary>
    public static void ToPyTorch(CellKind cell, ReadOnlySpan<double> onnx, Span<double> dst)
    {
        var blocks = OnnxToPyTorchBlocks(cell);
        int block = onnx.Length / blocks.Length;
        for (int j = 0; j < blocks.Length; j++)
        {
            onnx.Slice(j * block, block).CopyTo(dst.Slice(blocks[j] * block, block));
        }
    }

    /// <summary>
    /// ONNX W, R and (when the configuration has biases) B of one layer, flattened row-major:
    /// W (D, G·H, In), R (D, G·H, H), B (D, 2·G·H).
    /// </summary>
    public static (double[] W, double[] R, double[]? B) LayerToOnnx(RecurrentParameters p, int layer)
    {
        var cfg = p.Config;
        int d = cfg.NumDirections, gh = cfg.GateCount * cfg.HiddenSize, input = cfg.LayerInputSize(layer);
        var w = new double[d * gh * input];
        var r = new double[d * gh * cfg.HiddenSize];
        var b = cfg.Bias ? new double[d * 2 * gh] : null;
        for (int dir = 0; dir < d; dir++)
        {
            ToOnnx(cfg.Cell, p[layer, dir, ParameterKind.WeightIh], w.AsSpan(dir * gh * input, gh * input));
            ToOnnx(cfg.Cell, p[layer, dir, ParameterKind.WeightHh], r.AsSpan(dir * gh * cfg.HiddenSize, gh * cfg.HiddenSize));
            if (b is not null)
            {
                ToOnnx(cfg.Cell, p[layer, dir, ParameterKind.BiasIh], b.AsSpan(dir * 2 * gh, gh));
                ToOnnx(cfg.Cell, p[layer, dir, ParameterKind.BiasHh], b.AsSpan((dir * 2 * gh) + gh, gh));
            }
        }

        return (w, r, b);
    }

    /// <summary>The inverse of <see cref="LayerToOnnx"/>: fills layer <paramref name="layer"/> of <paramref name="p"/>; a null B leaves zero biases.</summary>
    public static void LayerFromOnnx(RecurrentParameters p, int layer, double[] w, double[] r, double[]? b)
    {
        var cfg = p.Config;
        int gh = cfg.GateCount * cfg.HiddenSize, input = cfg.LayerInputSize(layer);
        for (int dir = 0; dir < cfg.NumDirections; dir++)
        {
            ToPyTorch(cfg.Cell, w.AsSpan(dir * gh * input, gh * input), p[layer, dir, ParameterKind.WeightIh]);
            ToPyTorch(cfg.Cell, r.AsSpan(dir * gh * cfg.HiddenSize, gh * cfg.HiddenSize), p[layer, dir, ParameterKind.WeightHh]);
            if (b is not null && cfg.Bias)
            {
                ToPyTorch(cfg.Cell, b.AsSpan(dir * 2 * gh, gh), p[layer, dir, ParameterKind.BiasIh]);
                ToPyTorch(cfg.Cell, b.AsSpan((dir * 2 * gh) + gh, gh), p[layer, dir, ParameterKind.BiasHh]);
            }
        }
    }
}
