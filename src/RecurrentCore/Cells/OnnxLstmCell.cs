using RecurrentCore.Kernels;
using RecurrentCore.Kernels.Gates;

namespace RecurrentCore.Cells;

/// <summary>
/// The general ONNX LSTM (gates i, o, f, c): gates += h_prev·Rᵀ, then <see cref="OnnxLstmGates"/> (activations f, g, h
/// with α/β, clip, input_forget, peepholes P_i, P_o, P_f with i and f reading c_prev and o reading c). Wb + Rb fold
/// into the projection.
/// </summary>
internal sealed class OnnxLstmCell : OnnxCell
{
    private readonly WeightMatrix _r;
    private readonly float[] _peepholes;

    /// <param name="spec">The direction's attributes.</param>
    /// <param name="w">W (4H, I).</param>
    /// <param name="r">R (4H, H).</param>
    /// <param name="wb">Wb (4H) or null.</param>
    /// <param name="rb">Rb (4H) or null.</param>
    /// <param name="peepholes">P (3H) [P_i | P_o | P_f] or null.</param>
    /// <param name="variant">A supported variant.</param>
    public OnnxLstmCell(OnnxCellSpec spec, float[] w, float[] r, float[]? wb, float[]? rb, float[]? peepholes, KernelVariant variant)
        : base(spec, w, wb, rb, variant)
    {
        _r = new WeightMatrix(r, 0, 4 * spec.HiddenSize, spec.HiddenSize, [], 0, variant);
        _peepholes = peepholes ?? [];
    }

    public override int ScratchPerRow => Spec.HiddenSize;

    public override void Step(int batch, Span<float> gates, ReadOnlySpan<float> hPrev, Span<float> h, ReadOnlySpan<float> cPrev, Span<float> c, Span<float> scratch)
    {
        int n = Spec.HiddenSize;
        Recurrent(_r, batch, hPrev, gates, accumulate: true);
        var a = Spec.Activations;
        OnnxLstmGates.Forward(
            batch, n, gates[..(batch * 4 * n)], _peepholes, Spec.Clip, Spec.InputForget, a[0], a[1], a[2], cPrev[..(batch * n)], c[..(batch * n)],
            h[..(batch * n)], scratch[..n], Variant);
    }
}
