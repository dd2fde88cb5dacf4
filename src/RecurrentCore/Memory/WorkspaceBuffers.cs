using RecurrentCore.Cells;

namespace RecurrentCore.Memory;

/// <summary>
/// The memory of a sequence workspace: one float block sized once from (configuration, cell, max T, max B) and sliced
/// into named views, plus what the last forward recorded (shapes, lengths) for backward. <see cref="Allocate"/> is the
/// only growth; it replaces the block whole, and only once the new one exists.
/// </summary>
internal sealed class WorkspaceBuffers
{
    private float[] _block = [];
    private byte[] _active = [];
    private int[] _lengths = [];
    private Views _v = new();

    public WorkspaceBuffers(RecurrentConfig config, CellType cell, bool training, int maxSeqLen, int maxBatch)
    {
        Config = config;
        Cell = cell;
        Training = training;
        Allocate(maxSeqLen, maxBatch);
    }

    public RecurrentConfig Config { get; }

    public CellType Cell { get; }

    public bool Training { get; }

    public int MaxSeqLen { get; private set; }

    public int MaxBatch { get; private set; }

    public long SizeInBytes => (long)_block.Length * sizeof(float);

    public int SeqLen { get; set; }

    public int Batch { get; set; }

    public bool HasLengths { get; set; }

    public bool HasForward { get; set; }

    /// <summary>Whether the last forward completed (training or not): its top-layer output is held.</summary>
    public bool HasRun { get; set; }

    public Span<int> Lengths => _lengths.AsSpan(0, Batch);

    public Span<byte> Active => _active.AsSpan(0, Batch);

    public Span<float> X(int count) => _v.X.Of(_block, count);

    public Span<float> H0(int count) => _v.H0.Of(_block, count);

    public Span<float> C0(int count) => _v.C0.Of(_block, count);

    public Span<float> HN(int count) => _v.HN.Of(_block, count);

    public Span<float> CN(int count) => _v.CN.Of(_block, count);

    public Span<float> GradHN(int count) => _v.GradHN.Of(_block, count);

    public Span<float> GradCN(int count) => _v.GradCN.Of(_block, count);

    public Span<float> GradH0(int count) => _v.GradH0.Of(_block, count);

    public Span<float> GradC0(int count) => _v.GradC0.Of(_block, count);

    /// <summary>dL/d(layer l's output), time-major: the two gradient buffers alternate going down the layers.</summary>
    public Span<float> OutputGradientSource(int layer, int count) => ((Config.NumLayers - 1 - layer) & 1) == 0 ? _v.DA.Of(_block, count) : _v.DB.Of(_block, count);

    /// <summary>dL/d(layer l's input), time-major: the buffer the layer below reads as its output gradient.</summary>
    public Span<float> InputGradientTarget(int layer, int count) => ((Config.NumLayers - 1 - layer) & 1) == 0 ? _v.DB.Of(_block, count) : _v.DA.Of(_block, count);

    /// <summary>(max B, the cell's step scratch width), shared by the forward and backward steps.</summary>
    public Span<float> StepScratch(int count) => _v.StepScratch.Of(_block, count);

    public Span<float> StateH(int i, int count) => _v.StateH[i].Of(_block, count);

    public Span<float> StateC(int i, int count) => _v.StateC[i].Of(_block, count);

    public Span<float> Dh(int i, int count) => _v.Dh[i].Of(_block, count);

    public Span<float> Dc(int i, int count) => _v.Dc[i].Of(_block, count);

    public Span<float> GradGi(int count) => _v.DGi.Of(_block, count);

    /// <summary>(T, B, the cell's hidden-gradient width): the hidden side's gradient, or its scratch.</summary>
    public Span<float> GradGh(int count) => _v.DGh.Of(_block, count);

    /// <summary>Dropout between layers (training), or null; see <see cref="LayerDropout"/>.</summary>
    public LayerDropout? Dropout { get; set; }

    /// <summary>What layer l ≥ 1 reads (T, B, D·H): layer l − 1's output, or its dropped copy when the last forward applied dropout.</summary>
    public Span<float> LayerInput(int layer, int count) =>
        Dropout is { Active: true } d && layer < Config.NumLayers ? d.Dropped(layer - 1, count) : LayerOut(layer - 1, count);

    /// <summary>Layer l's output (T, B, D·H): its own buffer in training, two alternating buffers in inference.</summary>
    public Span<float> LayerOut(int layer, int count) => _v.LayerOut[Training ? layer : layer & 1].Of(_block, count);

    public Span<float> Gates(int slot, int count) => _v.Gates[Training ? slot : 0].Of(_block, count);

    /// <summary>(T, B, the cell's saved width): what a training forward keeps for backward beside the activations.</summary>
    public Span<float> Saved(int slot, int count) => _v.Saved[slot].Of(_block, count);

    public Span<float> HPrev(int slot, int count) => _v.HPrev[slot].Of(_block, count);

    public Span<float> CPrev(int slot, int count) => _v.CPrev[slot].Of(_block, count);

    /// <summary>Sizes the block for the given shapes; a refused size (too large, out of memory) leaves everything as it was.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is below 1, or the block would exceed one array's capacity.</exception>
    public void Allocate(int maxSeqLen, int maxBatch)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxSeqLen, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBatch, 1);
        var cfg = Config;
        long rows = (long)maxSeqLen * maxBatch;
        if (rows > Array.MaxLength)
        {
            // Checked here so that rows × features below cannot overflow a long.
            throw new ArgumentOutOfRangeException(
                nameof(maxSeqLen), $"the workspace would need T·B = {rows} rows, more than one array can hold ({Array.MaxLength}); use a smaller max T or max B");
        }

        int hidden = cfg.HiddenSize;
        long h = hidden, gh = Cell.GateCount * h, dh = cfg.OutputSize;
        int slots = cfg.NumLayers * cfg.NumDirections;
        bool hasC = Cell.HasCellState;
        long widest = Math.Max(cfg.InputSize, dh);

        var layout = new WorkspaceLayout();
        var v = new Views();
        v.X = layout.Add(rows * cfg.InputSize);                  // (T, B, I) time-major copy of the input
        v.StateH = [layout.Add((long)maxBatch * h), layout.Add((long)maxBatch * h)];
        v.StateC = hasC ? [layout.Add((long)maxBatch * h), layout.Add((long)maxBatch * h)] : [default, default];
        v.StepScratch = layout.Add(maxBatch * (long)Cell.StepScratchWidth(hidden));
        long states = slots * maxBatch * h;                      // (L·D, B, H)
        v.H0 = layout.Add(states);
        v.C0 = layout.Add(hasC ? states : 0);
        v.HN = layout.Add(states);
        v.CN = layout.Add(hasC ? states : 0);
        if (Training)
        {
            v.LayerOut = new Segment[cfg.NumLayers];
            for (int l = 0; l < cfg.NumLayers; l++)
            {
                v.LayerOut[l] = layout.Add(rows * dh);           // (T, B, D·H) per layer
            }

            v.Gates = new Segment[slots];
            v.Saved = new Segment[slots];
            v.HPrev = new Segment[slots];
            v.CPrev = new Segment[slots];
            for (int s = 0; s < slots; s++)
            {
                v.Gates[s] = layout.Add(rows * gh);              // (T, B, G·H) projection, then activations
                v.Saved[s] = layout.Add(rows * Cell.SavedWidth(hidden));
                v.HPrev[s] = layout.Add(rows * h);               // (T, B, H) state before each time step
                v.CPrev[s] = layout.Add(hasC ? rows * h : 0);
            }

            v.DA = layout.Add(rows * widest);                    // dL/d(layer output), then dL/d(layer input)
            v.DB = layout.Add(rows * widest);
            v.DGi = layout.Add(rows * gh);                       // (T, B, G·H) pre-activation gradients
            v.DGh = layout.Add(rows * Cell.HiddenGradientWidth(hidden));
            v.Dh = [layout.Add((long)maxBatch * h), layout.Add((long)maxBatch * h)];
            v.Dc = hasC ? [layout.Add((long)maxBatch * h), layout.Add((long)maxBatch * h)] : [default, default];
            v.GradHN = layout.Add(states);
            v.GradCN = layout.Add(hasC ? states : 0);
            v.GradH0 = layout.Add(states);
            v.GradC0 = layout.Add(hasC ? states : 0);
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
        public Segment X, StepScratch, DA, DB, DGi, DGh;
        public Segment H0, C0, HN, CN, GradHN, GradCN, GradH0, GradC0;
        public Segment[] StateH = [], StateC = [], Dh = [], Dc = [];
        public Segment[] LayerOut = [];
        public Segment[] Gates = [], Saved = [], HPrev = [], CPrev = [];
#pragma warning restore CA1051
    }
}
