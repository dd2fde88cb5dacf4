using RecurrentCore.Kernels;
using RecurrentCore.Kernels.Gates;

namespace RecurrentCore.Cells;

/// <summary>
/// The general ONNX GRU (gates z, r, h; activations f, g with α/β; clip) with either reset placement.
/// linear_before_reset 1: one product h_prev·Rᵀ (3H), r multiplies (R_h h + Rb_h), so Rb_h stays out of the
/// projection. 0: [R_z; R_r]·h_prev, then R_h·(r⊙h_prev), and all of Rb folds.
/// </summary>
internal sealed class OnnxGruCell : OnnxCell
{
    private readonly WeightMatrix? _r;
    private readonly WeightMatrix? _rzr;
    private readonly WeightMatrix? _rh;
    private readonly float[] _biasH;

    /// <param name="spec">The direction's attributes.</param>
    /// <param name="w">W (3H, I).</param>
    /// <param name="r">R (3H, H).</param>
    /// <param name="wb">Wb (3H) or null.</param>
    /// <param name="rb">Rb (3H) or null.</param>
    /// <param name="variant">A supported variant.</param>
    public OnnxGruCell(OnnxCellSpec spec, float[] w, float[] r, float[]? wb, float[]? rb, KernelVariant variant)
        : base(spec, w, wb, rb, variant)
    {
        int n = spec.HiddenSize;
        if (spec.LinearBeforeReset)
        {
            _r = new WeightMatrix(r, 0, 3 * n, n, [], 0, variant);
            _biasH = rb is null ? [] : rb[(2 * n)..];
        }
        else
        {
            _rzr = new WeightMatrix(r, 0, 2 * n, n, [], 0, variant);
            _rh = new WeightMatrix(r, 2 * n * n, n, n, [], 0, variant);
            _biasH = [];
        }
    }

    /// <summary>1: R h (3H); 0: [R_z; R_r] h (2H) | r⊙h (H) | R_h(r⊙h) (H).</summary>
    public override int ScratchPerRow => 4 * Spec.HiddenSize;

    public override void Step(int batch, Span<float> gates, ReadOnlySpan<float> hPrev, Span<float> h, ReadOnlySpan<float> cPrev, Span<float> c, Span<float> scratch)
    {
        int n = Spec.HiddenSize;
        var a = Spec.Activations;
        gates = gates[..(batch * 3 * n)];
        hPrev = hPrev[..(batch * n)];
        h = h[..(batch * n)];
        if (_r is not null)
        {
            var rec = scratch[..(batch * 3 * n)];
            Recurrent(_r, batch, hPrev, rec, accumulate: false);
            OnnxGruGates.ResetAndUpdate(batch, n, gates, rec, 3 * n, Spec.Clip, a[0], Variant);
            OnnxGruGates.Candidate(batch, n, gates, rec[(2 * n)..], 3 * n, _biasH, linearBeforeReset: true, Spec.Clip, a[1], hPrev, h, Variant);
        }
        else
        {
            var rec = scratch[..(batch * 2 * n)];
            var rh = scratch.Slice(batch * 2 * n, batch * n);
            var recH = scratch.Slice(batch * 3 * n, batch * n);
            Recurrent(_rzr!, batch, hPrev, rec, accumulate: false);
            OnnxGruGates.ResetAndUpdate(batch, n, gates, rec, 2 * n, Spec.Clip, a[0], Variant);
            OnnxGruGates.ResetHidden(batch, n, gates, hPrev, rh, Variant);
            Recurrent(_rh!, batch, rh, recH, accumulate: false);
            OnnxGruGates.Candidate(batch, n, gates, recH, n, [], linearBeforeReset: false, Spec.Clip, a[1], hPrev, h, Variant);
        }
    }

    protected override bool FoldsHiddenBias(int j) => !Spec.LinearBeforeReset || j < 2 * Spec.HiddenSize;
}
