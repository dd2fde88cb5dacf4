using RecurrentCore.Kernels;
using RecurrentCore.Kernels.Gates;
using RecurrentCore.Kernels.Simd;

namespace RecurrentCore.Cells;

/// <summary>
/// GRU with the reset gate before the recurrent product (ONNX linear_before_reset = 0, the ONNX default; Keras
/// reset_after = False): n = tanh(W_in x + b_in + W_hn(r⊙h_prev) + b_hn). W_hh is kept as [W_hr; W_hz] and W_hn;
/// b_hr and b_hz fold into the projection, b_hn goes to the gate kernel. Two products per step, with the pointwise
/// stages of <see cref="GruResetBeforeGates"/> around them.
/// </summary>
internal readonly struct GruResetBeforeCell : ICell
{
    public static int GateCount => 3;

    public static bool HasCellState => false;

    public static bool RecurrentFirst => false;

    public static bool SplitsHiddenWeights => true;

    public static bool KeepsGateBias => true;

    /// <summary>Forward: [gh_rz (B×2H) | gh_n (B×H) | r⊙h (B×H)]; backward: [dG_rz (B×2H) | da_n (B×H) | d(r⊙h) (B×H)].</summary>
    public static int StepScratchWidth(int hidden) => 4 * hidden;

    /// <summary>r⊙h_prev, which W_hn multiplied.</summary>
    public static int SavedWidth(int hidden) => hidden;

    /// <summary>Scratch for the weight gradients: dG's [r, z] and n blocks gathered apart.</summary>
    public static int HiddenGradientWidth(int hidden) => 3 * hidden;

    /// <summary>b_ih + [b_hr, b_hz, 0]: b_hn sits inside the candidate's tanh with W_hn(r⊙h).</summary>
    public static void FoldBias(ReadOnlySpan<float> biasIh, ReadOnlySpan<float> biasHh, Span<float> projectionBias)
    {
        int n = biasIh.Length / 3;
        System.Numerics.Tensors.TensorPrimitives.Add(biasIh[..(2 * n)], biasHh[..(2 * n)], projectionBias);
        biasIh[(2 * n)..].CopyTo(projectionBias[(2 * n)..]);
    }

    /// <summary>gh_rz = h_prev·W_hrzᵀ; r, z; rh = r⊙h_prev; gh_n = rh·W_hnᵀ; n, h. Inactive rows keep h_prev.</summary>
    public static void Forward<TProduct>(ref ForwardStep s)
        where TProduct : IRecurrentProduct
    {
        var w = s.Weights;
        int hs = w.HiddenSize, b = s.Batch;
        var ghRz = s.Scratch[..(b * 2 * hs)];
        var ghN = s.Scratch.Slice(b * 2 * hs, b * hs);
        var rh = s.Training ? s.Saved[..(b * hs)] : s.Scratch.Slice(b * 3 * hs, b * hs);
        TProduct.Forward(w.HiddenRz!, b, s.HPrev, ghRz, accumulate: false, s.Variant);
        GruResetBeforeGates.ForwardStage1(b, hs, s.Gates, 3 * hs, ghRz, 2 * hs, [], [], s.HPrev, s.HPrevStride, rh, hs, s.Variant);
        TProduct.Forward(w.HiddenN, b, rh, ghN, accumulate: false, s.Variant);
        GruResetBeforeGates.ForwardStage2(b, hs, s.Gates, 3 * hs, ghN, hs, [], w.GateBiasHh, s.HPrev, s.HPrevStride, s.H, s.HStride, s.Training, s.Variant);
        if (!s.Active.IsEmpty)
        {
            StepMask.KeepInactive(s.Active, hs, s.HPrevStride, s.HStride, s.HPrev, s.H);
        }
    }

    /// <summary>The one-row <see cref="Forward"/>.</summary>
    public static unsafe void ForwardRow<TProduct, TS, TV>(LayerWeights w, in RowStep s)
        where TProduct : IRecurrentProduct
        where TS : struct, ISimd<TV>
        where TV : unmanaged
    {
        int hs = w.HiddenSize;
        float* ghRz = s.Scratch, ghN = s.Scratch + (2 * hs), rh = s.Training ? s.Saved : s.Scratch + (3 * hs);
        TProduct.ForwardRow<TS, TV>(w.HiddenRz!, s.HPrev, ghRz, accumulate: false);
        GruResetBeforeGates.ForwardStage1<TS, TV>(hs, s.Gates, ghRz, s.Bias, null, s.HPrev, rh);
        TProduct.ForwardRow<TS, TV>(w.HiddenN, rh, ghN, accumulate: false);
        fixed (float* biasHh = w.GateBiasHh)
        {
            GruResetBeforeGates.ForwardStage2<TS, TV>(hs, s.Gates, ghN, s.Bias, biasHh, s.HPrev, s.H, s.Training);
        }
    }

    /// <summary>
    /// dG = [da_r | da_z | da_n] (zero for inactive rows) and dh_prev = dh⊙z + d(rh)⊙r + dG_rz·W_hrz with
    /// d(rh) = da_n·W_hn; inactive rows pass dh through.
    /// </summary>
    public static void Backward<TProduct>(ref BackwardStep s)
        where TProduct : IRecurrentProduct
    {
        var w = s.Weights;
        int hs = w.HiddenSize, b = s.Batch;
        GruResetBeforeGates.BackwardStage2(b, hs, s.Gates, 3 * hs, s.HPrev, s.HPrevStride, s.Dh, hs, s.DGates, 3 * hs, s.DhPrev, hs, s.Variant);
        var dRz = s.Scratch[..(b * 2 * hs)];
        var dN = s.Scratch.Slice(b * 2 * hs, b * hs);
        var dRh = s.Scratch.Slice(b * 3 * hs, b * hs);
        Gather(s.DGates, b, 3 * hs, 2 * hs, hs, dN);
        TProduct.Backward(w.HiddenN, b, dN, dRh, accumulate: false, s.Variant);
        GruResetBeforeGates.BackwardStage1(b, hs, s.Gates, 3 * hs, s.HPrev, s.HPrevStride, dRh, hs, s.DGates, 3 * hs, s.DhPrev, hs, s.Variant);
        if (!s.Active.IsEmpty)
        {
            StepMask.ClearInactive(s.Active, 3 * hs, s.DGates);
        }

        Gather(s.DGates, b, 3 * hs, 0, 2 * hs, dRz);
        TProduct.Backward(w.HiddenRz!, b, dRz, s.DhPrev, accumulate: true, s.Variant);
        if (!s.Active.IsEmpty)
        {
            StepMask.KeepInactive(s.Active, hs, hs, s.Dh, s.DhPrev);
        }
    }

    /// <summary>
    /// dW_hr,hz += dG_rzᵀ·H_prev, dW_hn += da_nᵀ·(r⊙H_prev), db_hh += Σ dG, for gate rows from..to; the columns of dGates
    /// are read in place (rows 3H apart).
    /// </summary>
    public static void HiddenWeightGradients(
        LayerWeights w, int rows, ReadOnlySpan<float> dGates, Span<float> dGh, ReadOnlySpan<float> hPrev, ReadOnlySpan<float> saved,
        Span<float> dWeightHh, Span<float> dBiasHh, KernelVariant variant, int from, int to)
    {
        int hs = w.HiddenSize, gh = 3 * hs, split = 2 * hs;
        var dG = dGates[..(rows * gh)];
        if (from < split)
        {
            int end = Math.Min(to, split);
            Gemm.MultiplyTransposedA(dG[from..], gh, hPrev[..(rows * hs)], rows, end - from, hs, dWeightHh[(from * hs)..(end * hs)], accumulate: true, variant);
        }

        if (to > split)
        {
            int start = Math.Max(from, split);
            Gemm.MultiplyTransposedA(dG[start..], gh, saved[..(rows * hs)], rows, to - start, hs, dWeightHh[(start * hs)..(to * hs)], accumulate: true, variant);
        }

        HiddenGradients.SumRows(dGates, rows, gh, dBiasHh, from, to);
    }

    /// <summary>Columns [from, from + width) of <paramref name="rows"/> rows <paramref name="stride"/> apart, packed.</summary>
    private static void Gather(ReadOnlySpan<float> src, int rows, int stride, int from, int width, Span<float> dst)
    {
        for (int r = 0; r < rows; r++)
        {
            src.Slice((r * stride) + from, width).CopyTo(dst.Slice(r * width, width));
        }
    }
}
