namespace RecurrentCore.Reference;

/// <summary>
/// One LSTM step in double precision, forward and backward side by side (PyTorch nn.LSTM, gate order i, f, g, o).
/// <code>
/// a = W_ih x + b_ih + W_hh h + b_hh            (4H)
/// i = σ(a_i)  f = σ(a_f)  g = tanh(a_g)  o = σ(a_o)
/// c' = f⊙c + i⊙g      h' = o⊙tanh(c')            (with proj_size: h' = W_hr (o⊙tanh(c')))
/// </code>
/// </summary>
internal static class LstmReference
{
    /// <summary>
    /// Computes h' (P or H), c' and the activated gates [i, f, g, o] (4H) kept for backward; with a projection
    /// also o⊙tanh(c') (H) in <paramref name="hPre"/>.
    /// </summary>
    public static void Forward(in CellWeights w, ReadOnlySpan<double> x, ReadOnlySpan<double> h, ReadOnlySpan<double> c, Span<double> gates, Span<double> hOut, Span<double> cOut, Span<double> hPre = default)
    {
        int hs = w.HiddenSize;
        bool proj = w.WeightHr.Length != 0;
        var unprojected = proj ? hPre : hOut;
        var recurrent = new double[4 * hs];
        ReferenceMath.MatVec(w.WeightIh, 0, w.InputSize, x, gates);
        ReferenceMath.MatVec(w.WeightHh, 0, w.StateSize, h, recurrent);
        for (int j = 0; j < 4 * hs; j++)
        {
            gates[j] += recurrent[j] + (w.HasBias ? w.BiasIh[j] + w.BiasHh[j] : 0.0);
        }

        for (int j = 0; j < hs; j++)
        {
            double i = ReferenceMath.Sigmoid(gates[j]);
            double f = ReferenceMath.Sigmoid(gates[hs + j]);
            double g = Math.Tanh(gates[(2 * hs) + j]);
            double o = ReferenceMath.Sigmoid(gates[(3 * hs) + j]);
            gates[j] = i;
            gates[hs + j] = f;
            gates[(2 * hs) + j] = g;
            gates[(3 * hs) + j] = o;
            cOut[j] = (f * c[j]) + (i * g);
            unprojected[j] = o * Math.Tanh(cOut[j]);
        }

        if (proj)
        {
            ReferenceMath.MatVec(w.WeightHr, 0, hs, hPre, hOut);
        }
    }

    /// <summary>
    /// Back-propagates dh' and dc' (the totals arriving at this step's outputs) through the step: accumulates the
    /// parameter gradients into <paramref name="grad"/> and dL/dx into <paramref name="dx"/>, and writes dL/dh and
    /// dL/dc of the step's inputs into <paramref name="dhPrev"/> and <paramref name="dcPrev"/>.
    /// </summary>
    public static void Backward(
        in CellWeights w, in CellWeights grad, ReadOnlySpan<double> x, ReadOnlySpan<double> h, ReadOnlySpan<double> c,
        ReadOnlySpan<double> gates, ReadOnlySpan<double> cOut, ReadOnlySpan<double> dhOut, ReadOnlySpan<double> dcOut,
        Span<double> dx, Span<double> dhPrev, Span<double> dcPrev, ReadOnlySpan<double> hPre = default)
    {
        int hs = w.HiddenSize;
        if (w.WeightHr.Length != 0)
        {
            // h' = W_hr u: dW_hr += dh' ⊗ u, and the cell sees du = W_hrᵀ dh'.
            ReferenceMath.AddOuter(grad.WeightHr, dhOut, hPre);
            var du = new double[hs];
            ReferenceMath.AddTransposedMatVec(w.WeightHr, hs, dhOut, du);
            dhOut = du;
        }

        var da = new double[4 * hs];
        for (int j = 0; j < hs; j++)
        {
            double i = gates[j], f = gates[hs + j], g = gates[(2 * hs) + j], o = gates[(3 * hs) + j];
            double tc = Math.Tanh(cOut[j]);
            double dc = dcOut[j] + (dhOut[j] * o * (1 - (tc * tc)));
            da[j] = dc * g * i * (1 - i);
            da[hs + j] = dc * c[j] * f * (1 - f);
            da[(2 * hs) + j] = dc * i * (1 - (g * g));
            da[(3 * hs) + j] = dhOut[j] * tc * o * (1 - o);
            dcPrev[j] = dc * f;
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
        ReferenceMath.AddTransposedMatVec(w.WeightHh, w.StateSize, da, dhPrev);
    }
}
