using RecurrentCore.Kernels;

namespace RecurrentCore.Cells;

/// <summary>
/// A general ONNX cell for one direction, float32 on the fast kernels: every attribute of the ONNX RNN, LSTM and GRU
/// operators that PyTorch's cells (<see cref="LstmCell"/>, <see cref="GruCell"/>, <see cref="ElmanCell{T}"/>) do not
/// have, held as run-time values (activations with α/β, clip, input_forget, peepholes), so one type serves every
/// combination. Chosen once, when a session is built (<see cref="CellCatalog.ForOnnx"/>), and only for nodes whose
/// attributes are not PyTorch's. Weights arrive in ONNX layout and gate order: W (G·H, I), R (G·H, H), Wb and Rb (G·H).
/// Inference only.
/// </summary>
internal abstract class OnnxCell
{
    private readonly PackedMatrix _w;
    private readonly float[] _projectionBias;

    protected OnnxCell(OnnxCellSpec spec, float[] w, float[]? wb, float[]? rb, KernelVariant variant)
    {
        Spec = spec;
        Variant = variant;
        int gh = spec.GateCount * spec.HiddenSize;
        _w = PackedMatrix.Pack(w, gh, spec.InputSize, variant);
        _projectionBias = new float[gh];
        for (int j = 0; j < gh; j++)
        {
            _projectionBias[j] = (wb?[j] ?? 0f) + (FoldsHiddenBias(j) ? rb?[j] ?? 0f : 0f);
        }
    }

    public OnnxCellSpec Spec { get; }

    public KernelVariant Variant { get; }

    /// <summary>G·H, a gate row.</summary>
    public int GateRows => Spec.GateCount * Spec.HiddenSize;

    /// <summary>Whether the cell has a cell state c (LSTM).</summary>
    public bool HasCellState => Spec.Kind == OnnxCellKind.Lstm;

    /// <summary>Floats of <see cref="Step"/> scratch per batch row.</summary>
    public abstract int ScratchPerRow { get; }

    /// <summary>gates (rows, G·H) = x (rows, I)·Wᵀ + the folded bias: the whole sequence's input side in one GEMM.</summary>
    public void Project(ReadOnlySpan<float> x, int rows, Span<float> gates) => Gemm.Multiply(x, rows, _w, _projectionBias, gates, accumulate: false);

    /// <summary>
    /// One step for <paramref name="batch"/> contiguous rows: gates (B, G·H) hold the projection on entry (and are
    /// overwritten); h_prev → h (B, H), c_prev → c (LSTM; may alias). h may not alias h_prev.
    /// </summary>
    public abstract void Step(int batch, Span<float> gates, ReadOnlySpan<float> hPrev, Span<float> h, ReadOnlySpan<float> cPrev, Span<float> c, Span<float> scratch);

    /// <summary>Whether Rb[j] folds into the projection bias (everything but the GRU's Rb_h under r, linear_before_reset 1).</summary>
    protected virtual bool FoldsHiddenBias(int j) => true;

    /// <summary>y (B, N) (+)= x (B, K)·Mᵀ: the packed GEMM for several rows, the row GEMV for one.</summary>
    protected void Recurrent(WeightMatrix m, int batch, ReadOnlySpan<float> x, Span<float> y, bool accumulate)
    {
        if (batch > 1)
        {
            Gemm.Multiply(x[..(batch * m.Columns)], batch, m.Packed, [], y[..(batch * m.Rows)], accumulate);
        }
        else
        {
            Gemv.Multiply(m.RowMajor, m.Rows, m.Columns, x, y, accumulate, Variant);
        }
    }
}
