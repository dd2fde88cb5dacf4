using RecurrentCore.Kernels;
using RecurrentCore.Kernels.Gates;
using RecurrentCore.Kernels.Simd;

namespace RecurrentCore.Cells;

/// <summary>
/// LSTM (PyTorch nn.LSTM, gates i, f, g, o): the recurrent product, then one fused gate pass. The gate rows arrive
/// holding W_ih x + b_ih + b_hh (all of b_hh folds). Training keeps the activations and tanh(c) (<see cref="SavedWidth"/>).
/// </summary>
internal readonly struct LstmCell : ICell
{
    public static int GateCount => 4;

    public static bool HasCellState => true;

    public static bool RecurrentFirst => true;

    public static bool SplitsHiddenWeights => false;

    public static bool KeepsGateBias => false;

    public static int StepScratchWidth(int hidden) => 0;

    /// <summary>tanh(c).</summary>
    public static int SavedWidth(int hidden) => hidden;

    public static int HiddenGradientWidth(int hidden) => 0;

    public static void FoldBias(ReadOnlySpan<float> biasIh, ReadOnlySpan<float> biasHh, Span<float> projectionBias) =>
        System.Numerics.Tensors.TensorPrimitives.Add(biasIh, biasHh, projectionBias);

    /// <summary>gates += h_prev·W_hhᵀ; (i, f, g, o) → c, h. Inactive rows keep h_prev and c_prev.</summary>
    public static void Forward<TProduct>(ref ForwardStep s)
        where TProduct : IRecurrentProduct
    {
        var w = s.Weights;
        int hs = w.HiddenSize, b = s.Batch;
        if (s.AddRecurrent)
        {
            TProduct.Forward(w.Hidden, b, s.HPrev, s.Gates, accumulate: true, s.Variant);
        }

        LstmGates.Forward(b, hs, s.Gates, 4 * hs, [], s.CPrev, hs, s.C, hs, s.H, s.HStride, s.Saved, hs, s.Training, s.Variant);
        if (!s.Active.IsEmpty)
        {
            StepMask.KeepInactive(s.Active, hs, s.HPrevStride, s.HStride, s.HPrev, s.H);
            StepMask.KeepInactive(s.Active, hs, hs, s.CPrev, s.C);
        }
    }

    /// <summary>The one-row <see cref="Forward"/>.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public static unsafe void ForwardRow<TProduct, TS, TV>(LayerWeights w, in RowStep s)
        where TProduct : IRecurrentProduct
        where TS : struct, ISimd<TV>
        where TV : unmanaged
    {
        if (s.AddRecurrent)
        {
            TProduct.ForwardRow<TS, TV>(w.Hidden, s.HPrev, s.Gates, accumulate: true);
        }

        LstmGates.Forward<TS, TV>(w.HiddenSize, s.Gates, s.Bias, s.CPrev, s.C, s.H, s.Training ? s.Saved : null, s.Training);
    }

    public static bool GatesFromProduct => true;

    /// <summary>The folded bias b_ih + b_hh, one block per gate.</summary>
    public static void PanelStartSums(ReadOnlySpan<float> biasIh, ReadOnlySpan<float> biasHh, int hidden, Span<float> sums) =>
        FoldBias(biasIh, biasHh, sums);

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public static unsafe void ForwardFromProduct<TS, TV>(LayerWeights weights, float* panels, float* x, float* hPrev, bool descending, in RowStep s)
        where TS : struct, ISimd<TV>
        where TV : unmanaged =>
        LstmGates.ForwardFromProduct<TS, TV>(panels, weights.InputSize, weights.HiddenSize, x, hPrev, descending, true, null, s.CPrev, s.C, s.H);

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public static unsafe void ForwardFromHiddenPanels<TS, TV>(LayerWeights weights, float* panels, bool descending, in RowStep s)
        where TS : struct, ISimd<TV>
        where TV : unmanaged =>
        LstmGates.ForwardFromProduct<TS, TV>(panels, 0, weights.HiddenSize, null, s.HPrev, descending, false, s.Gates, s.CPrev, s.C, s.H);

    /// <summary>dGates, dc_prev = dc_total⊙f and dh_prev = dGates·W_hh; inactive rows pass dh and dc through.</summary>
    public static void Backward<TProduct>(ref BackwardStep s)
        where TProduct : IRecurrentProduct
    {
        var w = s.Weights;
        int hs = w.HiddenSize, b = s.Batch;
        LstmGates.Backward(b, hs, s.Gates, 4 * hs, s.CPrev, hs, [], 0, s.Saved, hs, s.Dh, hs, s.Dc, hs, s.DGates, 4 * hs, s.DcPrev, hs, s.Variant);
        if (!s.Active.IsEmpty)
        {
            StepMask.ClearInactive(s.Active, 4 * hs, s.DGates);
        }

        TProduct.Backward(w.Hidden, b, s.DGates, s.DhPrev, accumulate: false, s.Variant);
        if (!s.Active.IsEmpty)
        {
            StepMask.KeepInactive(s.Active, hs, hs, s.Dh, s.DhPrev);
            StepMask.KeepInactive(s.Active, hs, hs, s.Dc, s.DcPrev);
        }
    }

    public static void HiddenWeightGradients(
        LayerWeights w, int rows, ReadOnlySpan<float> dGates, Span<float> dGh, ReadOnlySpan<float> hPrev, ReadOnlySpan<float> saved,
        Span<float> dWeightHh, Span<float> dBiasHh, KernelVariant variant, int from, int to) =>
        HiddenGradients.Accumulate(w, rows, dGates, hPrev, dWeightHh, dBiasHh, variant, from, to);
}
