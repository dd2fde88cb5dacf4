
namespace RecurrentCore.Layers;

/// <summary>Where a non-finite value (NaN or ±∞) was found: the stacked layer, the time step, the batch row and the feature (d·H + j).</summary>
/// <param name="Layer">The stacked layer whose output holds it (0 is the bottom).</param>
/// <param name="Step">The time step t.</param>
/// <param name="BatchIndex">The batch row b.</param>
/// <param name="Feature">The feature within the layer's D·H outputs (the reverse direction's start at H).</param>
/// <param name="Value">The value itself.</param>
public readonly record struct NonFiniteValue(int Layer, int Step, int BatchIndex, int Feature, float Value);

/// <summary>
/// An opt-in check for NaN and ±∞ after a forward run. The fast path never checks (NaN inputs propagate to NaN outputs,
/// as in PyTorch); call these after a run that may have diverged. They read spans only and allocate nothing.
/// </summary>
public static class NumericCheck
{
    /// <summary>The index of the first NaN or ±∞ in <paramref name="values"/>, or −1 when all are finite.</summary>
    public static int FindFirstNonFinite(ReadOnlySpan<float> values)
    {
        for (int i = 0; i < values.Length; i++)
        {
            if (!float.IsFinite(values[i]))
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>
    /// The first non-finite value of a forward output of <paramref name="layer"/>, in time order (the earliest step t,
    /// then row b, then feature); null when all are finite.
    /// </summary>
    /// <param name="layer">The layer that produced <paramref name="output"/> (its layout: time-major, or batch-first).</param>
    /// <param name="output">(T, B, D·H), or (B, T, D·H) when batch-first.</param>
    /// <param name="seqLen">T.</param>
    /// <param name="batch">B.</param>
    /// <exception cref="ArgumentException"><paramref name="output"/> is not T·B·D·H values.</exception>
    public static NonFiniteValue? FindFirstNonFinite(RecurrentLayer layer, ReadOnlySpan<float> output, int seqLen, int batch)
    {
        ArgumentNullException.ThrowIfNull(layer);
        ArgumentOutOfRangeException.ThrowIfLessThan(seqLen, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        var cfg = layer.Config;
        if (output.Length != (long)seqLen * batch * cfg.OutputSize)
        {
            throw new ArgumentException($"output has {output.Length} values, expected {(long)seqLen * batch * cfg.OutputSize} (T {seqLen} x B {batch} x D·H {cfg.OutputSize})", nameof(output));
        }

        return Scan(output, cfg.NumLayers - 1, seqLen, batch, cfg.OutputSize, cfg.BatchFirst);
    }

    /// <summary>
    /// The first non-finite value among the per-layer outputs still held by <paramref name="workspace"/> after its last
    /// forward: every stacked layer for a training workspace (the lowest layer first, so the layer where a NaN or ∞
    /// appeared is the one reported), the top two for an inference workspace (lower layers' outputs are overwritten).
    /// Null when all are finite.
    /// </summary>
    /// <exception cref="InvalidOperationException">The workspace holds no completed forward.</exception>
    public static NonFiniteValue? FindFirstNonFinite(RecurrentWorkspace workspace)
    {
        ArgumentNullException.ThrowIfNull(workspace);
        if (!workspace.HasRun)
        {
            throw new InvalidOperationException("the workspace holds no completed forward run to check");
        }

        var cfg = workspace.Layer.Config;
        int seqLen = workspace.SeqLen, batch = workspace.Batch, dh = cfg.OutputSize;
        int lowest = workspace.Training ? 0 : Math.Max(0, cfg.NumLayers - 2);
        for (int l = lowest; l < cfg.NumLayers; l++)
        {
            // Internal layer outputs are time-major whatever the configuration's layout.
            var found = Scan(workspace.LayerOut(l, seqLen * batch * dh), l, seqLen, batch, dh, batchFirst: false);
            if (found is not null)
            {
                return found;
            }
        }

        return null;
    }

    private static NonFiniteValue? Scan(ReadOnlySpan<float> values, int layer, int seqLen, int batch, int features, bool batchFirst)
    {
        for (int t = 0; t < seqLen; t++)
        {
            for (int b = 0; b < batch; b++)
            {
                int row = batchFirst ? (b * seqLen) + t : (t * batch) + b;
                int at = FindFirstNonFinite(values.Slice(row * features, features));
                if (at >= 0)
                {
                    return new NonFiniteValue(layer, t, b, at, values[(row * features) + at]);
                }
            }
        }

        return null;
    }
}
