using RecurrentCore.Layers;

namespace RecurrentCore.Training;

/// <summary>
/// Truncated back-propagation through time over a unidirectional <see cref="TrainableRecurrent"/>: a long sequence is
/// fed in chunks of at most <see cref="ChunkLength"/> steps; the final state h_n (and c_n) of chunk i is the initial
/// state h0 (c0) of chunk i+1, and gradients stop at chunk boundaries (PyTorch's <c>h = h.detach()</c>: backward
/// sees ∂L/∂h_n = 0 and does not look past h0). Allocation-free after construction.
/// </summary>
/// <remarks>Call order per chunk: <see cref="Forward"/>, then optionally <see cref="Backward"/>; <see cref="ResetState"/> starts new sequences.
/// With more than one thread the runner owns its workspace's worker threads: dispose it.</remarks>
public sealed class TruncatedBptt : IDisposable
{
    private readonly RecurrentWorkspace _workspace;
    private readonly float[] _h;
    private readonly float[] _c;
    private readonly float[] _hNext;
    private readonly float[] _cNext;

    /// <summary>Creates the runner for chunks of up to <paramref name="chunkLength"/> steps of <paramref name="batch"/> streams.</summary>
    /// <param name="recurrent">The layer to train.</param>
    /// <param name="chunkLength">The longest chunk k.</param>
    /// <param name="batch">Streams B.</param>
    /// <param name="threads">Threads of the recurrent workspace (<see cref="Layers.RecurrentLayer.CreateWorkspace"/>); results are bitwise identical for any count.
    /// The workspace drops between layers as <see cref="TrainableRecurrent.Dropout"/> says (read here, once).</param>
    /// <exception cref="ArgumentException">The layer is bidirectional (its reverse direction cannot be truncated this way).</exception>
    /// <exception cref="ArgumentOutOfRangeException">A size or the thread count is below 1.</exception>
    public TruncatedBptt(TrainableRecurrent recurrent, int chunkLength, int batch, int threads = 1)
    {
        ArgumentNullException.ThrowIfNull(recurrent);
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkLength, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        if (recurrent.Config.Bidirectional)
        {
            throw new ArgumentException("truncated BPTT carries state forward in time; a bidirectional layer has none to carry", nameof(recurrent));
        }

        Recurrent = recurrent;
        ChunkLength = chunkLength;
        Batch = batch;
        _workspace = recurrent.CreateTrainingWorkspace(chunkLength, batch, threads);
        var cfg = recurrent.Config;
        int states = cfg.NumLayers * batch * cfg.StateSize, cells = cfg.NumLayers * batch * cfg.HiddenSize;
        _h = new float[states];
        _hNext = new float[states];
        _c = cfg.Cell.HasCellState() ? new float[cells] : [];
        _cNext = cfg.Cell.HasCellState() ? new float[cells] : [];
    }

    /// <summary>The layer being trained.</summary>
    public TrainableRecurrent Recurrent { get; }

    /// <summary>The longest chunk (k).</summary>
    public int ChunkLength { get; }

    /// <summary>Streams per chunk (B).</summary>
    public int Batch { get; }

    /// <summary>Threads the recurrent passes (and a trainer's heads) run on, the caller's included.</summary>
    public int Threads => _workspace.Threads;

    /// <summary>The workspace's worker threads, for the heads of a trainer; null with one thread.</summary>
    internal Threading.WorkerPool? Pool => _workspace.Pool;

    /// <summary>Stops the workspace's worker threads (none with one thread).</summary>
    public void Dispose() => _workspace.Dispose();

    /// <summary>The carried hidden state (L, B, H): h_n of the last chunk, h0 of the next; writable.</summary>
    public Span<float> HiddenState => _h;

    /// <summary>The carried cell state (L, B, H) of an LSTM; empty for other cells.</summary>
    public Span<float> CellState => _c;

    /// <summary>Zeroes the carried state (new, independent sequences).</summary>
    public void ResetState()
    {
        Array.Clear(_h);
        Array.Clear(_c);
    }

    /// <summary>Runs one chunk from the carried state and carries its final state on.</summary>
    /// <param name="input">(steps, B, I), time-major.</param>
    /// <param name="steps">Chunk length, 1..<see cref="ChunkLength"/>.</param>
    /// <param name="output">(steps, B, H): the top layer's hidden states.</param>
    public void Forward(ReadOnlySpan<float> input, int steps, Span<float> output)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(steps, ChunkLength);
        Recurrent.Layer.Forward(_workspace, input, steps, Batch, output, _hNext, _cNext, _h, _c);
        _hNext.CopyTo(_h, 0);
        _cNext.CopyTo(_c, 0);
    }

    /// <summary>
    /// Back-propagates the last chunk for ∂L/∂output = <paramref name="gradOutput"/> (nothing flows in from later
    /// chunks), accumulating into <see cref="TrainableRecurrent.Gradients"/>.
    /// </summary>
    /// <param name="gradOutput">(steps, B, H).</param>
    /// <param name="gradInput">(steps, B, I) ∂L/∂input, written; empty to skip.</param>
    public void Backward(ReadOnlySpan<float> gradOutput, Span<float> gradInput = default) =>
        Recurrent.Layer.Backward(_workspace, gradOutput, default, default, Recurrent.Gradients, gradInput);
}
