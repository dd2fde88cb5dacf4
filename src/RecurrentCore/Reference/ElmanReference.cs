namespace RecurrentCore.Reference;

/// <summary>
/// One Elman RNN step in double precision, forward and backward side by side (PyTorch nn.RNN):
/// h' = act(W_ih x + b_ih + W_hh h + b_hh), act = tanh or relu.
/// </summary>
internal static class ElmanReference
{
    /// <summary>Computes h'.</summary>
    public static void Forward(in CellWeights w, bool relu, ReadOnlySpan<double> x, ReadOnlySpan<double> h, Span<double> hOut)
    {
        int hs = w.HiddenSize;
        var recurrent = new double[hs];
        ReferenceMath.MatVec(w.WeightIh, 0, w.InputSize, x, hOut);
        ReferenceMath.MatVec(w.WeightHh, 0, hs, h, recurrent);
        for (int j = 0; j < hs; j++)
        {
            double a = hOut[j] + recurrent[j] + (w.HasBias ? w.BiasIh[j] + w.BiasHh[j] : 0.0);
            hOut[j] = relu ? Math.Max(a, 0.0) : Math.Tanh(a);
        }
    }

    /// <summary>
    /// Back-propagates dh' through the step, using h' for the derivative (tanh' = 1 − h'², relu' = [h' &gt; 0], so 0
    /// at exactly 0 as in PyTorch): accumulates parameter gradients and dL/dx, writes dL/dh into <paramref name="dhPrev"/>.
    /// </summary>
    public static void Backward(
        in CellWeights w, in CellWeights grad, bool relu, ReadOnlySpan<double> x, ReadOnlySpan<double> h, ReadOnlySpan<double> hOut,
        ReadOnlySpan<double> dhOut, Span<double> dx, Span<double> dhPrev)
    {
        int hs = w.HiddenSize;
        var da = new double[hs];
        for (int j = 0; j < hs; j++)
        {
            double y = hOut[j];
            da[j] = dhOut[j] * (relu ? (y > 0 ? 1.0 : 0.0) : 1 - (y * y));
        }

        ReferenceMath.AddOuter(grad.WeightIh, da, x);
        ReferenceMath.AddOuter(grad.WeightHh, da, h);
        if (w.HasBias)
        {
            ReferenceMath.Add(grad.BiasIh, da);
            ReferenceMath.Add(grad.BiasHh, da);
        }

        ReferenceMath.AddTransposedMatVec(w.WeightIh, w.InputSize, da, dx);
        dhPrev.Clear();
        ReferenceMath.AddTransposedMatVec(w.WeightHh, hs, da, dhPrev);
    }
}
