namespace RecurrentCore.Reference;

/// <summary>
/// One GRU step in double precision, forward and backward side by side (PyTorch nn.GRU, gate order r, z, n; the
/// reset gate multiplies the recurrent term including its bias, ONNX's linear_before_reset=1).
/// <code>
/// gi = W_ih x + b_ih   gh = W_hh h + b_hh        (3H each)
/// r = σ(gi_r + gh_r)   z = σ(gi_z + gh_z)   n = tanh(gi_n + r⊙gh_n)
/// h' = (1 − z)⊙n + z⊙h
/// </code>
/// </summary>
internal static class GruReference
{
    /// <summary>Computes h' and keeps [r, z, n] (3H) in <paramref name="gates"/> and gh_n (H) in <paramref name="hiddenN"/> for backward.</summary>
    public static void Forward(in CellWeights w, ReadOnlySpan<double> x, ReadOnlySpan<double> h, Span<double> gates, Span<double> hiddenN, Span<double> hOut)
    {
        int hs = w.HiddenSize;
        var gi = new double[3 * hs];
        var gh = new double[3 * hs];
        ReferenceMath.MatVec(w.WeightIh, 0, w.InputSize, x, gi);
        ReferenceMath.MatVec(w.WeightHh, 0, hs, h, gh);
        if (w.HasBias)
        {
            ReferenceMath.Add(gi, w.BiasIh);
            ReferenceMath.Add(gh, w.BiasHh);
        }

        for (int j = 0; j < hs; j++)
        {
            double r = ReferenceMath.Sigmoid(gi[j] + gh[j]);
            double z = ReferenceMath.Sigmoid(gi[hs + j] + gh[hs + j]);
            double n = Math.Tanh(gi[(2 * hs) + j] + (r * gh[(2 * hs) + j]));
            gates[j] = r;
            gates[hs + j] = z;
            gates[(2 * hs) + j] = n;
            hiddenN[j] = gh[(2 * hs) + j];
            hOut[j] = ((1 - z) * n) + (z * h[j]);
        }
    }

    /// <summary>
    /// Back-propagates dh' through the step: accumulates parameter gradients into <paramref name="grad"/> and dL/dx
    /// into <paramref name="dx"/>; writes dL/dh of the step's input state into <paramref name="dhPrev"/>.
    /// </summary>
    public static void Backward(
        in CellWeights w, in CellWeights grad, ReadOnlySpan<double> x, ReadOnlySpan<double> h, ReadOnlySpan<double> gates,
        ReadOnlySpan<double> hiddenN, ReadOnlySpan<double> dhOut, Span<double> dx, Span<double> dhPrev)
    {
        int hs = w.HiddenSize;
        var dgi = new double[3 * hs]; // gradient of gi's pre-activations
        var dgh = new double[3 * hs]; // gradient of gh (differs from dgi only in the n block, scaled by r)
        for (int j = 0; j < hs; j++)
        {
            double r = gates[j], z = gates[hs + j], n = gates[(2 * hs) + j];
            double dn = dhOut[j] * (1 - z);
            double dz = dhOut[j] * (h[j] - n);
            double dan = dn * (1 - (n * n));
            double dar = dan * hiddenN[j] * r * (1 - r);
            double daz = dz * z * (1 - z);
            dgi[j] = dar;
            dgi[hs + j] = daz;
            dgi[(2 * hs) + j] = dan;
            dgh[j] = dar;
            dgh[hs + j] = daz;
            dgh[(2 * hs) + j] = dan * r;
            dhPrev[j] = dhOut[j] * z;
        }

        ReferenceMath.AddOuter(grad.WeightIh, dgi, x);
        ReferenceMath.AddOuter(grad.WeightHh, dgh, h);
        if (w.HasBias)
        {
            ReferenceMath.Add(grad.BiasIh, dgi);
            ReferenceMath.Add(grad.BiasHh, dgh);
        }

        ReferenceMath.AddTransposedMatVec(w.WeightIh, w.InputSize, dgi, dx);
        ReferenceMath.AddTransposedMatVec(w.WeightHh, hs, dgh, dhPrev);
    }

    /// <summary>
    /// The ONNX linear_before_reset=0 variant (<see cref="RecurrentConfig.LinearBeforeReset"/> false): the reset gate
    /// multiplies the state before the recurrent map, n = tanh(gi_n + W_hn(r⊙h) + b_hn). Keeps [r, z, n] in
    /// <paramref name="gates"/> and W_hn(r⊙h) + b_hn in <paramref name="hiddenN"/>.
    /// </summary>
    public static void ForwardResetBeforeLinear(in CellWeights w, ReadOnlySpan<double> x, ReadOnlySpan<double> h, Span<double> gates, Span<double> hiddenN, Span<double> hOut)
    {
        int hs = w.HiddenSize;
        var gi = new double[3 * hs];
        var gh = new double[2 * hs];
        var rh = new double[hs];
        ReferenceMath.MatVec(w.WeightIh, 0, w.InputSize, x, gi);
        ReferenceMath.MatVec(w.WeightHh, 0, hs, h, gh);
        if (w.HasBias)
        {
            ReferenceMath.Add(gi, w.BiasIh);
            ReferenceMath.Add(gh, w.BiasHh.AsSpan(0, 2 * hs));
        }

        for (int j = 0; j < hs; j++)
        {
            gates[j] = ReferenceMath.Sigmoid(gi[j] + gh[j]);
            gates[hs + j] = ReferenceMath.Sigmoid(gi[hs + j] + gh[hs + j]);
            rh[j] = gates[j] * h[j];
        }

        ReferenceMath.MatVec(w.WeightHh, 2 * hs, hs, rh, hiddenN);
        if (w.HasBias)
        {
            ReferenceMath.Add(hiddenN, w.BiasHh.AsSpan(2 * hs, hs));
        }

        for (int j = 0; j < hs; j++)
        {
            double n = Math.Tanh(gi[(2 * hs) + j] + hiddenN[j]);
            double z = gates[hs + j];
            gates[(2 * hs) + j] = n;
            hOut[j] = ((1 - z) * n) + (z * h[j]);
        }
    }

    /// <summary>Back-propagates through <see cref="ForwardResetBeforeLinear"/>; same contract as <see cref="Backward"/>.</summary>
    public static void BackwardResetBeforeLinear(
        in CellWeights w, in CellWeights grad, ReadOnlySpan<double> x, ReadOnlySpan<double> h, ReadOnlySpan<double> gates,
        ReadOnlySpan<double> dhOut, Span<double> dx, Span<double> dhPrev)
    {
        int hs = w.HiddenSize;
        var dg = new double[3 * hs]; // gradient of the pre-activations [a_r, a_z, a_n]; gi and gh blocks share it
        var rh = new double[hs];
        var u = new double[hs]; // dL/d(r⊙h) = W_hnᵀ da_n
        for (int j = 0; j < hs; j++)
        {
            double z = gates[hs + j], n = gates[(2 * hs) + j];
            dg[(2 * hs) + j] = dhOut[j] * (1 - z) * (1 - (n * n));
            dg[hs + j] = dhOut[j] * (h[j] - n) * z * (1 - z);
            rh[j] = gates[j] * h[j];
            dhPrev[j] = dhOut[j] * z;
        }

        for (int j = 0; j < hs; j++)
        {
            double dan = dg[(2 * hs) + j];
            int row = ((2 * hs) + j) * hs;
            for (int k = 0; k < hs; k++)
            {
                u[k] += w.WeightHh[row + k] * dan;
                grad.WeightHh[row + k] += dan * rh[k];
            }
        }

        for (int j = 0; j < hs; j++)
        {
            double r = gates[j];
            dg[j] = u[j] * h[j] * r * (1 - r);
            dhPrev[j] += u[j] * r;
        }

        ReferenceMath.AddOuter(grad.WeightIh, dg, x);
        for (int j = 0; j < 2 * hs; j++)
        {
            int row = j * hs;
            for (int k = 0; k < hs; k++)
            {
                grad.WeightHh[row + k] += dg[j] * h[k];
                dhPrev[k] += w.WeightHh[row + k] * dg[j];
            }
        }

        if (w.HasBias)
        {
            ReferenceMath.Add(grad.BiasIh, dg);
            ReferenceMath.Add(grad.BiasHh, dg);
        }

        ReferenceMath.AddTransposedMatVec(w.WeightIh, w.InputSize, dg, dx);
    }
}
