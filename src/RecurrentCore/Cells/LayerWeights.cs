using RecurrentCore.Kernels;

namespace RecurrentCore.Cells;

/// <summary>
/// The float32 weights of one layer and direction, laid out for the kernels once when a layer is built: W_ih packed
/// for the whole-sequence input projection GEMM and kept row-major for dX = dG·W_ih; W_hh (or, for a cell that
/// <see cref="ICell.SplitsHiddenWeights"/>, its [W_hr; W_hz] and W_hn blocks) row-major, transposed and packed for the
/// per-step products; the biases folded as the cell allows (<see cref="ICell.FoldBias"/>).
/// </summary>
internal sealed class LayerWeights
{
    private readonly CellType _cell;
    private readonly Lock _panelsLock = new();
    private float[]? _panels;
    private float[]? _panelStartSums;
    private int _panelsOffset;
    private int _panelWidth;
    private float[]? _hiddenPanels;
    private int _hiddenPanelWidth;
    private int _hiddenPanelsOffset;
    private nint _hiddenPanelsReady;

    public LayerWeights(CellType cell, int inputSize, int hiddenSize, float[] weightIh, float[] weightHh, float[]? biasIh, float[]? biasHh, KernelVariant variant)
    {
        _cell = cell;
        int gh = cell.GateCount * hiddenSize;
        InputSize = inputSize;
        HiddenSize = hiddenSize;
        GateRows = gh;
        WeightIh = weightIh;
        WeightHh = weightHh;
        BiasIh = biasIh;
        BiasHh = biasHh;
        bool column = hiddenSize < RecurrentProducts.ColumnGemvBelowHidden;
        if (cell.SplitsHiddenWeights)
        {
            Ih = new WeightMatrix(weightIh, 0, gh, inputSize, column ? null : [], 0, variant);
            HiddenRz = new WeightMatrix(weightHh, 0, 2 * hiddenSize, hiddenSize, null, 0, variant);
            HiddenN = new WeightMatrix(weightHh, 2 * hiddenSize * hiddenSize, hiddenSize, hiddenSize, null, 0, variant);
            Hidden = HiddenRz;
        }
        else if (column && cell.RecurrentFirst)
        {
            // [W_ihᵀ; W_hhᵀ] stacked, so a one-row step is one column-blocked GEMV over [x; h].
            FusedTransposed = new float[(inputSize + hiddenSize) * gh];
            Ih = new WeightMatrix(weightIh, 0, gh, inputSize, FusedTransposed, 0, variant);
            Hidden = new WeightMatrix(weightHh, 0, gh, hiddenSize, FusedTransposed, inputSize * gh, variant);
            FusedColumns = gh;
        }
        else if (hiddenSize < RecurrentProducts.GruFusedBelowHidden && cell.KeepsGateBias)
        {
            // GRU with the reset gate after W_hn h: (In + H) × 4H with columns [r | z | n_x | n_h] (zero where a block
            // has no input: W_in no h part, W_hn no x part), so a one-row step is one column-blocked GEMV over [x; h]
            // whose 4H columns fill whole registers (3H = 48 would not at H = 16).
            Ih = new WeightMatrix(weightIh, 0, gh, inputSize, null, 0, variant);
            Hidden = new WeightMatrix(weightHh, 0, gh, hiddenSize, null, 0, variant);
            FusedTransposed = new float[(inputSize + hiddenSize) * (gh + hiddenSize)];
            FusedColumns = gh + hiddenSize;
            FillGruFused();
        }
        else
        {
            Ih = new WeightMatrix(weightIh, 0, gh, inputSize, column ? null : [], 0, variant);
            Hidden = new WeightMatrix(weightHh, 0, gh, hiddenSize, null, 0, variant);
        }

        HiddenN ??= Hidden;
        ProjectionBias = biasIh is null ? [] : new float[gh];
        GateBiasHh = biasHh is not null && cell.KeepsGateBias ? biasHh : [];
        FoldBias();
    }

    public int InputSize { get; }

    public int HiddenSize { get; }

    /// <summary>G·H, the rows of both weight matrices.</summary>
    public int GateRows { get; }

    /// <summary>(G·H, In) row-major, PyTorch layout.</summary>
    public float[] WeightIh { get; }

    /// <summary>(G·H, H) row-major, PyTorch layout.</summary>
    public float[] WeightHh { get; }

    public float[]? BiasIh { get; }

    public float[]? BiasHh { get; }

    /// <summary>W_ih: packed for the projection GEMM; transposed too when one-row steps run column-blocked.</summary>
    public WeightMatrix Ih { get; }

    public PackedMatrix PackedIh => Ih.Packed;

    /// <summary>W_hh for the per-step products ([W_hr; W_hz] for a cell that splits it).</summary>
    public WeightMatrix Hidden { get; }

    /// <summary>[W_hr; W_hz] (2H × H), for a cell that splits W_hh; else <see cref="Hidden"/>.</summary>
    public WeightMatrix? HiddenRz { get; }

    /// <summary>W_hn (H × H), for a cell that splits W_hh; else <see cref="Hidden"/>.</summary>
    public WeightMatrix HiddenN { get; }

    /// <summary>
    /// [W_ihᵀ; W_hhᵀ] ((In + H) × G·H) when a one-row step may fuse the two products (small H, a RecurrentFirst cell);
    /// the GRU layout of <see cref="FusedColumns"/> columns for GRU at small H; else null.
    /// </summary>
    public float[]? FusedTransposed { get; }

    /// <summary>
    /// The columns of <see cref="FusedTransposed"/>: G·H for a RecurrentFirst cell, 4H ([r | z | n_x | n_h]) for GRU
    /// with the reset gate after the product; 0 when there is none.
    /// </summary>
    public int FusedColumns { get; }

    /// <summary>Added by the input projection: what the cell folds of b_ih + b_hh, or empty.</summary>
    public float[] ProjectionBias { get; }

    /// <summary>b_hh for a cell that keeps it for the gate kernel; empty otherwise.</summary>
    public float[] GateBiasHh { get; }

    /// <summary>
    /// The gate panels of this layer for registers of <paramref name="width"/> lanes
    /// (<see cref="ColumnGatePanels.Pack"/>: (In + H)·G·H floats after each register's starting sums, the biases of
    /// <see cref="ICell.PanelStartSums"/>; pinned, starting on a 64-byte boundary and kept alive by this object), laid out on first use by a one-row stream of a cell that <see cref="ICell.GatesFromProduct"/>
    /// and kept in step with the weights by <see cref="Refresh"/>.
    /// </summary>
    public unsafe float* GatePanels(int width)
    {
        lock (_panelsLock)
        {
            if (_panels is null || _panelWidth != width)
            {
                int length = ColumnGatePanels.Length(InputSize, HiddenSize, _cell.GateCount, startSums: true);
                var panels = ColumnGatePanels.Allocate(length, out int offset);
                PackGatePanels(width, panels.AsSpan(offset, length));
                _panelWidth = width;
                _panelsOffset = offset;
                _panels = panels;
            }

            return (float*)System.Runtime.CompilerServices.Unsafe.AsPointer(ref _panels[_panelsOffset]);
        }
    }

    /// <summary>
    /// W_hh alone as gate panels for registers of <paramref name="width"/> lanes (<see cref="ColumnGatePanels.Pack"/>
    /// with no input rows: H·G·H floats, pinned, 64-byte aligned so no 512-bit load splits a cache line), for the one-row
    /// sequence loop, whose input projection is a GEMM over all steps: a step then streams only W_hh. Laid out on first
    /// use (a workspace that may run it asks when it is built) and again on the first use after <see cref="Refresh"/>, so
    /// a training loop pays for it only when it runs inference in between. Valid while this object lives (a layer asks for
    /// one width only: its variant's).
    /// </summary>
    public unsafe float* HiddenPanels(int width)
    {
        // Every Forward asks: once laid out and current, answer without the lock. The pointer is published (release)
        // only after the packing below and cleared by Refresh, so a non-zero pointer read here (acquire) always comes
        // after its panels' data, on any memory model. Refresh never runs beside a Forward.
        nint ready = Volatile.Read(ref _hiddenPanelsReady);
        if (ready != 0 && _hiddenPanelWidth == width)
        {
            return (float*)ready;
        }

        lock (_panelsLock)
        {
            int length = ColumnGatePanels.Length(0, HiddenSize, _cell.GateCount);
            if (_hiddenPanels is null || _hiddenPanelWidth != width)
            {
                _hiddenPanelsReady = 0;
                _hiddenPanels = ColumnGatePanels.Allocate(length, out _hiddenPanelsOffset);
                _hiddenPanelWidth = width;
            }

            float* aligned = (float*)System.Runtime.CompilerServices.Unsafe.AsPointer(ref _hiddenPanels[_hiddenPanelsOffset]);
            if (_hiddenPanelsReady == 0)
            {
                ColumnGatePanels.Pack([], WeightHh, 0, HiddenSize, _cell.GateCount, width, new Span<float>(aligned, length));
                Volatile.Write(ref _hiddenPanelsReady, (nint)aligned);
            }

            return aligned;
        }
    }

    /// <summary>
    /// Re-derives the transposed, packed and folded copies after the row-major weights or biases were changed in place
    /// (training); allocates nothing.
    /// </summary>
    public void Refresh()
    {
        Ih.Refresh();
        Hidden.Refresh();
        if (HiddenRz is not null)
        {
            HiddenN.Refresh();
        }

        if (!_cell.RecurrentFirst && FusedTransposed is not null)
        {
            FillGruFused();
        }

        lock (_panelsLock)
        {
            if (_panels is not null)
            {
                int length = ColumnGatePanels.Length(InputSize, HiddenSize, _cell.GateCount, startSums: true);
                PackGatePanels(_panelWidth, _panels.AsSpan(_panelsOffset, length));
            }

            // Stale: the next HiddenPanels re-packs them before publishing the pointer again.
            Volatile.Write(ref _hiddenPanelsReady, 0);
        }

        FoldBias();
    }

    /// <summary>[W_ih | W_hh] as the step's gate panels, each register's starting with its biases (zero without bias).</summary>
    private void PackGatePanels(int width, Span<float> panels)
    {
        // Kept beside the panels, so Refresh allocates nothing.
        var sums = _panelStartSums ??= new float[ColumnGatePanels.StartRegisters * HiddenSize];
        if (BiasIh is not null && BiasHh is not null)
        {
            _cell.PanelStartSums(BiasIh, BiasHh, HiddenSize, sums);
        }

        ColumnGatePanels.Pack(WeightIh, WeightHh, InputSize, HiddenSize, _cell.GateCount, width, panels, sums);
    }

    /// <summary>Writes the non-zero blocks of the GRU [r | z | n_x | n_h] layout from the row-major weights.</summary>
    private void FillGruFused()
    {
        var dst = FusedTransposed.AsSpan();
        int i = InputSize, h = HiddenSize, gh = GateRows, ld = FusedColumns;
        for (int g = 0; g < gh; g++)
        {
            for (int k = 0; k < i; k++)
            {
                dst[(k * ld) + g] = WeightIh[(g * i) + k];
            }

            // W_hn h goes to its own block n_h, after n_x.
            int col = g < 2 * h ? g : g + h;
            for (int k = 0; k < h; k++)
            {
                dst[((i + k) * ld) + col] = WeightHh[(g * h) + k];
            }
        }
    }

    private void FoldBias()
    {
        if (BiasIh is not null && BiasHh is not null)
        {
            _cell.FoldBias(BiasIh, BiasHh, ProjectionBias);
        }
    }
}
