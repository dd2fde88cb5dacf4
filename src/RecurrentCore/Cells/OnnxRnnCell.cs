using RecurrentCore.Kernels;
using RecurrentCore.Kernels.Operators;

namespace RecurrentCore.Cells;

/// <summary>The general ONNX RNN: h = f(clip(W x + Wb + Rb + R h_prev)) with any activation f and its α/β.</summary>
internal sealed class OnnxRnnCell : OnnxCell
{
    private readonly WeightMatrix _r;

    /// <param name="spec">The direction's attributes.</param>
    /// <param name="w">W (H, I).</param>
    /// <param name="r">R (H, H).</param>
    /// <param name="wb">Wb (H) or null.</param>
    /// <param name="rb">Rb (H) or null.</param>
    /// <param name="variant">A supported variant.</param>
    public OnnxRnnCell(OnnxCellSpec spec, float[] w, float[] r, float[]? wb, float[]? rb, KernelVariant variant)
        : base(spec, w, wb, rb, variant) =>
        _r = new WeightMatrix(r, 0, spec.HiddenSize, spec.HiddenSize, [], 0, variant);

    public override int ScratchPerRow => 0;

    public override void Step(int batch, Span<float> gates, ReadOnlySpan<float> hPrev, Span<float> h, ReadOnlySpan<float> cPrev, Span<float> c, Span<float> scratch)
    {
        var pre = gates[..(batch * Spec.HiddenSize)];
        Recurrent(_r, batch, hPrev, pre, accumulate: true);
        GateActivation.Clip(pre, Spec.Clip, Variant);
        Spec.Activations[0].Apply(pre, h[..pre.Length], Variant);
    }
}
