using RecurrentCore.Kernels;
using RecurrentCore.Kernels.Gates;
using RecurrentCore.Layers;

namespace RecurrentCore.Cells;

/// <summary>One Elman RNN time step for B rows, forward and backward side by side: h = act(a + hPrev·W_hhᵀ).</summary>
internal static class ElmanCell
{
    /// <summary><paramref name="a"/> holds W_ih x + b_ih + b_hh and receives the recurrent term; inactive rows keep hPrev.</summary>
    public static void Forward(
        LayerWeights w, int batch, Span<float> a, ReadOnlySpan<float> hPrev, Span<float> h, RnnNonlinearity nonlinearity,
        ReadOnlySpan<byte> active, KernelVariant variant, bool addRecurrent = true)
    {
        int hs = w.HiddenSize;
        if (addRecurrent)
        {
            w.Recurrent(batch, hPrev, a, accumulate: true, variant);
        }

        ElmanGates.Forward(batch, hs, a, hs, [], h, hs, nonlinearity, variant);
        if (!active.IsEmpty)
        {
            StepMask.KeepInactive(active, hs, hPrev, h);
        }
    }

    /// <summary>
    /// From dh arriving at this step's output h (read with row stride <paramref name="hStride"/>): da (zero for
    /// inactive rows) and dhPrev = da·W_hh; inactive rows pass dh through.
    /// </summary>
    public static void Backward(
        LayerWeights w, int batch, ReadOnlySpan<float> h, int hStride, ReadOnlySpan<float> dh, Span<float> da, Span<float> dhPrev,
        RnnNonlinearity nonlinearity, ReadOnlySpan<byte> active, KernelVariant variant)
    {
        int hs = w.HiddenSize;
        ElmanGates.Backward(batch, hs, h, hStride, dh, hs, da, hs, nonlinearity, variant);
        if (!active.IsEmpty)
        {
            StepMask.ClearInactive(active, hs, da);
        }

        w.RecurrentBackward(batch, da, dhPrev, accumulate: false, variant);
        if (!active.IsEmpty)
        {
            StepMask.KeepInactive(active, hs, dh, dhPrev);
        }
    }
}
