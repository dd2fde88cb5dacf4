using RecurrentCore.Kernels;
using RecurrentCore.Kernels.Gates;
using RecurrentCore.Layers;

namespace RecurrentCore.Cells;

/// <summary>
/// One LSTM time step for B rows, forward and backward side by side: the recurrent product, then one fused gate pass.
/// The gate rows arrive holding the input projection W_ih x + b_ih + b_hh.
/// </summary>
internal static class LstmCell
{
    /// <summary>
    /// gates += hPrev·W_hhᵀ; (i, f, g, o) → c, h. Training keeps the activations in <paramref name="gates"/> and
    /// tanh(c) in <paramref name="tanhC"/> (empty in inference). Inactive rows keep hPrev and cPrev.
    /// </summary>
    public static void Forward(
        LayerWeights w, int batch, Span<float> gates, ReadOnlySpan<float> hPrev, ReadOnlySpan<float> cPrev, Span<float> h, Span<float> c,
        Span<float> tanhC, bool training, ReadOnlySpan<byte> active, KernelVariant variant, bool addRecurrent = true)
    {
        int hs = w.HiddenSize;
        if (addRecurrent)
        {
            w.Recurrent(batch, hPrev, gates, accumulate: true, variant);
        }

        LstmGates.Forward(batch, hs, gates, 4 * hs, [], cPrev, hs, c, hs, h, hs, tanhC, hs, training, variant);
        if (!active.IsEmpty)
        {
            StepMask.KeepInactive(active, hs, hPrev, h);
            StepMask.KeepInactive(active, hs, cPrev, c);
        }
    }

    /// <summary>
    /// From dh and dc arriving at this step's outputs: the pre-activation gradients (zero for inactive rows),
    /// dcPrev = dc_total⊙f and dhPrev = dGates·W_hh; inactive rows pass dh and dc through.
    /// </summary>
    public static void Backward(
        LayerWeights w, int batch, ReadOnlySpan<float> gates, ReadOnlySpan<float> cPrev, ReadOnlySpan<float> tanhC, ReadOnlySpan<float> dh,
        ReadOnlySpan<float> dc, Span<float> dGates, Span<float> dhPrev, Span<float> dcPrev, ReadOnlySpan<byte> active, KernelVariant variant)
    {
        int hs = w.HiddenSize;
        LstmGates.Backward(batch, hs, gates, 4 * hs, cPrev, hs, [], 0, tanhC, hs, dh, hs, dc, hs, dGates, 4 * hs, dcPrev, hs, variant);
        if (!active.IsEmpty)
        {
            StepMask.ClearInactive(active, 4 * hs, dGates);
        }

        w.RecurrentBackward(batch, dGates, dhPrev, accumulate: false, variant);
        if (!active.IsEmpty)
        {
            StepMask.KeepInactive(active, hs, dh, dhPrev);
            StepMask.KeepInactive(active, hs, dc, dcPrev);
        }
    }
}
