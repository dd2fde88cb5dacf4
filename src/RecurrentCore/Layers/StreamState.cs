using System.Runtime.CompilerServices;
using RecurrentCore.Sequence;

namespace RecurrentCore.Layers;

/// <summary>
/// The state of <see cref="Batch"/> independent streams through a unidirectional <see cref="RecurrentLayer"/>, carried
/// from call to call: <see cref="Step(ReadOnlySpan{float}, Span{float})"/> feeds one time step (or a small chunk) and
/// returns the top layer's hidden state. This is the per-sample call of a latency-sensitive service: it allocates
/// nothing, and everything but the length check was decided when the stream was created. Not thread-safe (one stream
/// object per caller); the layer itself may be shared.
/// </summary>
public sealed class StreamState
{
    private readonly RecurrentLayer _layer;
    private readonly StreamStepper? _stepper;
    private readonly float[] _h; // (L, B, H), or (L, B, P) with a projection
    private readonly float[] _c; // (L, B, H), a cell with a cell state
    private readonly int _inputSize;
    private readonly int _hiddenSize; // of h: H, or P with a projection
    private readonly int _cellSize;
    private readonly ProjectedLstmBuffers? _projected; // a projected LSTM's loop buffers, grown to the longest chunk

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
        _inputSize = cfg.InputSize;
        _hiddenSize = cfg.StateSize;
        _cellSize = cfg.HiddenSize;
        if (layer.Projected is not null)
        {
            _projected = new ProjectedLstmBuffers(cfg, training: false, 1, batch);
            _h = new float[cfg.NumLayers * batch * cfg.StateSize];
            _c = new float[cfg.NumLayers * batch * cfg.HiddenSize];
            return;
        }

        _stepper = StreamStepper.Create(layer.Model, batch);
        _h = _stepper.H;
        _c = _stepper.C;
    }

    /// <summary>The layer these streams run through.</summary>
    public RecurrentLayer Layer => _layer;

    /// <summary>The number of streams stepped together (B).</summary>
    public int Batch { get; }

    /// <summary>The hidden state (L, B, H), or (L, B, P) for an LSTM with proj_size P; writable, e.g. to set an initial state.</summary>
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
        int h = _hiddenSize, hc = _cellSize;
        for (int l = 0; l < _layer.Config.NumLayers; l++)
        {
            _h.AsSpan(((l * Batch) + stream) * h, h).Clear();
            if (_c.Length != 0)
            {
                _c.AsSpan(((l * Batch) + stream) * hc, hc).Clear();
            }
        }
    }

    /// <summary>One time step for every stream: x (B, I) → y (B, H), the top layer's new hidden state.</summary>
    /// <exception cref="ArgumentException">A span's length is not B·I or B·H.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Step(ReadOnlySpan<float> x, Span<float> y)
    {
        int b = Batch;
        if (x.Length != b * _inputSize || y.Length != b * _hiddenSize)
        {
            ThrowLengths(x.Length, y.Length, 1);
        }

        if (_stepper is null)
        {
            StepProjected(x, 1, y);
            return;
        }

        _stepper.Run(x, 1, y);
    }

    /// <summary>A chunk of <paramref name="steps"/> time steps: x (steps, B, I) → y (steps, B, H), time-major.</summary>
    /// <exception cref="ArgumentException">A span's length does not fit the shapes.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Step(ReadOnlySpan<float> x, int steps, Span<float> y)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        int b = Batch;
        if (x.Length != (long)steps * b * _inputSize || y.Length != (long)steps * b * _hiddenSize)
        {
            ThrowLengths(x.Length, y.Length, steps);
        }

        if (_stepper is null)
        {
            StepProjected(x, steps, y);
            return;
        }

        _stepper.Run(x, steps, y);
    }

    /// <summary>A projected LSTM's steps: its sequence loop over the chunk, the state as h0/c0 and back as h_n/c_n.</summary>
    private void StepProjected(ReadOnlySpan<float> x, int steps, Span<float> y)
    {
        var ws = _projected!;
        if (steps > ws.MaxSeqLen)
        {
            ws.Allocate(steps, Batch);
        }

        _layer.Projected!.Forward(ws, x, steps, Batch, batchFirst: false, y, _h, _c, _h, _c, default);
    }

    private void ThrowLengths(int x, int y, int steps)
    {
        int b = Batch;
        long inputs = (long)steps * b * _inputSize, outputs = (long)steps * b * _hiddenSize;
        if (x != inputs)
        {
            throw new ArgumentException($"x has {x} values, expected {inputs} (steps {steps} x B {b} x I {_inputSize})", nameof(x));
        }

        throw new ArgumentException($"y has {y} values, expected {outputs} (steps {steps} x B {b} x {(_cellSize == _hiddenSize ? "H" : "P")} {_hiddenSize})", nameof(y));
    }
}
