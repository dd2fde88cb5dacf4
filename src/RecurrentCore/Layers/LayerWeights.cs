using RecurrentCore.Kernels;

namespace RecurrentCore.Layers;

/// <summary>
/// The float32 weights of one layer and direction, laid out for the kernels once when a layer is built:
/// W_ih packed for the whole-sequence input projection GEMM and kept row-major for dX = dG·W_ih; W_hh row-major for
/// the per-step GEMV (B = 1) and dh = dG·W_hh, and packed for the per-step GEMM (B &gt; 1); the biases folded where
/// the math allows (all of b_hh for LSTM and RNN; GRU keeps b_hh apart, since r multiplies W_hn h + b_hn).
/// </summary>
internal sealed class LayerWeights
{
    public LayerWeights(CellKind cell, int inputSize, int hiddenSize, float[] weightIh, float[] weightHh, float[]? biasIh, float[]? biasHh, KernelVariant variant)
    {
        int gh = cell.GateCount() * hiddenSize;
        InputSize = inputSize;
        HiddenSize = hiddenSize;
        GateRows = gh;
        WeightIh = weightIh;
        WeightHh = weightHh;
        BiasIh = biasIh;
        BiasHh = biasHh;
        PackedIh = PackedMatrix.Pack(weightIh, gh, inputSize, variant);
        // W_ihᵀ serves only the column-blocked one-row path (small H); W_hhᵀ also serves the row-blocked backward.
        _transposedInputRows = ColumnGemv ? inputSize : 0;
        StepWeightsT = new float[(_transposedInputRows + hiddenSize) * gh];
        PackedHh = PackedMatrix.Pack(weightHh, gh, hiddenSize, variant);
        if (biasIh is null || biasHh is null)
        {
            ProjectionBias = [];
            GateBiasHh = [];
        }
        else if (cell == CellKind.Gru)
        {
            ProjectionBias = biasIh;
            GateBiasHh = biasHh;
        }
        else
        {
            ProjectionBias = new float[gh];
            GateBiasHh = [];
        }

        _foldBiases = cell != CellKind.Gru && biasIh is not null;
        Refresh();
    }

    private readonly bool _foldBiases;

    /// <summary>
    /// Re-derives the packed and folded copies after the row-major weights or biases were changed in place
    /// (training); allocates nothing.
    /// </summary>
    public void Refresh()
    {
        PackedIh.Repack(WeightIh);
        PackedHh.Repack(WeightHh);
        if (_transposedInputRows != 0)
        {
            Transpose(WeightIh, GateRows, InputSize, StepWeightsT.AsSpan(0, InputSize * GateRows));
        }

        Transpose(WeightHh, GateRows, HiddenSize, StepWeightsT.AsSpan(_transposedInputRows * GateRows));
        if (_foldBiases)
        {
            for (int j = 0; j < GateRows; j++)
            {
                ProjectionBias[j] = BiasIh![j] + BiasHh![j];
            }
        }
    }

    /// <summary>
    /// Below this hidden size a one-row GEMV runs column-blocked over the transposed weights (all outputs in registers,
    /// no horizontal sums, which dominate rows of 16–32 floats); from it up, row-blocked dot products over the
    /// row-major weights stream better (measured with <c>recurrent bench --mode step/forward</c>, H = 16, 64, 256).
    /// The choice depends on the shapes only, so results stay deterministic.
    /// </summary>
    public const int ColumnGemvBelowHidden = 64;

    /// <summary>Whether one-row products run column-blocked on the transposed weights (small H).</summary>
    public bool ColumnGemv => HiddenSize < ColumnGemvBelowHidden;

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

    public PackedMatrix PackedIh { get; }

    private readonly int _transposedInputRows;

    /// <summary>
    /// Below <see cref="ColumnGemvBelowHidden"/>: [W_ihᵀ; W_hhᵀ], ((In + H) × G·H) row-major, so a one-row step is one
    /// column-blocked GEMV over the concatenated [x; h] (every output in registers, no horizontal sums). From it up:
    /// W_hhᵀ alone (H × G·H), for the row-blocked dh = W_hhᵀ·dG of a one-row backward.
    /// </summary>
    public float[] StepWeightsT { get; }

    /// <summary>W_hhᵀ, (H × G·H): the lower rows of <see cref="StepWeightsT"/>.</summary>
    public ReadOnlySpan<float> WeightHhT => StepWeightsT.AsSpan(_transposedInputRows * GateRows);

    public PackedMatrix PackedHh { get; }

    /// <summary>Added by the input projection: b_ih + b_hh (LSTM, RNN), b_ih (GRU), or empty.</summary>
    public float[] ProjectionBias { get; }

    /// <summary>Handed to the GRU gate kernel (b_hh); empty otherwise.</summary>
    public float[] GateBiasHh { get; }

    /// <summary>gates[B × G·H] (+)= x[B × In]·W_ihᵀ for one row (B = 1): the streaming step's input projection.</summary>
    public void InputRow(ReadOnlySpan<float> x, Span<float> gates, bool accumulate, KernelVariant variant)
    {
        if (ColumnGemv)
        {
            Gemv.MultiplyTransposed(StepWeightsT.AsSpan(0, InputSize * GateRows), InputSize, GateRows, x, gates, accumulate, variant);
        }
        else
        {
            Gemv.Multiply(WeightIh, GateRows, InputSize, x, gates, accumulate, variant);
        }
    }

    /// <summary>gates[B × G·H] (+)= hPrev[B × H]·W_hhᵀ: a GEMV for one row, a packed GEMM for several.</summary>
    public void Recurrent(int batch, ReadOnlySpan<float> hPrev, Span<float> gates, bool accumulate, KernelVariant variant)
    {
        if (batch == 1 && ColumnGemv)
        {
            Gemv.MultiplyTransposed(WeightHhT, HiddenSize, GateRows, hPrev, gates, accumulate, variant);
        }
        else if (batch == 1)
        {
            Gemv.Multiply(WeightHh, GateRows, HiddenSize, hPrev, gates, accumulate, variant);
        }
        else
        {
            Gemm.Multiply(hPrev, batch, PackedHh, [], gates, accumulate);
        }
    }

    /// <summary>dhPrev[B × H] (+)= dGates[B × G·H]·W_hh.</summary>
    public void RecurrentBackward(int batch, ReadOnlySpan<float> dGates, Span<float> dhPrev, bool accumulate, KernelVariant variant)
    {
        if (batch == 1 && ColumnGemv)
        {
            Gemv.MultiplyTransposed(WeightHh, GateRows, HiddenSize, dGates, dhPrev, accumulate, variant);
        }
        else if (batch == 1)
        {
            Gemv.Multiply(WeightHhT, HiddenSize, GateRows, dGates, dhPrev, accumulate, variant);
        }
        else
        {
            Gemm.MultiplyNotTransposed(dGates, WeightHh, batch, GateRows, HiddenSize, dhPrev, accumulate, variant);
        }
    }

    private static void Transpose(ReadOnlySpan<float> src, int rows, int cols, Span<float> dst)
    {
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < cols; c++)
            {
                dst[(c * rows) + r] = src[(r * cols) + c];
            }
        }
    }
}
