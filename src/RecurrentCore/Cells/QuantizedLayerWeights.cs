namespace RecurrentCore.Cells;

/// <summary>
/// One layer's weights for a quantized layer (<c>Layers.QuantizedLayer</c>): W_ih and W_hh in the layer's format, the float32 biases as
/// the gate kernels take them (LSTM and Elman: b_ih + b_hh folded; GRU: b_ih and b_hh apart, since r multiplies
/// W_hn h + b_hn). Bias arrays are pinned; empty when the layer has none.
/// </summary>
internal sealed unsafe class QuantizedLayerWeights
{
    public QuantizedLayerWeights(RecurrentConfig cfg, int layer, WeightFormat format, float[] weightIh, float[] weightHh, float[] biasIh, float[] biasHh)
        : this(
            cfg,
            new QuantizedMatrix(weightIh, cfg.GateCount * cfg.HiddenSize, cfg.LayerInputSize(layer), format),
            new QuantizedMatrix(weightHh, cfg.GateCount * cfg.HiddenSize, cfg.HiddenSize, format),
            biasIh,
            biasHh)
    {
    }

    /// <summary>From matrices already in their format (a file's); the biases are copied.</summary>
    public QuantizedLayerWeights(RecurrentConfig cfg, QuantizedMatrix ih, QuantizedMatrix hh, float[] biasIh, float[] biasHh)
    {
        int gh = cfg.GateCount * cfg.HiddenSize;
        InputSize = ih.Columns;
        Ih = ih;
        Hh = hh;
        BiasIh = Pin(biasIh);
        BiasHh = Pin(biasHh);
        if (biasIh.Length != 0 && cfg.Cell != CellKind.Gru)
        {
            Folded = GC.AllocateArray<float>(gh, pinned: true);
            for (int i = 0; i < gh; i++)
            {
                Folded[i] = biasIh[i] + biasHh[i];
            }
        }
        else
        {
            Folded = [];
        }
    }

    public int InputSize { get; }

    public QuantizedMatrix Ih { get; }

    public QuantizedMatrix Hh { get; }

    public float[] BiasIh { get; }

    public float[] BiasHh { get; }

    /// <summary>b_ih + b_hh for LSTM and Elman; empty for GRU or without bias.</summary>
    public float[] Folded { get; }

    private static float[] Pin(float[] a)
    {
        if (a.Length == 0)
        {
            return [];
        }

        var p = GC.AllocateArray<float>(a.Length, pinned: true);
        a.CopyTo(p, 0);
        return p;
    }
}
