namespace RecurrentCore.Memory;

/// <summary>
/// Dropout between stacked layers in training (nn.LSTM / nn.GRU / nn.RNN dropout = p): every layer's output but the
/// last is multiplied by a mask m with m = 1/(1 − p) kept, 0 dropped, before the next layer reads it, and backward
/// multiplies the gradient of that input by the same m. The dropped copies live here, so each layer's own output (what
/// its backward reads) stays intact. The masks are not stored: element i of layer l in forward call k is kept when
/// u(seed, k, l, i) ≥ p, u a SplitMix64 hash mapped to [0, 1) — reproducible for a seed, independent of threads, and
/// recomputed by backward.
/// </summary>
internal sealed class LayerDropout
{
    private float[] _dropped = [];
    private long _layerStride;

    /// <param name="probability">p in [0, 1).</param>
    /// <param name="seed">The mask generator's seed.</param>
    public LayerDropout(double probability, ulong seed)
    {
        Probability = probability;
        Seed = seed;
        Scale = (float)(1.0 / (1.0 - probability));
    }

    public double Probability { get; }

    public ulong Seed { get; }

    /// <summary>1/(1 − p), the kept elements' factor.</summary>
    public float Scale { get; }

    /// <summary>Forward calls so far; the last one's masks are those backward applies.</summary>
    public long Calls { get; private set; }

    /// <summary>Whether the last forward applied dropout (a training workspace with p &gt; 0).</summary>
    public bool Active { get; private set; }

    public long SizeInBytes => (long)_dropped.Length * sizeof(float);

    /// <summary>Room for layers 0..L−2 of (T, B, D·H) each.</summary>
    public void Allocate(RecurrentConfig config, int maxSeqLen, int maxBatch)
    {
        long stride = (long)maxSeqLen * maxBatch * config.OutputSize;
        long total = stride * (config.NumLayers - 1);
        if (total > Array.MaxLength)
        {
            throw new ArgumentOutOfRangeException(nameof(maxSeqLen), "the dropout buffers would exceed one array's capacity");
        }

        _dropped = new float[total];
        _layerStride = stride;
    }

    /// <summary>Starts a forward: a new call's masks, applied when <paramref name="training"/> and p &gt; 0.</summary>
    public void BeginForward(bool training)
    {
        Calls++;
        Active = training && Probability > 0;
    }

    /// <summary>The dropped copy of layer <paramref name="layer"/>'s output (the next layer's input).</summary>
    public Span<float> Dropped(int layer, int count) => _dropped.AsSpan((int)(layer * _layerStride), count);

    /// <summary>Dropped(layer) = output ⊙ m.</summary>
    public void Forward(ReadOnlySpan<float> output, int layer)
    {
        var dst = Dropped(layer, output.Length);
        for (int i = 0; i < output.Length; i++)
        {
            dst[i] = Keep(layer, i) ? output[i] * Scale : 0f;
        }
    }

    /// <summary>grad ⊙= m: the gradient of the dropped copy becomes that of layer <paramref name="layer"/>'s output.</summary>
    public void Backward(Span<float> grad, int layer)
    {
        for (int i = 0; i < grad.Length; i++)
        {
            grad[i] = Keep(layer, i) ? grad[i] * Scale : 0f;
        }
    }

    /// <summary>Whether element <paramref name="index"/> of layer <paramref name="layer"/> survives in the current call.</summary>
    public bool Keep(int layer, long index)
    {
        ulong z = Seed + (0x9E3779B97F4A7C15UL * (ulong)(Calls + 1));
        z = Mix(z ^ ((ulong)layer << 56) ^ (ulong)index);
        z = Mix(z);
        // The top 53 bits as a double in [0, 1).
        return (z >> 11) * (1.0 / (1UL << 53)) >= Probability;
    }

    /// <summary>SplitMix64's finaliser (Steele, Lea and Flood, "Fast splittable pseudorandom number generators", 2014).</summary>
    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
