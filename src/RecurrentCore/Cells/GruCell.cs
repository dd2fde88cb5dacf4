using RecurrentCore.Kernels;
using RecurrentCore.Kernels.Gates;
using RecurrentCore.Layers;

namespace RecurrentCore.Cells;

/// <summary>
/// One GRU time step for B rows, forward and backward side by side: gh = hPrev·W_hhᵀ, then one fused gate pass with
/// b_hh (the reset gate multiplies W_hn h + b_hn, so b_hh cannot be folded into the input projection).
/// </summary>
internal static class GruCell
{
    /// <summary>
    /// gi holds W_ih x + b_ih; gh receives W_hh h (+ b_hh in its n block when training). Training keeps r, z, n in
    /// <paramref name="gi"/>. Inactive rows keep hPrev.
    /// </summary>
    public static void Forward(
        LayerWeights w, int batch, Span<float> gi, Span<float> gh, ReadOnlySpan<float> hPrev, Span<float> h, bool training,
        ReadOnlySpan<byte> active, KernelVariant variant)
    {
        int hs = w.HiddenSize;
        w.Recurrent(batch, hPrev, gh, accumulate: false, variant);
        GruGates.Forward(batch, hs, gi, 3 * hs, gh, 3 * hs, [], w.GateBiasHh, hPrev, hs, h, hs, training, variant);
        if (!active.IsEmpty)
        {
            StepMask.KeepInactive(active, hs, hPrev, h);
        }
    }

    /// <summary>
    /// From dh arriving at this step's output: dGi and dGh (zero for inactive rows) and dhPrev = dh⊙z + dGh·W_hh;
    /// inactive rows pass dh through.
    /// </summary>
    public static void Backward(
        LayerWeights w, int batch, ReadOnlySpan<float> gates, ReadOnlySpan<float> gh, ReadOnlySpan<float> hPrev, ReadOnlySpan<float> dh,
        Span<float> dGi, Span<float> dGh, Span<float> dhPrev, ReadOnlySpan<byte> active, KernelVariant variant)
    {
        int hs = w.HiddenSize;
        // The n block of gh holds W_hn h + b_hn (the kernel wrote it there in training mode).
        GruGates.Backward(batch, hs, gates, 3 * hs, gh[(2 * hs)..], 3 * hs, hPrev, hs, dh, hs, dGi, 3 * hs, dGh, 3 * hs, dhPrev, hs, variant);
        if (!active.IsEmpty)
        {
            StepMask.ClearInactive(active, 3 * hs, dGi);
            StepMask.ClearInactive(active, 3 * hs, dGh);
        }

        w.RecurrentBackward(batch, dGh, dhPrev, accumulate: true, variant);
        if (!active.IsEmpty)
        {
            StepMask.KeepInactive(active, hs, dh, dhPrev);
        }
    }
}
