using RecurrentCore.Memory;
using RecurrentCore.Sequence;
using RecurrentCore.Threading;

namespace RecurrentCore.Layers;

/// <summary>
/// Everything a <see cref="RecurrentLayer"/> needs to run a sequence of up to <see cref="MaxSeqLen"/> steps for up
/// to <see cref="MaxBatch"/> rows: one float block, sized once from the shapes and sliced into named views. Forward
/// and backward in a workspace allocate nothing; running past its size is an error, and growing it is the explicit
/// <see cref="EnsureCapacity"/>. A training workspace also keeps what backward needs (the last forward's gates,
/// states and inputs). Not thread-safe: one workspace per concurrent caller.
/// </summary>
public sealed class RecurrentWorkspace : IDisposable
{
    internal RecurrentWorkspace(RecurrentLayer layer, int maxSeqLen, int maxBatch, bool training, int threads)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        Layer = layer;
        Threads = threads;
        if (layer.Projected is not null)
        {
            // A projected LSTM runs its own loop on the caller's thread: no cell-loop buffers, no pool.
            Projected = new ProjectedLstmBuffers(layer.Config, training, maxSeqLen, maxBatch);
            Buffers = new WorkspaceBuffers(layer.Config with { ProjSize = 0 }, Cells.CellCatalog.For(layer.Config), training, 1, 1);
            Pass = new SequencePass(Buffers, null, 1);
            return;
        }

        Buffers = new WorkspaceBuffers(layer.Config, layer.Model.Cell, training, maxSeqLen, maxBatch);
        layer.Model.Loops.Prepare(layer.Model, training);
        Pool = threads > 1 ? new WorkerPool(threads) : null;
        Pass = new SequencePass(Buffers, Pool, threads);
    }

    /// <summary>
    /// Threads a call may use (the caller's included): batch rows are split among them, and the input projection and
    /// input gradient by rows; every row is computed the same way whatever the count, so results are bitwise identical.
    /// </summary>
    public int Threads { get; }

    /// <summary>The layer this workspace was sized for.</summary>
    public RecurrentLayer Layer { get; }

    /// <summary>Whether forward keeps what backward needs.</summary>
    public bool Training => Buffers.Training;

    /// <summary>The longest sequence this workspace holds.</summary>
    public int MaxSeqLen => Projected?.MaxSeqLen ?? Buffers.MaxSeqLen;

    /// <summary>The largest batch this workspace holds.</summary>
    public int MaxBatch => Projected?.MaxBatch ?? Buffers.MaxBatch;

    /// <summary>The size of the block in bytes (with dropout's copies of the layer outputs).</summary>
    public long SizeInBytes => (Projected?.SizeInBytes ?? Buffers.SizeInBytes) + ((Projected?.Dropout ?? Buffers.Dropout)?.SizeInBytes ?? 0);

    /// <summary>The dropout probability between stacked layers (0: none); see <see cref="SetDropout"/>.</summary>
    public double Dropout => (Projected?.Dropout ?? Buffers.Dropout)?.Probability ?? 0;

    /// <summary>
    /// Dropout between stacked layers, as nn.LSTM / nn.GRU / nn.RNN(dropout = p) in training mode: each forward
    /// multiplies every layer's output but the last by a fresh mask m (m = 1/(1 − p) with probability 1 − p, else 0)
    /// before the next layer reads it; the following <see cref="RecurrentLayer.Backward"/> applies the same masks to the
    /// gradient. The masks come from <paramref name="seed"/> and the forward's index in this workspace (SplitMix64), so
    /// a run is reproducible and its bits do not depend on the thread count. The outputs, h_n and c_n returned are not
    /// dropped (PyTorch drops neither). p = 0 turns dropout off; the result is then bitwise that of no dropout.
    /// Allocates the (L − 1)·T·B·D·H copies once, here and in <see cref="EnsureCapacity"/>.
    /// </summary>
    /// <param name="probability">p in [0, 1).</param>
    /// <param name="seed">The masks' seed.</param>
    /// <exception cref="ArgumentOutOfRangeException">p is outside [0, 1).</exception>
    /// <exception cref="InvalidOperationException">The workspace is not a training one (inference never drops).</exception>
    public void SetDropout(double probability, ulong seed = 0)
    {
        if (!(probability >= 0 && probability < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(probability), probability, "dropout must be in [0, 1)");
        }

        if (!Training)
        {
            throw new InvalidOperationException("dropout applies in training: create the workspace with training: true");
        }

        var d = new LayerDropout(probability, seed);
        d.Allocate(Layer.Config, MaxSeqLen, MaxBatch);
        if (Projected is not null)
        {
            Projected.Dropout = d;
            Projected.HasForward = false;
            return;
        }

        Buffers.Dropout = d;
        Buffers.HasForward = false;
    }

    internal WorkspaceBuffers Buffers { get; }

    /// <summary>The buffers of a projected LSTM's loop (<see cref="ProjectedLstm"/>); null for every other layer.</summary>
    internal ProjectedLstmBuffers? Projected { get; }

    internal WorkerPool? Pool { get; }

    internal SequencePass Pass { get; }

    internal int SeqLen => Projected?.SeqLen ?? Buffers.SeqLen;

    internal int Batch => Projected?.Batch ?? Buffers.Batch;

    internal bool HasRun => Projected?.HasRun ?? Buffers.HasRun;

    internal Span<float> LayerOut(int layer, int count) => Projected is { } p ? p.LayerOut[p.Training ? layer : layer % 2].AsSpan(0, count) : Buffers.LayerOut(layer, count);

    /// <summary>Stops the worker threads of a multi-threaded workspace; a single-threaded one holds none. Either way,
    /// a later Forward or Backward with it throws <see cref="ObjectDisposedException"/>, whatever the call's size.</summary>
    public void Dispose()
    {
        IsDisposed = true;
        Pool?.Dispose();
    }

    internal bool IsDisposed { get; private set; }

    /// <summary>Grows the workspace (one new allocation) when it is smaller than the given shapes; a no-op otherwise.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is below 1, or the block would exceed one array's capacity.</exception>
    public void EnsureCapacity(int maxSeqLen, int maxBatch)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxSeqLen, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBatch, 1);
        if (maxSeqLen > MaxSeqLen || maxBatch > MaxBatch)
        {
            if (Projected is not null)
            {
                int tp = Math.Max(maxSeqLen, MaxSeqLen), bp = Math.Max(maxBatch, MaxBatch);
                Projected.Dropout?.Allocate(Layer.Config, tp, bp);
                Projected.Allocate(tp, bp);
            }
            else
            {
                int t = Math.Max(maxSeqLen, MaxSeqLen), b = Math.Max(maxBatch, MaxBatch);
                Buffers.Dropout?.Allocate(Layer.Config, t, b);
                Buffers.Allocate(t, b);
            }
        }
    }

    internal void Require(RecurrentLayer layer, int seqLen, int batch)
    {
        if (!ReferenceEquals(layer, Layer))
        {
            throw new ArgumentException("the workspace was created by another layer; create one with this layer's CreateWorkspace");
        }

        if (seqLen > MaxSeqLen || batch > MaxBatch)
        {
            throw new ArgumentException(
                $"the workspace holds T <= {MaxSeqLen} and B <= {MaxBatch}, this call needs T = {seqLen}, B = {batch}; call EnsureCapacity first");
        }
    }
}
