using RecurrentCore.Layers;

namespace RecurrentCore.Memory;

/// <summary>
/// Everything a <see cref="RecurrentLayer"/> needs to run a sequence of up to <see cref="MaxSeqLen"/> steps for up
/// to <see cref="MaxBatch"/> rows: one float block, sized once from the shapes and sliced into named views. Forward,
/// backward and streaming steps in a workspace allocate nothing; running past its size is an error, and growing it is
/// the explicit <see cref="EnsureCapacity"/>. A training workspace also keeps what backward needs
/// (the last forward's gates, states and inputs). Not thread-safe: one workspace per concurrent caller.
/// </summary>
public sealed class RecurrentWorkspace : IDisposable
{
    private float[] _block = [];
    private byte[] _active = [];
    private int[] _lengths = [];

    // Named views (see Allocate for their shapes); replaced as a whole, with the block, only once a new block exists.
    private Views _v = new();

    internal RecurrentWorkspace(RecurrentLayer layer, int maxSeqLen, int maxBatch, bool training, int threads)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        Layer = layer;
        Training = training;
        Threads = threads;
        Allocate(maxSeqLen, maxBatch);
        Pool = threads > 1 ? new Threading.WorkerPool(threads) : null;
        Pass = new Sequence.SequencePass(this);
    }

    /// <summary>
    /// Threads a call may use (the caller's included): batch rows are split among them, and the input projection and
    /// input gradient by rows; every row is computed the same way whatever the count, so results are bitwise identical.
    /// </summary>
    public int Threads { get; }

    internal Threading.WorkerPool? Pool { get; }

    internal Sequence.SequencePass Pass { get; }

    /// <summary>Stops the worker threads of a multi-threaded workspace; a single-threaded one holds none. Either way,
    /// a later Forward or Backward with it throws <see cref="ObjectDisposedException"/>, whatever the call's size.</summary>
    public void Dispose()
    {
        IsDisposed = true;
        Pool?.Dispose();
    }

    internal bool IsDisposed { get; private set; }

    /// <summary>The layer this workspace was sized for.</summary>
    public RecurrentLayer Layer { get; }

    /// <summary>Whether forward keeps what backward needs.</summary>
    public bool Training { get; }

    /// <summary>The longest sequence this workspace holds.</summary>
    public int MaxSeqLen { get; private set; }

    /// <summary>The largest batch this workspace holds.</summary>
    public int MaxBatch { get; private set; }

    /// <summary>The size of the block in bytes.</summary>
    public long SizeInBytes => (long)_block.Length * sizeof(float);

    internal int SeqLen { get; set; }

    internal int Batch { get; set; }

    internal bool HasLengths { get; set; }

    internal bool HasForward { get; set; }

    /// <summary>Whether the last forward in this workspace completed (training or not): its top-layer output is held.</summary>
    internal bool HasRun { get; set; }

    internal Span<int> Lengths => _lengths.AsSpan(0, Batch);

    /// <summary>Grows the workspace (one new allocation) when it is smaller than the given shapes; a no-op otherwise.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is below 1, or the block would exceed one array's capacity.</exception>
    public void EnsureCapacity(int maxSeqLen, int maxBatch)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxSeqLen, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBatch, 1);
        if (maxSeqLen > MaxSeqLen || maxBatch > MaxBatch)
        {
            Allocate(Math.Max(maxSeqLen, MaxSeqLen), Math.Max(maxBatch, MaxBatch));
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

    internal Span<byte> Active => _active.AsSpan(0, Batch);

    internal Span<float> X(int count) => _v.X.Of(_block, count);

    internal Span<float> H0(int count) => _v.H0.Of(_block, count);

    internal Span<float> C0(int count) => _v.C0.Of(_block, count);

    internal Span<float> HN(int count) => _v.HN.Of(_block, count);

    internal Span<float> CN(int count) => _v.CN.Of(_block, count);

    internal Span<float> GradHN(int count) => _v.GradHN.Of(_block, count);

    internal Span<float> GradCN(int count) => _v.GradCN.Of(_block, count);

    internal Span<float> GradH0(int count) => _v.GradH0.Of(_block, count);

    internal Span<float> GradC0(int count) => _v.GradC0.Of(_block, count);

    /// <summary>dL/d(layer l's output), time-major: the two gradient buffers alternate going down the layers.</summary>
    internal Span<float> OutputGradientSource(int layer, int count) => ((Layer.Config.NumLayers - 1 - layer) & 1) == 0 ? GradA(count) : GradB(count);

    /// <summary>dL/d(layer l's input), time-major: the buffer the layer below reads as its output gradient.</summary>
    internal Span<float> InputGradientTarget(int layer, int count) => ((Layer.Config.NumLayers - 1 - layer) & 1) == 0 ? GradB(count) : GradA(count);

    internal Span<float> GhStep(int count) => _v.GhStep.Of(_block, count);

    internal Span<float> StateH(int i, int count) => _v.StateH[i].Of(_block, count);

    internal Span<float> StateC(int i, int count) => _v.StateC[i].Of(_block, count);

    internal Span<float> Dh(int i, int count) => _v.Dh[i].Of(_block, count);

    internal Span<float> Dc(int i, int count) => _v.Dc[i].Of(_block, count);

    internal Span<float> GradA(int count) => _v.DA.Of(_block, count);

    internal Span<float> GradB(int count) => _v.DB.Of(_block, count);

    internal Span<float> GradGi(int count) => _v.DGi.Of(_block, count);

    internal Span<float> GradGh(int count) => _v.DGh.Of(_block, count);

    /// <summary>Layer l's output (T, B, D·H): its own buffer in training, two alternating buffers in inference.</summary>
    internal Span<float> LayerOut(int layer, int count) => _v.LayerOut[Training ? layer : layer & 1].Of(_block, count);

    internal Span<float> Gates(int slot, int count) => _v.Gates[Training ? slot : 0].Of(_block, count);

    internal Span<float> Gh(int slot, int count) => _v.Gh[slot].Of(_block, count);

    internal Span<float> HPrev(int slot, int count) => _v.HPrev[slot].Of(_block, count);

    internal Span<float> CPrev(int slot, int count) => _v.CPrev[slot].Of(_block, count);

    internal Span<float> TanhC(int slot, int count) => _v.TanhC[slot].Of(_block, count);

    private void Allocate(int maxSeqLen, int maxBatch)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxSeqLen, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBatch, 1);
        var cfg = Layer.Config;
        long rows = (long)maxSeqLen * maxBatch;
        if (rows > Array.MaxLength)
        {
            // Checked here so that rows × features below cannot overflow a long.
            throw new ArgumentOutOfRangeException(
                nameof(maxSeqLen), $"the workspace would need T·B = {rows} rows, more than one array can hold ({Array.MaxLength}); use a smaller max T or max B");
        }

        long h = cfg.HiddenSize, gh = cfg.GateCount * h, dh = cfg.OutputSize;
        int slots = cfg.NumLayers * cfg.NumDirections;
        bool lstm = cfg.Cell == CellKind.Lstm, gru = cfg.Cell == CellKind.Gru;
        long widest = Math.Max(cfg.InputSize, dh);

        var layout = new WorkspaceLayout();
        var v = new Views();
        v.X = layout.Add(rows * cfg.InputSize);                  // (T, B, I) time-major copy of the input
        v.StateH = [layout.Add((long)maxBatch * h), layout.Add((long)maxBatch * h)];
        v.StateC = lstm ? [layout.Add((long)maxBatch * h), layout.Add((long)maxBatch * h)] : [default, default];
        v.GhStep = layout.Add(gru ? (long)maxBatch * gh : 0);   // inference: W_hh h for one step
        long states = slots * maxBatch * h;                      // (L·D, B, H)
        v.H0 = layout.Add(states);
        v.C0 = layout.Add(lstm ? states : 0);
        v.HN = layout.Add(states);
        v.CN = layout.Add(lstm ? states : 0);
        if (Training)
        {
            v.LayerOut = new Segment[cfg.NumLayers];
            for (int l = 0; l < cfg.NumLayers; l++)
            {
                v.LayerOut[l] = layout.Add(rows * dh);           // (T, B, D·H) per layer
            }

            v.Gates = new Segment[slots];
            v.Gh = new Segment[slots];
            v.HPrev = new Segment[slots];
            v.CPrev = new Segment[slots];
            v.TanhC = new Segment[slots];
            for (int s = 0; s < slots; s++)
            {
                v.Gates[s] = layout.Add(rows * gh);              // (T, B, G·H) projection, then activations
                v.Gh[s] = layout.Add(gru ? rows * gh : 0);       // (T, B, 3H) W_hh h (+ b_hn in the n block)
                v.HPrev[s] = layout.Add(rows * h);               // (T, B, H) state before each time step
                v.CPrev[s] = layout.Add(lstm ? rows * h : 0);
                v.TanhC[s] = layout.Add(lstm ? rows * h : 0);
            }

            v.DA = layout.Add(rows * widest);                    // dL/d(layer output), then dL/d(layer input)
            v.DB = layout.Add(rows * widest);
            v.DGi = layout.Add(rows * gh);                       // (T, B, G·H) pre-activation gradients
            v.DGh = layout.Add(gru ? rows * gh : 0);
            v.Dh = [layout.Add((long)maxBatch * h), layout.Add((long)maxBatch * h)];
            v.Dc = lstm ? [layout.Add((long)maxBatch * h), layout.Add((long)maxBatch * h)] : [default, default];
            v.GradHN = layout.Add(states);
            v.GradCN = layout.Add(lstm ? states : 0);
            v.GradH0 = layout.Add(states);
            v.GradC0 = layout.Add(lstm ? states : 0);
        }
        else
        {
            v.LayerOut = [layout.Add(rows * dh), layout.Add(cfg.NumLayers > 1 ? rows * dh : 0)];
            v.Gates = [layout.Add(rows * gh)];
        }

        // Allocate everything before replacing anything: a refused size (too large for one array, or out of memory)
        // leaves the workspace as it was.
        var block = new float[layout.Total];
        var active = new byte[maxBatch];
        var lengths = new int[maxBatch];
        _v = v;
        _block = block;
        _active = active;
        _lengths = lengths;
        MaxSeqLen = maxSeqLen;
        MaxBatch = maxBatch;
        HasForward = false;
        HasRun = false;
    }

    private sealed class Views
    {
#pragma warning disable CA1051 // a plain bag of segments, written once by Allocate
        public Segment X, GhStep, DA, DB, DGi, DGh;
        public Segment H0, C0, HN, CN, GradHN, GradCN, GradH0, GradC0;
        public Segment[] StateH = [], StateC = [], Dh = [], Dc = [];
        public Segment[] LayerOut = [];
        public Segment[] Gates = [], Gh = [], HPrev = [], CPrev = [], TanhC = [];
#pragma warning restore CA1051
    }
}
