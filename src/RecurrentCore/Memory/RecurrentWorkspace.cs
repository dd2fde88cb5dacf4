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

    // Named views (see Layout for their shapes).
    private Segment _x, _ghStep, _dA, _dB, _dGi, _dGh;
    private Segment _h0, _c0, _hn, _cn, _gradHN, _gradCN, _gradH0, _gradC0;
    private Segment[] _stateH = [], _stateC = [], _dh = [], _dc = [];
    private Segment[] _layerOut = [];
    private Segment[] _gates = [], _gh = [], _hPrev = [], _cPrev = [], _tanhC = [];

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

    internal Span<int> Lengths => _lengths.AsSpan(0, Batch);

    /// <summary>Grows the workspace (one new allocation) when it is smaller than the given shapes; a no-op otherwise.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is below 1, or the block would exceed one array's capacity.</exception>
    public void EnsureCapacity(int maxSeqLen, int maxBatch)
    {
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

    internal Span<float> H0(int count) => _h0.Of(_block, count);

    internal Span<float> C0(int count) => _c0.Of(_block, count);

    internal Span<float> HN(int count) => _hn.Of(_block, count);

    internal Span<float> CN(int count) => _cn.Of(_block, count);

    internal Span<float> GradHN(int count) => _gradHN.Of(_block, count);

    internal Span<float> GradCN(int count) => _gradCN.Of(_block, count);

    internal Span<float> GradH0(int count) => _gradH0.Of(_block, count);

    internal Span<float> GradC0(int count) => _gradC0.Of(_block, count);

    /// <summary>Stops the worker threads of a multi-threaded workspace; a single-threaded one holds none.</summary>
    public void Dispose() => Pool?.Dispose();

    internal Span<float> X(int count) => _x.Of(_block, count);

    internal Span<float> GhStep(int count) => _ghStep.Of(_block, count);

    internal Span<float> StateH(int i, int count) => _stateH[i].Of(_block, count);

    internal Span<float> StateC(int i, int count) => _stateC[i].Of(_block, count);

    internal Span<float> Dh(int i, int count) => _dh[i].Of(_block, count);

    internal Span<float> Dc(int i, int count) => _dc[i].Of(_block, count);

    internal Span<float> GradA(int count) => _dA.Of(_block, count);

    internal Span<float> GradB(int count) => _dB.Of(_block, count);

    /// <summary>dL/d(layer l's output), time-major: the two gradient buffers alternate going down the layers.</summary>
    internal Span<float> OutputGradientSource(int layer, int count) => ((Layer.Config.NumLayers - 1 - layer) & 1) == 0 ? GradA(count) : GradB(count);

    /// <summary>dL/d(layer l's input), time-major: the buffer the layer below reads as its output gradient.</summary>
    internal Span<float> InputGradientTarget(int layer, int count) => ((Layer.Config.NumLayers - 1 - layer) & 1) == 0 ? GradB(count) : GradA(count);

    internal Span<float> GradGi(int count) => _dGi.Of(_block, count);

    internal Span<float> GradGh(int count) => _dGh.Of(_block, count);

    /// <summary>Layer l's output (T, B, D·H): its own buffer in training, two alternating buffers in inference.</summary>
    internal Span<float> LayerOut(int layer, int count) => _layerOut[Training ? layer : layer & 1].Of(_block, count);

    internal Span<float> Gates(int slot, int count) => _gates[Training ? slot : 0].Of(_block, count);

    internal Span<float> Gh(int slot, int count) => _gh[slot].Of(_block, count);

    internal Span<float> HPrev(int slot, int count) => _hPrev[slot].Of(_block, count);

    internal Span<float> CPrev(int slot, int count) => _cPrev[slot].Of(_block, count);

    internal Span<float> TanhC(int slot, int count) => _tanhC[slot].Of(_block, count);

    private void Allocate(int maxSeqLen, int maxBatch)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxSeqLen, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBatch, 1);
        var cfg = Layer.Config;
        long rows = (long)maxSeqLen * maxBatch;
        int h = cfg.HiddenSize, gh = cfg.GateCount * h, dh = cfg.OutputSize;
        int slots = cfg.NumLayers * cfg.NumDirections;
        bool lstm = cfg.Cell == CellKind.Lstm, gru = cfg.Cell == CellKind.Gru;
        int widest = Math.Max(cfg.InputSize, dh);

        var layout = new WorkspaceLayout();
        _x = layout.Add(rows * cfg.InputSize);                  // (T, B, I) time-major copy of the input
        _stateH = [layout.Add((long)maxBatch * h), layout.Add((long)maxBatch * h)];
        _stateC = lstm ? [layout.Add((long)maxBatch * h), layout.Add((long)maxBatch * h)] : [default, default];
        _ghStep = layout.Add(gru ? (long)maxBatch * gh : 0);   // inference: W_hh h for one step
        long states = (long)slots * maxBatch * h;               // (L·D, B, H)
        _h0 = layout.Add(states);
        _c0 = layout.Add(lstm ? states : 0);
        _hn = layout.Add(states);
        _cn = layout.Add(lstm ? states : 0);
        if (Training)
        {
            _layerOut = new Segment[cfg.NumLayers];
            for (int l = 0; l < cfg.NumLayers; l++)
            {
                _layerOut[l] = layout.Add(rows * dh);           // (T, B, D·H) per layer
            }

            _gates = new Segment[slots];
            _gh = new Segment[slots];
            _hPrev = new Segment[slots];
            _cPrev = new Segment[slots];
            _tanhC = new Segment[slots];
            for (int s = 0; s < slots; s++)
            {
                _gates[s] = layout.Add(rows * gh);              // (T, B, G·H) projection, then activations
                _gh[s] = layout.Add(gru ? rows * gh : 0);       // (T, B, 3H) W_hh h (+ b_hn in the n block)
                _hPrev[s] = layout.Add(rows * h);               // (T, B, H) state before each time step
                _cPrev[s] = layout.Add(lstm ? rows * h : 0);
                _tanhC[s] = layout.Add(lstm ? rows * h : 0);
            }

            _dA = layout.Add(rows * widest);                    // dL/d(layer output), then dL/d(layer input)
            _dB = layout.Add(rows * widest);
            _dGi = layout.Add(rows * gh);                       // (T, B, G·H) pre-activation gradients
            _dGh = layout.Add(gru ? rows * gh : 0);
            _dh = [layout.Add((long)maxBatch * h), layout.Add((long)maxBatch * h)];
            _gradHN = layout.Add(states);
            _gradCN = layout.Add(lstm ? states : 0);
            _gradH0 = layout.Add(states);
            _gradC0 = layout.Add(lstm ? states : 0);
            _dc = lstm ? [layout.Add((long)maxBatch * h), layout.Add((long)maxBatch * h)] : [default, default];
        }
        else
        {
            _layerOut = [layout.Add(rows * dh), layout.Add(cfg.NumLayers > 1 ? rows * dh : 0)];
            _gates = [layout.Add(rows * gh)];
        }

        _block = new float[layout.Total];
        _active = new byte[maxBatch];
        _lengths = new int[maxBatch];
        MaxSeqLen = maxSeqLen;
        MaxBatch = maxBatch;
        HasForward = false;
    }
}
