using RecurrentCore.Kernels;
using RecurrentCore.Kernels.Gates;
using RecurrentCore.Kernels.Simd;

namespace RecurrentCore.Cells;

/// <summary>
/// GRU with the reset gate after the recurrent product (PyTorch nn.GRU, ONNX linear_before_reset = 1; gates r, z, n):
/// gh = h_prev·W_hhᵀ, then one fused gate pass with b_hh (r multiplies W_hn h + b_hn, so b_hh cannot be folded into
/// the input projection, which carries b_ih alone).
/// </summary>
internal readonly struct GruCell : ICell
{
    public static int GateCount => 3;

    public static bool HasCellState => false;

    public static bool RecurrentFirst => false;

    public static bool SplitsHiddenWeights => false;

    public static bool KeepsGateBias => true;

    /// <summary>gh for one step in inference.</summary>
    public static int StepScratchWidth(int hidden) => 3 * hidden;

    /// <summary>gh (W_hh h, with b_hn in its n block) for backward.</summary>
    public static int SavedWidth(int hidden) => 3 * hidden;

    /// <summary>dGh differs from dGi in its n block (da_n·r).</summary>
    public static int HiddenGradientWidth(int hidden) => 3 * hidden;

    public static void FoldBias(ReadOnlySpan<float> biasIh, ReadOnlySpan<float> biasHh, Span<float> projectionBias) => biasIh.CopyTo(projectionBias);

    /// <summary>gh = h_prev·W_hhᵀ; (r, z, n) → h. Training keeps r, z, n in the gates and gh in Saved. Inactive rows keep h_prev.</summary>
    public static void Forward<TProduct>(ref ForwardStep s)
        where TProduct : IRecurrentProduct
    {
        var w = s.Weights;
        int hs = w.HiddenSize, b = s.Batch;
        var gh = s.Training ? s.Saved : s.Scratch;
        TProduct.Forward(w.Hidden, b, s.HPrev, gh, accumulate: false, s.Variant);
        GruGates.Forward(b, hs, s.Gates, 3 * hs, gh, 3 * hs, [], w.GateBiasHh, s.HPrev, s.HPrevStride, s.H, s.HStride, s.Training, s.Variant);
        if (!s.Active.IsEmpty)
        {
            StepMask.KeepInactive(s.Active, hs, s.HPrevStride, s.HStride, s.HPrev, s.H);
        }
    }

    /// <summary>The one-row <see cref="Forward"/>.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public static unsafe void ForwardRow<TProduct, TS, TV>(LayerWeights w, in RowStep s)
        where TProduct : IRecurrentProduct
        where TS : struct, ISimd<TV>
        where TV : unmanaged
    {
        if (!s.AddRecurrent)
        {
            // The caller ran the fused GEMV: Gates holds [r | z | n_x | n_h] (4H, see LayerWeights.FusedColumns).
            fixed (float* biasHh = w.GateBiasHh)
            {
                GruGates.ForwardFused<TS, TV>(w.HiddenSize, s.Gates, s.Bias, biasHh, s.HPrev, s.H);
            }

            return;
        }

        float* gh = s.Training ? s.Saved : s.Scratch;
        TProduct.ForwardRow<TS, TV>(w.Hidden, s.HPrev, gh, accumulate: false);
        fixed (float* biasHh = w.GateBiasHh)
        {
            GruGates.Forward<TS, TV>(w.HiddenSize, s.Gates, gh, s.Bias, biasHh, s.HPrev, s.H, s.Training);
        }
    }

    public static bool GatesFromProduct => true;

    /// <summary>[b_ir + b_hr | b_iz + b_hz | b_in | b_hn]: the r and z sums take both biases, n_x and n_h one each.</summary>
    public static void PanelStartSums(ReadOnlySpan<float> biasIh, ReadOnlySpan<float> biasHh, int hidden, Span<float> sums)
    {
        // The first three blocks are what the reset-before GRU folds into its projection bias.
        GruResetBeforeCell.FoldBias(biasIh, biasHh, sums[..(3 * hidden)]);
        biasHh.Slice(2 * hidden, hidden).CopyTo(sums.Slice(3 * hidden, hidden));
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public static unsafe void ForwardFromProduct<TS, TV>(LayerWeights weights, float* panels, float* x, float* hPrev, bool descending, in RowStep s)
        where TS : struct, ISimd<TV>
        where TV : unmanaged =>
        GruGates.ForwardFromProduct<TS, TV>(panels, weights.InputSize, weights.HiddenSize, x, hPrev, descending, true, null, null, s.H);

    /// <summary>The projection row (W_ih x + b_ih) enters as b_ih does in the stream's step; the panels have no n_x block.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public static unsafe void ForwardFromHiddenPanels<TS, TV>(LayerWeights weights, float* panels, bool descending, in RowStep s)
        where TS : struct, ISimd<TV>
        where TV : unmanaged
    {
        fixed (float* biasHh = weights.GateBiasHh)
        {
            GruGates.ForwardFromProduct<TS, TV>(panels, 0, weights.HiddenSize, null, s.HPrev, descending, false, s.Gates, biasHh, s.H);
        }
    }

    /// <summary>dGi, dGh (zero for inactive rows) and dh_prev = dh⊙z + dGh·W_hh; inactive rows pass dh through.</summary>
    public static void Backward<TProduct>(ref BackwardStep s)
        where TProduct : IRecurrentProduct
    {
        var w = s.Weights;
        int hs = w.HiddenSize, b = s.Batch;
        // The n block of gh holds W_hn h + b_hn (the gate kernel wrote it there in training mode).
        GruGates.Backward(
            b, hs, s.Gates, 3 * hs, s.Saved[(2 * hs)..], 3 * hs, s.HPrev, s.HPrevStride, s.Dh, hs, s.DGates, 3 * hs, s.DGh, 3 * hs, s.DhPrev, hs, s.Variant);
        if (!s.Active.IsEmpty)
        {
            StepMask.ClearInactive(s.Active, 3 * hs, s.DGates);
            StepMask.ClearInactive(s.Active, 3 * hs, s.DGh);
        }

        TProduct.Backward(w.Hidden, b, s.DGh, s.DhPrev, accumulate: true, s.Variant);
        if (!s.Active.IsEmpty)
        {
            StepMask.KeepInactive(s.Active, hs, hs, s.Dh, s.DhPrev);
        }
    }

    public static void HiddenWeightGradients(
        LayerWeights w, int rows, ReadOnlySpan<float> dGates, Span<float> dGh, ReadOnlySpan<float> hPrev, ReadOnlySpan<float> saved,
        Span<float> dWeightHh, Span<float> dBiasHh, KernelVariant variant, int from, int to) =>
        HiddenGradients.Accumulate(w, rows, dGh, hPrev, dWeightHh, dBiasHh, variant, from, to);
}
