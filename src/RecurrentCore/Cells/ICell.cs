using RecurrentCore.Kernels;
using RecurrentCore.Kernels.Simd;

namespace RecurrentCore.Cells;

/// <summary>
/// A recurrent cell as a type: what it needs (gates, state, buffers, bias folding) and one time step for B rows,
/// forward and backward side by side. Static members, so the sequence loops that are generic over a cell compile to
/// direct calls; the cell is chosen once, when a layer is built (<see cref="CellCatalog"/>).
/// </summary>
internal interface ICell
{
    /// <summary>G, the gate blocks stacked in W_ih and W_hh.</summary>
    static abstract int GateCount { get; }

    /// <summary>Whether the cell carries a cell state c besides h.</summary>
    static abstract bool HasCellState { get; }

    /// <summary>
    /// Whether the step begins with gates += h_prev·W_hhᵀ over all G·H rows and reads h_prev nowhere else, so a
    /// one-row step may fold that product into the input projection ([W_ih | W_hh] over [x; h]).
    /// </summary>
    static abstract bool RecurrentFirst { get; }

    /// <summary>Whether W_hh is kept as [W_hr; W_hz] and W_hn (the reset gate applies before W_hn).</summary>
    static abstract bool SplitsHiddenWeights { get; }

    /// <summary>Whether b_hh is handed to the gate kernel (it cannot be folded into the projection).</summary>
    static abstract bool KeepsGateBias { get; }

    /// <summary>Floats per row the forward and backward step use as scratch.</summary>
    static abstract int StepScratchWidth(int hidden);

    /// <summary>Floats per row and time step a training forward keeps for backward beside the activations.</summary>
    static abstract int SavedWidth(int hidden);

    /// <summary>Floats per row and time step of a separate hidden-side gradient buffer (or its scratch).</summary>
    static abstract int HiddenGradientWidth(int hidden);

    /// <summary>The projection bias (G·H) from b_ih and b_hh: what can be folded into W_ih x.</summary>
    static abstract void FoldBias(ReadOnlySpan<float> biasIh, ReadOnlySpan<float> biasHh, Span<float> projectionBias);

    /// <summary>One forward step; see <see cref="ForwardStep"/> for the buffers.</summary>
    static abstract void Forward<TProduct>(ref ForwardStep s)
        where TProduct : IRecurrentProduct;

    /// <summary>
    /// One forward step for one row at width <typeparamref name="TS"/> with no checks or dispatch: the streaming step's
    /// and the one-row sequence loop's entry. Same contract as <see cref="Forward"/> without masks.
    /// </summary>
    static abstract unsafe void ForwardRow<TProduct, TS, TV>(LayerWeights w, in RowStep s)
        where TProduct : IRecurrentProduct
        where TS : struct, ISimd<TV>
        where TV : unmanaged;

    /// <summary>
    /// Whether <see cref="ForwardFromProduct"/> exists: the cell's gates take G = 3 or 4 blocks of sums over
    /// [W_ih | W_hh] rows straight from registers (<see cref="LayerWeights.GatePanels"/>).
    /// </summary>
    static virtual bool GatesFromProduct => false;

    /// <summary>
    /// What the four block sums of <see cref="ForwardFromProduct"/> start from (<see cref="ColumnGatePanels.Pack"/>'s
    /// starting sums, 4·H floats): the biases, so none is added after the product. Only where
    /// <see cref="GatesFromProduct"/>.
    /// </summary>
    static virtual void PanelStartSums(ReadOnlySpan<float> biasIh, ReadOnlySpan<float> biasHh, int hidden, Span<float> sums) =>
        throw new NotSupportedException("this cell has no gates-from-product step");

    /// <summary>
    /// One inference step for one row as a single pass over the layer's gate panels (<paramref name="panels"/>,
    /// <see cref="LayerWeights.GatePanels"/> for width <typeparamref name="TS"/>, whose starting sums hold the biases):
    /// the product over x (<paramref name="x"/>) and h_prev (<paramref name="hPrev"/>, a copy, so <see cref="RowStep.H"/>
    /// may be the state, or the state itself when H is one register), the gates applied per register of sums. Only where
    /// <see cref="GatesFromProduct"/> and H is a multiple of <c>TS.Count</c>; <see cref="RowStep.Gates"/>,
    /// <see cref="RowStep.HPrev"/> and <see cref="RowStep.Bias"/> are not used.
    /// </summary>
    static virtual unsafe void ForwardFromProduct<TS, TV>(LayerWeights weights, float* panels, float* x, float* hPrev, bool descending, in RowStep s)
        where TS : struct, ISimd<TV>
        where TV : unmanaged => throw new NotSupportedException("this cell has no gates-from-product step");

    /// <summary>
    /// One inference step of the one-row sequence loop as a single pass over W_hh's gate panels
    /// (<paramref name="panels"/>, <see cref="LayerWeights.HiddenPanels"/> for width <typeparamref name="TS"/>):
    /// <see cref="RowStep.Gates"/> holds the step's input projection (W_ih x + the folded bias) and is added to the sums
    /// over <see cref="RowStep.HPrev"/>, which must not be <see cref="RowStep.H"/>; the gates applied per register of sums.
    /// Only where <see cref="GatesFromProduct"/> and H is a multiple of <c>TS.Count</c>.
    /// </summary>
    static virtual unsafe void ForwardFromHiddenPanels<TS, TV>(LayerWeights weights, float* panels, bool descending, in RowStep s)
        where TS : struct, ISimd<TV>
        where TV : unmanaged => throw new NotSupportedException("this cell has no gates-from-product step");

    /// <summary>One backward step; see <see cref="BackwardStep"/> for the buffers.</summary>
    static abstract void Backward<TProduct>(ref BackwardStep s)
        where TProduct : IRecurrentProduct;

    /// <summary>
    /// dW_hh += (hidden-side gradient)ᵀ·(what W_hh multiplied), db_hh += Σ rows, over <paramref name="rows"/> rows of
    /// one piece of the sequence, for the gate rows <paramref name="from"/>..<paramref name="to"/> of dW_hh and db_hh only
    /// (threads split the gate rows; each row's bits are the same for any split). <paramref name="dGh"/> is not written.
    /// </summary>
    static abstract void HiddenWeightGradients(
        LayerWeights w, int rows, ReadOnlySpan<float> dGates, Span<float> dGh, ReadOnlySpan<float> hPrev, ReadOnlySpan<float> saved,
        Span<float> dWeightHh, Span<float> dBiasHh, KernelVariant variant, int from, int to);
}

/// <summary>
/// The buffers of one forward step for B rows. Row strides are the gate width G·H for <see cref="Gates"/>, H for the
/// cell state, <see cref="HPrevStride"/> for h_prev and <see cref="HStride"/> for h (the layer output's row stride when h
/// is written in place there).
/// </summary>
internal ref struct ForwardStep
{
    public LayerWeights Weights;
    public int Batch;
    public KernelVariant Variant;

    /// <summary>Training: keep the activations in <see cref="Gates"/> and what backward needs in <see cref="Saved"/>.</summary>
    public bool Training;

    /// <summary>False when the caller already added h_prev·W_hhᵀ (a fused one-row step of a RecurrentFirst cell).</summary>
    public bool AddRecurrent;

    /// <summary>(B, G·H): the input projection W_ih x + folded bias on entry; activations after a training step.</summary>
    public Span<float> Gates;

    /// <summary>(B, H) at <see cref="HPrevStride"/>; contiguous when B &gt; 1 (the recurrent GEMM reads it so).</summary>
    public ReadOnlySpan<float> HPrev;

    public int HPrevStride;

    /// <summary>(B, H) at <see cref="HStride"/>: the new hidden state; may be <see cref="HPrev"/> itself.</summary>
    public Span<float> H;

    public int HStride;

    /// <summary>(B, H) previous and new cell state (LSTM); c may be cPrev itself.</summary>
    public ReadOnlySpan<float> CPrev;

    public Span<float> C;

    /// <summary>(B, SavedWidth) kept for backward in training; empty in inference.</summary>
    public Span<float> Saved;

    /// <summary>(B, StepScratchWidth).</summary>
    public Span<float> Scratch;

    /// <summary>Active rows (variable lengths): inactive rows keep h_prev and c_prev. Empty: all active.</summary>
    public ReadOnlySpan<byte> Active;
}

/// <summary>
/// The buffers of one backward step for B rows: from dh and dc arriving at the step's outputs, the pre-activation
/// gradients (zero for inactive rows) and dh_prev, dc_prev (inactive rows pass dh and dc through).
/// </summary>
internal ref struct BackwardStep
{
    public LayerWeights Weights;
    public int Batch;
    public KernelVariant Variant;

    /// <summary>(B, G·H) the saved activations.</summary>
    public ReadOnlySpan<float> Gates;

    /// <summary>(B, H) at <see cref="HPrevStride"/>: the state before the step.</summary>
    public ReadOnlySpan<float> HPrev;

    public int HPrevStride;

    /// <summary>(B, H) at <see cref="HStride"/>: the state after the step (the layer output).</summary>
    public ReadOnlySpan<float> H;

    public int HStride;

    /// <summary>(B, H) the cell state before the step (LSTM).</summary>
    public ReadOnlySpan<float> CPrev;

    /// <summary>(B, SavedWidth) what the forward step kept.</summary>
    public ReadOnlySpan<float> Saved;

    /// <summary>(B, H) dL/dh and dL/dc arriving at this step's outputs.</summary>
    public ReadOnlySpan<float> Dh;

    public ReadOnlySpan<float> Dc;

    /// <summary>(B, G·H) receives dL/d(pre-activations) (the input side's gradient).</summary>
    public Span<float> DGates;

    /// <summary>(B, HiddenGradientWidth) the hidden side's gradient where it differs from <see cref="DGates"/>.</summary>
    public Span<float> DGh;

    /// <summary>(B, H) receive dL/dh_prev and dL/dc_prev.</summary>
    public Span<float> DhPrev;

    public Span<float> DcPrev;

    /// <summary>(B, StepScratchWidth).</summary>
    public Span<float> Scratch;

    public ReadOnlySpan<byte> Active;
}

/// <summary>The buffers of one one-row forward step as pointers (each valid for the step's widths); null where unused.</summary>
internal unsafe struct RowStep
{
    /// <summary>G·H: the projection on entry (plus h_prev·W_hhᵀ when <see cref="AddRecurrent"/> is false).</summary>
    public float* Gates;

    /// <summary>G·H: the folded projection bias when <see cref="Gates"/> does not hold it yet (the gate kernel adds it); else null.</summary>
    public float* Bias;

    /// <summary>H each; h may be h_prev, c may be c_prev.</summary>
    public float* HPrev;
    public float* H;
    public float* CPrev;
    public float* C;

    /// <summary>The cell's saved width (training) and step scratch width.</summary>
    public float* Saved;
    public float* Scratch;
    public bool Training;
    public bool AddRecurrent;
}
