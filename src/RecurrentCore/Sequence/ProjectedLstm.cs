using RecurrentCore.Cells;
using RecurrentCore.Kernels;
using RecurrentCore.Kernels.Gates;

namespace RecurrentCore.Sequence;

/// <summary>
/// An LSTM stack with PyTorch's projection (proj_size P &gt; 0) on the float32 kernels, forward and full BPTT. Per
/// layer and direction one GEMM projects the whole sequence's inputs; each step then runs
/// gates += h_prev·W_hhᵀ (W_hh is 4H × P), the fused LSTM gate pass giving c and m = o⊙tanh(c), and
/// h = m·W_hrᵀ (W_hr is P × H), so h of size P feeds the next step and the next layer. Backward walks the steps in
/// reverse: dm = dh·W_hr, the fused gate backward, dh_prev = dGates·W_hh; the weight gradients are GEMMs over all
/// T·B steps (dW_hr += dhᵀ·m). Kept apart from <see cref="CellLoops"/> so the plain LSTM's plans are untouched;
/// it runs on the caller's thread (results do not depend on a workspace's thread count).
/// Variable lengths as <see cref="SequenceRunner"/>: an inactive row keeps its state and outputs 0.
/// </summary>
internal sealed class ProjectedLstm
{
    private readonly Slot[] _slots; // [layer·D + direction]

    /// <param name="config">An LSTM configuration with ProjSize &gt; 0.</param>
    /// <param name="variant">A supported kernel variant.</param>
    /// <param name="get">The row-major storage of (layer, direction, kind), owned by the model from then on.</param>
    public ProjectedLstm(RecurrentConfig config, KernelVariant variant, Func<int, int, ParameterKind, float[]> get)
    {
        Config = config;
        Variant = variant;
        int h = config.HiddenSize, p = config.ProjSize;
        _slots = new Slot[config.NumLayers * config.NumDirections];
        for (int layer = 0; layer < config.NumLayers; layer++)
        {
            for (int dir = 0; dir < config.NumDirections; dir++)
            {
                _slots[(layer * config.NumDirections) + dir] = new Slot(
                    config.LayerInputSize(layer), h, p,
                    get(layer, dir, ParameterKind.WeightIh),
                    get(layer, dir, ParameterKind.WeightHh),
                    get(layer, dir, ParameterKind.WeightHr),
                    config.Bias ? get(layer, dir, ParameterKind.BiasIh) : null,
                    config.Bias ? get(layer, dir, ParameterKind.BiasHh) : null,
                    variant);
            }
        }
    }

    public RecurrentConfig Config { get; }

    public KernelVariant Variant { get; }

    /// <summary>The row-major storage of one tensor (empty for an absent bias).</summary>
    public float[] Storage(int layer, int direction, ParameterKind kind)
    {
        var s = _slots[(layer * Config.NumDirections) + direction];
        return kind switch
        {
            ParameterKind.WeightIh => s.WeightIh,
            ParameterKind.WeightHh => s.WeightHh,
            ParameterKind.WeightHr => s.WeightHr,
            ParameterKind.BiasIh => s.BiasIh ?? [],
            ParameterKind.BiasHh => s.BiasHh ?? [],
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
    }

    /// <summary>Re-packs every weight and re-folds the biases after in-place updates; allocates nothing.</summary>
    public void Refresh()
    {
        foreach (var s in _slots)
        {
            s.Refresh();
        }
    }

    /// <summary>
    /// The forward pass over caller-layout data (batch-first when <paramref name="batchFirst"/>; a stream passes false); the caller has checked
    /// that the buffers hold (T, B). h0/hN are (L·D, B, P), c0/cN (L·D, B, H); output (T, B, D·P). The buffers copy
    /// h0/c0 before anything is written, so h0 may be the same memory as hN (a stream's state).
    /// </summary>
    public void Forward(
        ProjectedLstmBuffers ws, ReadOnlySpan<float> input, int seqLen, int batch, bool batchFirst, Span<float> output,
        Span<float> hN, Span<float> cN, ReadOnlySpan<float> h0, ReadOnlySpan<float> c0, ReadOnlySpan<int> lengths)
    {
        var cfg = Config;
        int rows = seqLen * batch, dp = cfg.OutputSize, d = cfg.NumDirections;
        int hStates = cfg.NumLayers * d * batch * cfg.StateSize, cStates = cfg.NumLayers * d * batch * cfg.HiddenSize;
        Need(input.Length, (long)rows * cfg.InputSize, nameof(input), "T·B·I");
        Need(output.Length, (long)rows * dp, nameof(output), "T·B·D·P");
        Optional(hN.Length, hStates, nameof(hN), "L·D·B·P");
        Optional(h0.Length, hStates, nameof(h0), "L·D·B·P");
        Optional(cN.Length, cStates, nameof(cN), "L·D·B·H");
        Optional(c0.Length, cStates, nameof(c0), "L·D·B·H");
        SetLengths(ws, lengths, seqLen, batch);
        ws.HasForward = false;
        ws.HasRun = false;

        var x = ws.X.AsSpan(0, rows * cfg.InputSize);
        SequenceRunner.CopyLayout(batchFirst, input, batch, seqLen, cfg.InputSize, x);

        if (ws.HasLengths)
        {
            for (int b = 0; b < batch; b++)
            {
                for (int t = ws.Lengths[b]; t < seqLen; t++)
                {
                    x.Slice(((t * batch) + b) * cfg.InputSize, cfg.InputSize).Clear();
                }
            }
        }

        CopyOrClear(h0, ws.H0.AsSpan(0, hStates));
        CopyOrClear(c0, ws.C0.AsSpan(0, cStates));
        var dropout = ws.Dropout;
        dropout?.BeginForward(ws.Training);
        for (int l = 0; l < cfg.NumLayers; l++)
        {
            ReadOnlySpan<float> layerIn = l == 0 ? x : LayerInput(ws, l, rows * dp);
            for (int dir = 0; dir < d; dir++)
            {
                ForwardSlot(ws, l, dir, seqLen, batch, layerIn);
            }

            if (dropout is { Active: true } && l < cfg.NumLayers - 1)
            {
                dropout.Forward(LayerOut(ws, l).AsSpan(0, rows * dp), l);
            }
        }

        var last = LayerOut(ws, cfg.NumLayers - 1).AsSpan(0, rows * dp);
        SequenceRunner.CopyLayout(batchFirst, last, seqLen, batch, dp, output);

        if (!hN.IsEmpty)
        {
            ws.HN.AsSpan(0, hStates).CopyTo(hN);
        }

        if (!cN.IsEmpty)
        {
            ws.CN.AsSpan(0, cStates).CopyTo(cN);
        }

        ws.HasForward = ws.Training;
        ws.HasRun = true;
    }

    /// <summary>
    /// Back-propagates through the last forward in <paramref name="ws"/> for L = Σ output⊙gradOutput + Σ h_n⊙gradHN +
    /// Σ c_n⊙gradCN, accumulating into <paramref name="grads"/> (weight_hr included) and writing the optional input and
    /// initial-state gradients.
    /// </summary>
    public void Backward(
        ProjectedLstmBuffers ws, ReadOnlySpan<float> gradOutput, ReadOnlySpan<float> gradHN, ReadOnlySpan<float> gradCN, IParameterGradients grads,
        Span<float> gradInput, Span<float> gradH0, Span<float> gradC0)
    {
        ArgumentNullException.ThrowIfNull(grads);
        var cfg = Config;
        if (!ws.Training)
        {
            throw new InvalidOperationException("backward needs a training workspace: CreateWorkspace(maxSeqLen, maxBatch, training: true)");
        }

        if (!ws.HasForward)
        {
            throw new InvalidOperationException("backward needs a forward run in this workspace first");
        }

        var g = grads.Config;
        if (g.Cell != cfg.Cell || g.InputSize != cfg.InputSize || g.HiddenSize != cfg.HiddenSize || g.NumLayers != cfg.NumLayers ||
            g.Bias != cfg.Bias || g.Bidirectional != cfg.Bidirectional || g.ProjSize != cfg.ProjSize)
        {
            throw new ArgumentException("the gradients were created for another configuration", nameof(grads));
        }

        int seqLen = ws.SeqLen, batch = ws.Batch, rows = seqLen * batch, d = cfg.NumDirections, dp = cfg.OutputSize;
        int hStates = cfg.NumLayers * d * batch * cfg.StateSize, cStates = cfg.NumLayers * d * batch * cfg.HiddenSize;
        Need(gradOutput.Length, (long)rows * dp, nameof(gradOutput), "T·B·D·P");
        Optional(gradHN.Length, hStates, nameof(gradHN), "L·D·B·P");
        Optional(gradCN.Length, cStates, nameof(gradCN), "L·D·B·H");
        Optional(gradInput.Length, (long)rows * cfg.InputSize, nameof(gradInput), "T·B·I");
        Optional(gradH0.Length, hStates, nameof(gradH0), "L·D·B·P");
        Optional(gradC0.Length, cStates, nameof(gradC0), "L·D·B·H");

        float[] dOut = ws.DOutA, dIn = ws.DOutB;
        SequenceRunner.CopyLayout(cfg.BatchFirst, gradOutput, batch, seqLen, dp, dOut);

        for (int l = cfg.NumLayers - 1; l >= 0; l--)
        {
            int inSize = cfg.LayerInputSize(l);
            ReadOnlySpan<float> layerIn = l == 0 ? ws.X.AsSpan(0, rows * inSize) : LayerInput(ws, l, rows * dp);
            bool needInputGrad = l > 0 || !gradInput.IsEmpty;
            for (int dir = 0; dir < d; dir++)
            {
                BackwardSlot(ws, l, dir, seqLen, batch, dOut, gradHN, gradCN, gradH0, gradC0);
                var s = _slots[(l * d) + dir];
                int slot = (l * d) + dir, g4 = 4 * cfg.HiddenSize, p = cfg.ProjSize, h = cfg.HiddenSize;
                var dG = ws.DGates.AsSpan(0, rows * g4);
                Gemm.MultiplyTransposedA(dG, layerIn, rows, g4, inSize, grads[l, dir, ParameterKind.WeightIh], accumulate: true, Variant);
                HiddenGradients.SumRows(dG, rows, g4, grads[l, dir, ParameterKind.BiasIh]);
                HiddenGradients.SumRows(dG, rows, g4, grads[l, dir, ParameterKind.BiasHh]);
                Gemm.MultiplyTransposedA(ws.DhAll.AsSpan(0, rows * p), ws.M[slot].AsSpan(0, rows * h), rows, p, h, grads[l, dir, ParameterKind.WeightHr], accumulate: true, Variant);

                // dW_hh += dGᵀ·h_prev: the first visited step multiplied h0, the others the state one step earlier in
                // visiting order ((T − 1)·B contiguous rows of HState, shifted by B for the reverse direction).
                var dWhh = grads[l, dir, ParameterKind.WeightHh];
                var hState = ws.HState[slot];
                var h0 = ws.H0.AsSpan(slot * batch * p, batch * p);
                int first = dir == 0 ? 0 : seqLen - 1;
                Gemm.MultiplyTransposedA(dG.Slice(first * batch * g4, batch * g4), h0, batch, g4, p, dWhh, accumulate: true, Variant);
                if (seqLen > 1)
                {
                    int tail = (seqLen - 1) * batch;
                    var dGRest = dir == 0 ? dG.Slice(batch * g4, tail * g4) : dG[..(tail * g4)];
                    var hPrev = dir == 0 ? hState.AsSpan(0, tail * p) : hState.AsSpan(batch * p, tail * p);
                    Gemm.MultiplyTransposedA(dGRest, hPrev, tail, g4, p, dWhh, accumulate: true, Variant);
                }

                if (needInputGrad)
                {
                    Gemm.MultiplyNotTransposed(dG, s.WeightIh, rows, g4, inSize, dIn.AsSpan(0, rows * inSize), accumulate: dir > 0, Variant);
                }
            }

            // The input gradient is that of the dropped copy; the layer below sees it through the same mask.
            if (l > 0 && ws.Dropout is { Active: true } drop)
            {
                drop.Backward(dIn.AsSpan(0, rows * dp), l - 1);
            }

            (dOut, dIn) = (dIn, dOut);
        }

        if (!gradInput.IsEmpty)
        {
            var dx = dOut.AsSpan(0, rows * cfg.InputSize);
            SequenceRunner.CopyLayout(cfg.BatchFirst, dx, seqLen, batch, cfg.InputSize, gradInput);
        }
    }

    private static float[] LayerOut(ProjectedLstmBuffers ws, int layer) => ws.LayerOut[ws.Training ? layer : layer % 2];

    /// <summary>What layer l ≥ 1 reads: layer l − 1's output, or its dropped copy when this forward applies dropout.</summary>
    private static ReadOnlySpan<float> LayerInput(ProjectedLstmBuffers ws, int layer, int count) =>
        ws.Dropout is { Active: true } d ? d.Dropped(layer - 1, count) : LayerOut(ws, layer - 1).AsSpan(0, count);

    private void ForwardSlot(ProjectedLstmBuffers ws, int l, int dir, int seqLen, int batch, ReadOnlySpan<float> layerIn)
    {
        var cfg = Config;
        int h = cfg.HiddenSize, p = cfg.ProjSize, g4 = 4 * h, d = cfg.NumDirections, dp = cfg.OutputSize, rows = seqLen * batch;
        int slot = (l * d) + dir, buf = ws.Training ? slot : 0;
        var s = _slots[slot];
        var gates = ws.Gates[buf].AsSpan(0, rows * g4);
        var c = ws.C[buf];
        var m = ws.M[buf];
        var hState = ws.HState[buf];
        var tanhC = ws.Training ? ws.TanhC[buf] : null;
        var output = LayerOut(ws, l).AsSpan(0, rows * dp);
        var h0 = ws.H0.AsSpan(slot * batch * p, batch * p);
        var c0 = ws.C0.AsSpan(slot * batch * h, batch * h);
        Gemm.Multiply(layerIn, rows, s.PackedIh, s.Bias, gates, accumulate: false);
        int prev = -1;
        for (int step = 0; step < seqLen; step++)
        {
            int t = dir == 0 ? step : seqLen - 1 - step;
            ReadOnlySpan<float> hPrev = prev < 0 ? h0 : hState.AsSpan(prev * batch * p, batch * p);
            ReadOnlySpan<float> cPrev = prev < 0 ? c0 : c.AsSpan(prev * batch * h, batch * h);
            var gt = gates.Slice(t * batch * g4, batch * g4);
            var ct = c.AsSpan(t * batch * h, batch * h);
            var mt = m.AsSpan(t * batch * h, batch * h);
            var ht = hState.AsSpan(t * batch * p, batch * p);
            Gemm.Multiply(hPrev, batch, s.PackedHh, [], gt, accumulate: true);
            LstmGates.Forward(batch, h, gt, g4, [], cPrev, h, ct, h, mt, h, tanhC is null ? [] : tanhC.AsSpan(t * batch * h, batch * h), h, ws.Training, Variant);
            Gemm.Multiply(mt, batch, s.PackedHr, [], ht, accumulate: false);
            for (int b = 0; b < batch; b++)
            {
                var o = output.Slice((((t * batch) + b) * dp) + (dir * p), p);
                if (ws.HasLengths && t >= ws.Lengths[b])
                {
                    hPrev.Slice(b * p, p).CopyTo(ht.Slice(b * p, p));
                    cPrev.Slice(b * h, h).CopyTo(ct.Slice(b * h, h));
                    o.Clear();
                }
                else
                {
                    ht.Slice(b * p, p).CopyTo(o);
                }
            }

            prev = t;
        }

        hState.AsSpan(prev * batch * p, batch * p).CopyTo(ws.HN.AsSpan(slot * batch * p, batch * p));
        c.AsSpan(prev * batch * h, batch * h).CopyTo(ws.CN.AsSpan(slot * batch * h, batch * h));
    }

    private void BackwardSlot(
        ProjectedLstmBuffers ws, int l, int dir, int seqLen, int batch, ReadOnlySpan<float> dOut,
        ReadOnlySpan<float> gradHN, ReadOnlySpan<float> gradCN, Span<float> gradH0, Span<float> gradC0)
    {
        var cfg = Config;
        int h = cfg.HiddenSize, p = cfg.ProjSize, g4 = 4 * h, d = cfg.NumDirections, dp = cfg.OutputSize;
        int slot = (l * d) + dir;
        var s = _slots[slot];
        var gates = ws.Gates[slot];
        var c = ws.C[slot];
        var tanhC = ws.TanhC[slot];
        var c0 = ws.C0.AsSpan(slot * batch * h, batch * h);
        var dG = ws.DGates;
        var dhAll = ws.DhAll;
        Span<float> dh = ws.Dh.AsSpan(0, batch * p), dhPrev = ws.DhPrev.AsSpan(0, batch * p);
        Span<float> dc = ws.Dc.AsSpan(0, batch * h), dcPrev = ws.DcPrev.AsSpan(0, batch * h), dm = ws.Dm.AsSpan(0, batch * h);
        CopyOrClear(gradHN.IsEmpty ? default : gradHN.Slice(slot * batch * p, batch * p), dh);
        CopyOrClear(gradCN.IsEmpty ? default : gradCN.Slice(slot * batch * h, batch * h), dc);
        for (int step = seqLen - 1; step >= 0; step--)
        {
            int t = dir == 0 ? step : seqLen - 1 - step;
            int prev = step == 0 ? -1 : (dir == 0 ? t - 1 : t + 1);
            for (int b = 0; b < batch; b++)
            {
                if (Active(ws, t, b))
                {
                    System.Numerics.Tensors.TensorPrimitives.Add(dh.Slice(b * p, p), dOut.Slice((((t * batch) + b) * dp) + (dir * p), p), dh.Slice(b * p, p));
                }
            }

            var dht = dhAll.AsSpan(t * batch * p, batch * p);
            dh.CopyTo(dht);
            Gemm.MultiplyNotTransposed(dh, s.WeightHr, batch, p, h, dm, accumulate: false, Variant);
            ReadOnlySpan<float> cPrev = prev < 0 ? c0 : c.AsSpan(prev * batch * h, batch * h);
            var dGt = dG.AsSpan(t * batch * g4, batch * g4);
            LstmGates.Backward(
                batch, h, gates.AsSpan(t * batch * g4, batch * g4), g4, cPrev, h, [], 0, tanhC.AsSpan(t * batch * h, batch * h), h,
                dm, h, dc, h, dGt, g4, dcPrev, h, Variant);
            for (int b = 0; b < batch; b++)
            {
                if (!Active(ws, t, b))
                {
                    dGt.Slice(b * g4, g4).Clear();
                    dht.Slice(b * p, p).Clear();
                }
            }

            Gemm.MultiplyNotTransposed(dGt, s.WeightHh, batch, g4, p, dhPrev, accumulate: false, Variant);
            for (int b = 0; b < batch; b++)
            {
                if (!Active(ws, t, b))
                {
                    dh.Slice(b * p, p).CopyTo(dhPrev.Slice(b * p, p));
                    dc.Slice(b * h, h).CopyTo(dcPrev.Slice(b * h, h));
                }
            }

            var swapH = dh;
            dh = dhPrev;
            dhPrev = swapH;
            var swapC = dc;
            dc = dcPrev;
            dcPrev = swapC;
        }

        if (!gradH0.IsEmpty)
        {
            dh.CopyTo(gradH0.Slice(slot * batch * p, batch * p));
        }

        if (!gradC0.IsEmpty)
        {
            dc.CopyTo(gradC0.Slice(slot * batch * h, batch * h));
        }
    }

    private static bool Active(ProjectedLstmBuffers ws, int t, int b) => !ws.HasLengths || t < ws.Lengths[b];

    private static void SetLengths(ProjectedLstmBuffers ws, ReadOnlySpan<int> lengths, int seqLen, int batch)
    {
        SequenceRunner.CheckLengths(lengths, seqLen, batch);
        ws.SeqLen = seqLen;
        ws.Batch = batch;
        bool full = true;
        for (int b = 0; b < lengths.Length; b++)
        {
            ws.Lengths[b] = lengths[b];
            full &= lengths[b] == seqLen;
        }

        ws.HasLengths = !full;
    }

    private static void CopyOrClear(ReadOnlySpan<float> src, Span<float> dst) => SequenceRunner.CopyOrClear(src, dst);


    private static void Need(int actual, long expected, string name, string shape)
    {
        if (actual != expected)
        {
            throw new ArgumentException($"{name} has {actual} values, expected {expected} ({shape})", name);
        }
    }

    private static void Optional(int actual, long expected, string name, string shape)
    {
        if (actual != 0 && actual != expected)
        {
            throw new ArgumentException($"{name} has {actual} values, expected {expected} ({shape}) or none", name);
        }
    }

    /// <summary>One layer-direction's weights: the storage (PyTorch layout) and the packed copies the GEMMs read.</summary>
    private sealed class Slot
    {
        public Slot(int inputSize, int hidden, int proj, float[] weightIh, float[] weightHh, float[] weightHr, float[]? biasIh, float[]? biasHh, KernelVariant variant)
        {
            WeightIh = weightIh;
            WeightHh = weightHh;
            WeightHr = weightHr;
            BiasIh = biasIh;
            BiasHh = biasHh;
            PackedIh = PackedMatrix.Pack(weightIh, 4 * hidden, inputSize, variant);
            PackedHh = PackedMatrix.Pack(weightHh, 4 * hidden, proj, variant);
            PackedHr = PackedMatrix.Pack(weightHr, proj, hidden, variant);
            Bias = biasIh is null ? [] : new float[4 * hidden];
            Refresh();
        }

        public float[] WeightIh { get; }

        public float[] WeightHh { get; }

        public float[] WeightHr { get; }

        public float[]? BiasIh { get; }

        public float[]? BiasHh { get; }

        public PackedMatrix PackedIh { get; }

        public PackedMatrix PackedHh { get; }

        public PackedMatrix PackedHr { get; }

        /// <summary>b_ih + b_hh, added by the input projection (empty without biases).</summary>
        public float[] Bias { get; }

        public void Refresh()
        {
            PackedIh.Repack(WeightIh);
            PackedHh.Repack(WeightHh);
            PackedHr.Repack(WeightHr);
            if (BiasIh is not null && BiasHh is not null)
            {
                System.Numerics.Tensors.TensorPrimitives.Add(BiasIh, BiasHh, Bias);
            }
        }
    }
}
