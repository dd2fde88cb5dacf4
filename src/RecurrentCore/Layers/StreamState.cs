using RecurrentCore.Cells;
using RecurrentCore.Kernels;
using RecurrentCore.Kernels.Gates;

namespace RecurrentCore.Layers;

/// <summary>
/// The state of <see cref="Batch"/> independent streams through a unidirectional <see cref="RecurrentLayer"/>, carried
/// from call to call: <see cref="Step(ReadOnlySpan{float}, Span{float})"/> feeds one time step (or a small chunk) and
/// returns the top layer's hidden state. This is the per-sample call of a latency-sensitive service: it allocates
/// nothing. Not thread-safe (one stream object per caller); the layer itself may be shared.
/// </summary>
public sealed class StreamState
{
    private readonly RecurrentLayer _layer;
    private readonly float[] _h;     // (L, B, H)
    private readonly float[] _c;     // (L, B, H), LSTM
    private readonly float[] _gates; // (B, G·H)
    private readonly float[] _gh;    // (B, G·H), GRU
    private readonly float[] _z;     // [x; h] for one row, the fused GEMV's input

    internal StreamState(RecurrentLayer layer, int batch)
    {
        ArgumentNullException.ThrowIfNull(layer);
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        var cfg = layer.Config;
        if (cfg.Bidirectional)
        {
            throw new InvalidOperationException("a bidirectional layer cannot stream: its reverse direction needs the whole sequence");
        }

        _layer = layer;
        Batch = batch;
        int gh = cfg.GateCount * cfg.HiddenSize;
        _h = new float[cfg.NumLayers * batch * cfg.HiddenSize];
        _c = cfg.Cell == CellKind.Lstm ? new float[_h.Length] : [];
        _gates = new float[batch * gh];
        _gh = cfg.Cell == CellKind.Gru ? new float[batch * gh] : [];
        _z = new float[Math.Max(cfg.InputSize, cfg.HiddenSize) + cfg.HiddenSize];
    }

    /// <summary>The layer these streams run through.</summary>
    public RecurrentLayer Layer => _layer;

    /// <summary>The number of streams stepped together (B).</summary>
    public int Batch { get; }

    /// <summary>The hidden state (L, B, H); writable, e.g. to set an initial state.</summary>
    public Span<float> HiddenState => _h;

    /// <summary>The cell state (L, B, H) of an LSTM; empty for other cells.</summary>
    public Span<float> CellState => _c;

    /// <summary>Sets every stream's state to zero.</summary>
    public void Reset()
    {
        Array.Clear(_h);
        Array.Clear(_c);
    }

    /// <summary>Sets stream <paramref name="stream"/>'s state to zero, leaving the others.</summary>
    public void Reset(int stream)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(stream);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(stream, Batch);
        var cfg = _layer.Config;
        int h = cfg.HiddenSize;
        for (int l = 0; l < cfg.NumLayers; l++)
        {
            _h.AsSpan(((l * Batch) + stream) * h, h).Clear();
            if (_c.Length != 0)
            {
                _c.AsSpan(((l * Batch) + stream) * h, h).Clear();
            }
        }
    }

    /// <summary>One time step for every stream: x (B, I) → y (B, H), the top layer's new hidden state.</summary>
    /// <exception cref="ArgumentException">A span's length is not B·I or B·H.</exception>
    public void Step(ReadOnlySpan<float> x, Span<float> y) => Step(x, 1, y);

    /// <summary>A chunk of <paramref name="steps"/> time steps: x (steps, B, I) → y (steps, B, H), time-major.</summary>
    /// <exception cref="ArgumentException">A span's length does not fit the shapes.</exception>
    public void Step(ReadOnlySpan<float> x, int steps, Span<float> y)
    {
        var cfg = _layer.Config;
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        int b = Batch, h = cfg.HiddenSize, inputRow = b * cfg.InputSize;
        if (x.Length != (long)steps * inputRow)
        {
            throw new ArgumentException($"x has {x.Length} values, expected {(long)steps * inputRow} (steps {steps} x B {b} x I {cfg.InputSize})", nameof(x));
        }

        if (y.Length != (long)steps * b * h)
        {
            throw new ArgumentException($"y has {y.Length} values, expected {(long)steps * b * h} (steps {steps} x B {b} x H {h})", nameof(y));
        }

        var variant = _layer.Variant;
        int gh = cfg.GateCount * h;
        var gates = _gates.AsSpan(0, b * gh);
        for (int s = 0; s < steps; s++)
        {
            ReadOnlySpan<float> input = x.Slice(s * inputRow, inputRow);
            for (int l = 0; l < cfg.NumLayers; l++)
            {
                var w = _layer.Weights(l, 0);
                var hl = _h.AsSpan(l * b * h, b * h);
                // Small H, one row: one column-blocked GEMV over [W_ihᵀ; W_hhᵀ] and [x; h], from the folded bias.
                bool fused = b == 1 && cfg.Cell != CellKind.Gru && w.ColumnGemv;
                if (fused)
                {
                    int inSize = w.InputSize;
                    input.CopyTo(_z);
                    hl.CopyTo(_z.AsSpan(inSize));
                    if (w.ProjectionBias.Length != 0)
                    {
                        w.ProjectionBias.CopyTo(gates);
                    }

                    Gemv.MultiplyTransposed(w.StepWeightsT, inSize + h, gh, _z.AsSpan(0, inSize + h), gates, accumulate: w.ProjectionBias.Length != 0, variant);
                }
                else if (b == 1)
                {
                    if (w.ProjectionBias.Length != 0)
                    {
                        w.ProjectionBias.CopyTo(gates);
                    }

                    w.InputRow(input, gates, accumulate: w.ProjectionBias.Length != 0, variant);
                }
                else
                {
                    Gemm.Multiply(input, b, w.PackedIh, w.ProjectionBias, gates, accumulate: false);
                }

                // Every gate kernel reads h_prev only through the recurrent product (or, for GRU, allows h == h_prev),
                // so the state updates in place.
                switch (cfg.Cell)
                {
                    case CellKind.Lstm:
                        var cl = _c.AsSpan(l * b * h, b * h);
                        LstmCell.Forward(w, b, gates, hl, cl, hl, cl, default, training: false, default, variant, addRecurrent: !fused);
                        break;
                    case CellKind.Gru:
                        GruCell.Forward(w, b, gates, _gh.AsSpan(0, b * gh), hl, hl, training: false, default, variant);
                        break;
                    default:
                        ElmanCell.Forward(w, b, gates, hl, hl, cfg.Cell == CellKind.RnnRelu ? RnnNonlinearity.Relu : RnnNonlinearity.Tanh, default, variant, addRecurrent: !fused);
                        break;
                }

                input = hl;
            }

            input.CopyTo(y.Slice(s * b * h, b * h));
        }
    }
}
