using System.Runtime.CompilerServices;
using RecurrentCore.Sequence;

namespace RecurrentCore.Layers;

/// <summary>
/// The state of <see cref="Batch"/> independent streams through a <see cref="QuantizedLayer"/>, carried from call to
/// call, with the scratch its steps need (allocated here once: <see cref="Step"/> allocates nothing). Not thread-safe.
/// </summary>
public sealed unsafe class QuantizedStreamState
{
    private readonly QuantizedStepper _stepper;
    private readonly float[] _h; // (L, B, H)
    private readonly float[] _c; // (L, B, H), LSTM
    private readonly int _inputSize;
    private readonly int _hiddenSize;

    internal QuantizedStreamState(QuantizedLayer layer, int batch)
    {
        ArgumentNullException.ThrowIfNull(layer);
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        var cfg = layer.Config;
        Layer = layer;
        Batch = batch;
        _inputSize = cfg.InputSize;
        _hiddenSize = cfg.HiddenSize;
        int states = cfg.NumLayers * batch * cfg.HiddenSize;
        _h = GC.AllocateArray<float>(states, pinned: true);
        _c = cfg.Cell == CellKind.Lstm ? GC.AllocateArray<float>(states, pinned: true) : [];
        _stepper = QuantizedStepper.Create(cfg, layer.Format, layer.Variant, layer.Layers, batch, _h, _c);
    }

    /// <summary>The layer these streams run through.</summary>
    public QuantizedLayer Layer { get; }

    /// <summary>The number of streams stepped together (B).</summary>
    public int Batch { get; }

    /// <summary>The hidden state (L, B, H); writable.</summary>
    public Span<float> HiddenState => _h;

    /// <summary>The cell state (L, B, H) of an LSTM; empty for other cells.</summary>
    public Span<float> CellState => _c;

    /// <summary>Sets every stream's state to zero.</summary>
    public void Reset()
    {
        Array.Clear(_h);
        Array.Clear(_c);
    }

    /// <summary>One time step for every stream: x (B, I) → y (B, H), the top layer's new hidden state.</summary>
    /// <exception cref="ArgumentException">A span's length is not B·I or B·H.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Step(ReadOnlySpan<float> x, Span<float> y)
    {
        int b = Batch;
        if (x.Length != b * _inputSize)
        {
            throw new ArgumentException($"x has {x.Length} values, expected {b * _inputSize} (B {b} x I {_inputSize})", nameof(x));
        }

        if (y.Length != b * _hiddenSize)
        {
            throw new ArgumentException($"y has {y.Length} values, expected {b * _hiddenSize} (B {b} x H {_hiddenSize})", nameof(y));
        }

        fixed (float* px = x)
        fixed (float* py = y)
        {
            for (int r = 0; r < b; r++)
            {
                _stepper.Row(r, px + ((nint)r * _inputSize), py + ((nint)r * _hiddenSize));
            }
        }
    }

    internal void RunSequence(ReadOnlySpan<float> input, int seqLen, Span<float> output, Span<float> hN, Span<float> cN, ReadOnlySpan<float> h0, ReadOnlySpan<float> c0)
    {
        var cfg = Layer.Config;
        int b = Batch, i = _inputSize, h = _hiddenSize;
        Require(input.Length, (long)seqLen * b * i, nameof(input));
        Require(output.Length, (long)seqLen * b * h, nameof(output));
        RequireOptional(hN.Length, _h.Length, nameof(hN));
        RequireOptional(h0.Length, _h.Length, nameof(h0));
        RequireOptional(cN.Length, _c.Length, nameof(cN));
        RequireOptional(c0.Length, _c.Length, nameof(c0));
        if (h0.IsEmpty)
        {
            Array.Clear(_h);
        }
        else
        {
            h0.CopyTo(_h);
        }

        if (c0.IsEmpty)
        {
            Array.Clear(_c);
        }
        else
        {
            c0.CopyTo(_c);
        }

        fixed (float* px = input)
        fixed (float* py = output)
        {
            _stepper.Run(px, seqLen, py, cfg.BatchFirst);
        }

        if (!hN.IsEmpty)
        {
            _h.CopyTo(hN);
        }

        if (!cN.IsEmpty)
        {
            _c.CopyTo(cN);
        }
    }

    private static void Require(int length, long expected, string name)
    {
        if (length != expected)
        {
            throw new ArgumentException($"{name} has {length} values, expected {expected}", name);
        }
    }

    private static void RequireOptional(int length, int expected, string name)
    {
        if (length != 0 && length != expected)
        {
            throw new ArgumentException($"{name} has {length} values, expected {expected} or none", name);
        }
    }
}
