using RecurrentCore.Kernels;
using RecurrentCore.Kernels.Gates;
using RecurrentCore.Kernels.Simd;

namespace RecurrentCore.Cells;

/// <summary>The nonlinearity of an <see cref="ElmanCell{TNonlinearity}"/>.</summary>
internal interface IElmanNonlinearity
{
    static abstract RnnNonlinearity Kind { get; }
}

/// <summary>h' = tanh(a) (PyTorch nn.RNN, nonlinearity='tanh').</summary>
internal readonly struct TanhNonlinearity : IElmanNonlinearity
{
    public static RnnNonlinearity Kind => RnnNonlinearity.Tanh;
}

/// <summary>h' = relu(a) (PyTorch nn.RNN, nonlinearity='relu').</summary>
internal readonly struct ReluNonlinearity : IElmanNonlinearity
{
    public static RnnNonlinearity Kind => RnnNonlinearity.Relu;
}

/// <summary>
/// Elman RNN, h = φ(a + h_prev·W_hhᵀ) with a = W_ih x + b_ih + b_hh (all of b_hh folds). Backward reads h itself, which
/// the layer output already holds, so training keeps nothing more.
/// </summary>
internal readonly struct ElmanCell<TNonlinearity> : ICell
    where TNonlinearity : IElmanNonlinearity
{
    public static int GateCount => 1;

    public static bool HasCellState => false;

    public static bool RecurrentFirst => true;

    public static bool SplitsHiddenWeights => false;

    public static bool KeepsGateBias => false;

    public static int StepScratchWidth(int hidden) => 0;

    public static int SavedWidth(int hidden) => 0;

    public static int HiddenGradientWidth(int hidden) => 0;

    public static void FoldBias(ReadOnlySpan<float> biasIh, ReadOnlySpan<float> biasHh, Span<float> projectionBias) =>
        System.Numerics.Tensors.TensorPrimitives.Add(biasIh, biasHh, projectionBias);

    /// <summary>a += h_prev·W_hhᵀ; h = φ(a). Inactive rows keep h_prev.</summary>
    public static void Forward<TProduct>(ref ForwardStep s)
        where TProduct : IRecurrentProduct
    {
        var w = s.Weights;
        int hs = w.HiddenSize, b = s.Batch;
        if (s.AddRecurrent)
        {
            TProduct.Forward(w.Hidden, b, s.HPrev, s.Gates, accumulate: true, s.Variant);
        }

        ElmanGates.Forward(b, hs, s.Gates, hs, [], s.H, s.HStride, TNonlinearity.Kind, s.Variant);
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
        if (s.AddRecurrent)
        {
            TProduct.ForwardRow<TS, TV>(w.Hidden, s.HPrev, s.Gates, accumulate: true);
        }

        ElmanGates.Forward<TS, TV>(w.HiddenSize, s.Gates, s.Bias, s.H, TNonlinearity.Kind == RnnNonlinearity.Relu);
    }

    /// <summary>da = dh⊙φ'(h) (zero for inactive rows), dh_prev = da·W_hh; inactive rows pass dh through.</summary>
    public static void Backward<TProduct>(ref BackwardStep s)
        where TProduct : IRecurrentProduct
    {
        var w = s.Weights;
        int hs = w.HiddenSize, b = s.Batch;
        ElmanGates.Backward(b, hs, s.H, s.HStride, s.Dh, hs, s.DGates, hs, TNonlinearity.Kind, s.Variant);
        if (!s.Active.IsEmpty)
        {
            StepMask.ClearInactive(s.Active, hs, s.DGates);
        }

        TProduct.Backward(w.Hidden, b, s.DGates, s.DhPrev, accumulate: false, s.Variant);
        if (!s.Active.IsEmpty)
        {
            StepMask.KeepInactive(s.Active, hs, hs, s.Dh, s.DhPrev);
        }
    }

    public static void HiddenWeightGradients(
        LayerWeights w, int rows, ReadOnlySpan<float> dGates, Span<float> dGh, ReadOnlySpan<float> hPrev, ReadOnlySpan<float> saved,
        Span<float> dWeightHh, Span<float> dBiasHh, KernelVariant variant, int from, int to) =>
        HiddenGradients.Accumulate(w, rows, dGates, hPrev, dWeightHh, dBiasHh, variant, from, to);
}
