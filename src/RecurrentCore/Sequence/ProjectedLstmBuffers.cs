namespace RecurrentCore.Sequence;

/// <summary>
/// The memory of a projected-LSTM run (<see cref="ProjectedLstm"/>), sized once from (configuration, max T, max B):
/// time-major (T, B, ·) arrays per layer and direction, kept whole in training (what backward reads) and for slot 0
/// only in inference. <see cref="Allocate"/> is the only growth.
/// </summary>
internal sealed class ProjectedLstmBuffers
{
    public ProjectedLstmBuffers(RecurrentConfig config, bool training, int maxSeqLen, int maxBatch)
    {
        Config = config;
        Training = training;
        Allocate(maxSeqLen, maxBatch);
    }

    public RecurrentConfig Config { get; }

    public bool Training { get; }

    public int MaxSeqLen { get; private set; }

    public int MaxBatch { get; private set; }

    public int SeqLen { get; set; }

    public int Batch { get; set; }

    public bool HasForward { get; set; }

    public bool HasRun { get; set; }

    /// <summary>Dropout between layers (training), or null; see <see cref="Memory.LayerDropout"/>.</summary>
    public Memory.LayerDropout? Dropout { get; set; }

    /// <summary>Whether the last forward had a row shorter than T.</summary>
    public bool HasLengths { get; set; }

    public int[] Lengths { get; private set; } = [];

    /// <summary>(T, B, I) time-major copy of the input, padding zeroed.</summary>
    public float[] X { get; private set; } = [];

    /// <summary>Per layer: (T, B, D·P) outputs.</summary>
    public float[][] LayerOut { get; private set; } = [];

    /// <summary>Per slot: (T, B, 4H) gate pre-activations, activated in place.</summary>
    public float[][] Gates { get; private set; } = [];

    /// <summary>Per slot: (T, B, H) c after each step (inactive rows carry c_prev).</summary>
    public float[][] C { get; private set; } = [];

    /// <summary>Per slot: (T, B, H) tanh(c) (training).</summary>
    public float[][] TanhC { get; private set; } = [];

    /// <summary>Per slot: (T, B, H) m = o⊙tanh(c), the projection's input.</summary>
    public float[][] M { get; private set; } = [];

    /// <summary>Per slot: (T, B, P) h after each step (inactive rows carry h_prev).</summary>
    public float[][] HState { get; private set; } = [];

    /// <summary>(L·D, B, P) and (L·D, B, H) initial and final states.</summary>
    public float[] H0 { get; private set; } = [];

    public float[] C0 { get; private set; } = [];

    public float[] HN { get; private set; } = [];

    public float[] CN { get; private set; } = [];

    /// <summary>Backward: (T, B, 4H) dGates of the slot being differentiated.</summary>
    public float[] DGates { get; private set; } = [];

    /// <summary>Backward: (T, B, P) dh of every step (zero on inactive rows), for dW_hr.</summary>
    public float[] DhAll { get; private set; } = [];

    /// <summary>Backward: two (T, B, max(I, D·P)) buffers, the gradient of a layer's output and of its input.</summary>
    public float[] DOutA { get; private set; } = [];

    public float[] DOutB { get; private set; } = [];

    /// <summary>Backward per step: dh, dh_prev (B, P); dc, dc_prev, dm (B, H); the active mask (B).</summary>
    public float[] Dh { get; private set; } = [];

    public float[] DhPrev { get; private set; } = [];

    public float[] Dc { get; private set; } = [];

    public float[] DcPrev { get; private set; } = [];

    public float[] Dm { get; private set; } = [];

    public byte[] Active { get; private set; } = [];

    public long SizeInBytes { get; private set; }

    /// <summary>Sizes every array for (T, B) up to (<paramref name="maxSeqLen"/>, <paramref name="maxBatch"/>).</summary>
    public void Allocate(int maxSeqLen, int maxBatch)
    {
        var cfg = Config;
        int h = cfg.HiddenSize, p = cfg.StateSize, d = cfg.NumDirections, slots = Training ? cfg.NumLayers * d : 1;
        long rows = (long)maxSeqLen * maxBatch;
        long total = 0;
        float[] New(long n)
        {
            total += n;
            return n > Array.MaxLength ? throw new ArgumentOutOfRangeException(nameof(maxSeqLen), "the workspace would exceed one array's capacity") : new float[n];
        }

        float[][] PerSlot(int count, long n)
        {
            var a = new float[count][];
            for (int i = 0; i < count; i++)
            {
                a[i] = New(n);
            }

            return a;
        }

        var x = New(rows * cfg.InputSize);
        var layerOut = PerSlot(Training ? cfg.NumLayers : Math.Min(2, cfg.NumLayers), rows * d * p);
        var gates = PerSlot(slots, rows * 4 * h);
        var c = PerSlot(slots, rows * h);
        var tanhC = PerSlot(Training ? slots : 0, rows * h);
        var m = PerSlot(slots, rows * h);
        var hState = PerSlot(slots, rows * p);
        int states = cfg.NumLayers * d * maxBatch;
        var h0 = New((long)states * p);
        var c0 = New((long)states * h);
        var hn = New((long)states * p);
        var cn = New((long)states * h);
        long widest = Math.Max(cfg.InputSize, d * p);
        var dGates = Training ? New(rows * 4 * h) : [];
        var dhAll = Training ? New(rows * p) : [];
        var dOutA = Training ? New(rows * widest) : [];
        var dOutB = Training ? New(rows * widest) : [];
        var dh = New((long)maxBatch * p);
        var dhPrev = New((long)maxBatch * p);
        var dc = New((long)maxBatch * h);
        var dcPrev = New((long)maxBatch * h);
        var dm = New((long)maxBatch * h);

        // Only once everything exists does the workspace change, so a failed growth leaves it usable.
        X = x;
        LayerOut = layerOut;
        Gates = gates;
        C = c;
        TanhC = tanhC;
        M = m;
        HState = hState;
        H0 = h0;
        C0 = c0;
        HN = hn;
        CN = cn;
        DGates = dGates;
        DhAll = dhAll;
        DOutA = dOutA;
        DOutB = dOutB;
        Dh = dh;
        DhPrev = dhPrev;
        Dc = dc;
        DcPrev = dcPrev;
        Dm = dm;
        Active = new byte[maxBatch];
        Lengths = new int[maxBatch];
        SizeInBytes = total * sizeof(float);
        MaxSeqLen = maxSeqLen;
        MaxBatch = maxBatch;
        HasForward = false;
        HasRun = false;
    }
}
