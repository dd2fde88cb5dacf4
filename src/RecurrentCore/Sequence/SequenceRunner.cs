using System.Numerics.Tensors;
using RecurrentCore.Cells;
using RecurrentCore.Kernels;
using RecurrentCore.Kernels.Gates;
using RecurrentCore.Layers;
using RecurrentCore.Memory;

namespace RecurrentCore.Sequence;

/// <summary>
/// The time loop of a <see cref="RecurrentLayer"/>: per layer and direction, one GEMM projects the whole sequence's
/// inputs, then each step runs the recurrent product and one fused gate pass (<see cref="Cells"/>). Backward walks the
/// steps in reverse with the fused gate backward, then forms the weight gradients as a few large GEMMs over all steps.
/// Inside, everything is time-major (T, B, ·); batch-first data is transposed at the boundary.
/// Variable lengths: at time t a row is active when t &lt; length; an inactive row keeps its state and outputs 0, which
/// gives pack_padded_sequence semantics for both directions (the reverse direction's state stays h0 until its start).
/// </summary>
internal static class SequenceRunner
{
    public static void Forward(
        RecurrentLayer layer, RecurrentWorkspace ws, ReadOnlySpan<float> input, int seqLen, int batch, Span<float> output, Span<float> hN,
        Span<float> cN, ReadOnlySpan<float> h0, ReadOnlySpan<float> c0, ReadOnlySpan<int> lengths)
    {
        ArgumentNullException.ThrowIfNull(ws);
        var cfg = layer.Config;
        ArgumentOutOfRangeException.ThrowIfLessThan(seqLen, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        ws.Require(layer, seqLen, batch);
        int rows = seqLen * batch, h = cfg.HiddenSize, d = cfg.NumDirections, dh = cfg.OutputSize, gh = cfg.GateCount * h;
        int states = cfg.NumLayers * d * batch * h;
        bool lstm = cfg.Cell == CellKind.Lstm;
        Need(input.Length, (long)rows * cfg.InputSize, nameof(input));
        Need(output.Length, (long)rows * dh, nameof(output));
        Optional(hN.Length, states, nameof(hN));
        Optional(h0.Length, states, nameof(h0));
        CellState(cfg, cN.Length, states, nameof(cN));
        CellState(cfg, c0.Length, states, nameof(c0));
        // SetLengths validates before it records anything, so a refused call leaves the workspace (and the forward it
        // holds for backward) exactly as it was.
        SetLengths(ws, lengths, seqLen, batch);
        ws.HasForward = false;
        ws.HasRun = false;

        // Layer 0's input, time-major: the caller's span when usable as is, else a copy (batch-first, padding to zero,
        // or kept for backward).
        ReadOnlySpan<float> x0 = input;
        if (cfg.BatchFirst || ws.HasLengths || ws.Training)
        {
            var x = ws.X(rows * cfg.InputSize);
            if (cfg.BatchFirst)
            {
                Transpose(input, batch, seqLen, cfg.InputSize, x);
            }
            else
            {
                input.CopyTo(x);
            }

            if (ws.HasLengths)
            {
                ZeroPadding(ws, x, seqLen, cfg.InputSize);
            }

            x0 = x;
        }

        var variant = layer.Variant;
        var nonlinearity = cfg.Cell == CellKind.RnnRelu ? RnnNonlinearity.Relu : RnnNonlinearity.Tanh;
        for (int l = 0; l < cfg.NumLayers; l++)
        {
            int inSize = cfg.LayerInputSize(l);
            ReadOnlySpan<float> layerIn = l == 0 ? x0 : ws.LayerOut(l - 1, rows * dh);
            var layerOut = ws.LayerOut(l, rows * dh);
            for (int dir = 0; dir < d; dir++)
            {
                int slot = (l * d) + dir;
                var w = layer.Weights(l, dir);
                var proj = ws.Gates(slot, rows * gh);
                Gemm.Multiply(layerIn, rows, w.PackedIh, w.ProjectionBias, proj, accumulate: false);

                var hCur = ws.StateH(0, batch * h);
                var hNew = ws.StateH(1, batch * h);
                var cCur = lstm ? ws.StateC(0, batch * h) : default;
                var cNew = lstm ? ws.StateC(1, batch * h) : default;
                InitialState(h0, slot, batch * h, hCur);
                if (lstm)
                {
                    InitialState(c0, slot, batch * h, cCur);
                }

                for (int s = 0; s < seqLen; s++)
                {
                    int t = dir == 0 ? s : seqLen - 1 - s;
                    var mask = Mask(ws, t);
                    var gates = proj.Slice(t * batch * gh, batch * gh);
                    if (ws.Training)
                    {
                        hCur.CopyTo(ws.HPrev(slot, rows * h).Slice(t * batch * h, batch * h));
                        if (lstm)
                        {
                            cCur.CopyTo(ws.CPrev(slot, rows * h).Slice(t * batch * h, batch * h));
                        }
                    }

                    switch (cfg.Cell)
                    {
                        case CellKind.Lstm:
                            var tanhC = ws.Training ? ws.TanhC(slot, rows * h).Slice(t * batch * h, batch * h) : default;
                            LstmCell.Forward(w, batch, gates, hCur, cCur, hNew, cNew, tanhC, ws.Training, mask, variant);
                            break;
                        case CellKind.Gru:
                            var ghStep = ws.Training ? ws.Gh(slot, rows * gh).Slice(t * batch * gh, batch * gh) : ws.GhStep(batch * gh);
                            GruCell.Forward(w, batch, gates, ghStep, hCur, hNew, ws.Training, mask, variant);
                            break;
                        default:
                            ElmanCell.Forward(w, batch, gates, hCur, hNew, nonlinearity, mask, variant);
                            break;
                    }

                    // The output row: h for active rows, 0 past a sequence's end.
                    for (int b = 0; b < batch; b++)
                    {
                        var dst = layerOut.Slice((((t * batch) + b) * dh) + (dir * h), h);
                        if (mask.IsEmpty || mask[b] != 0)
                        {
                            hNew.Slice(b * h, h).CopyTo(dst);
                        }
                        else
                        {
                            dst.Clear();
                        }
                    }

                    Swap(ref hCur, ref hNew);
                    if (lstm)
                    {
                        Swap(ref cCur, ref cNew);
                    }
                }

                if (!hN.IsEmpty)
                {
                    hCur.CopyTo(hN.Slice(slot * batch * h, batch * h));
                }

                if (!cN.IsEmpty)
                {
                    cCur.CopyTo(cN.Slice(slot * batch * h, batch * h));
                }
            }
        }

        var last = ws.LayerOut(cfg.NumLayers - 1, rows * dh);
        if (cfg.BatchFirst)
        {
            Transpose(last, seqLen, batch, dh, output);
        }
        else
        {
            last.CopyTo(output);
        }

        ws.HasForward = ws.Training;
        ws.HasRun = true;
    }

    public static void Backward(
        RecurrentLayer layer, RecurrentWorkspace ws, ReadOnlySpan<float> gradOutput, ReadOnlySpan<float> gradHN, ReadOnlySpan<float> gradCN,
        RecurrentGradients grads, Span<float> gradInput, Span<float> gradH0, Span<float> gradC0)
    {
        ArgumentNullException.ThrowIfNull(ws);
        ArgumentNullException.ThrowIfNull(grads);
        var cfg = layer.Config;
        if (!ReferenceEquals(ws.Layer, layer))
        {
            throw new ArgumentException("the workspace was created by another layer", nameof(ws));
        }

        if (!ws.Training)
        {
            throw new InvalidOperationException("backward needs a training workspace: CreateWorkspace(maxSeqLen, maxBatch, training: true)");
        }

        if (!ws.HasForward)
        {
            throw new InvalidOperationException("backward needs a forward run in this workspace first");
        }

        if (!SameParameters(grads.Config, cfg))
        {
            throw new ArgumentException("the gradients were created for another configuration", nameof(grads));
        }

        int seqLen = ws.SeqLen, batch = ws.Batch;
        int rows = seqLen * batch, h = cfg.HiddenSize, d = cfg.NumDirections, dh = cfg.OutputSize, gh = cfg.GateCount * h;
        int states = cfg.NumLayers * d * batch * h;
        bool lstm = cfg.Cell == CellKind.Lstm, gru = cfg.Cell == CellKind.Gru;
        Need(gradOutput.Length, (long)rows * dh, nameof(gradOutput));
        Optional(gradHN.Length, states, nameof(gradHN));
        CellState(cfg, gradCN.Length, states, nameof(gradCN));
        Optional(gradInput.Length, (long)rows * cfg.InputSize, nameof(gradInput));
        Optional(gradH0.Length, states, nameof(gradH0));
        CellState(cfg, gradC0.Length, states, nameof(gradC0));

        var variant = layer.Variant;
        var nonlinearity = cfg.Cell == CellKind.RnnRelu ? RnnNonlinearity.Relu : RnnNonlinearity.Tanh;
        // dOut: dL/d(this layer's output), time-major; dIn: dL/d(this layer's input). They alternate going down.
        Span<float> dOut = ws.GradA(rows * dh);
        if (cfg.BatchFirst)
        {
            Transpose(gradOutput, batch, seqLen, dh, dOut);
        }
        else
        {
            gradOutput.CopyTo(dOut);
        }

        bool outInA = true;
        for (int l = cfg.NumLayers - 1; l >= 0; l--)
        {
            int inSize = cfg.LayerInputSize(l);
            ReadOnlySpan<float> layerIn = l == 0 ? ws.X(rows * cfg.InputSize) : ws.LayerOut(l - 1, rows * dh);
            ReadOnlySpan<float> layerOut = ws.LayerOut(l, rows * dh);
            bool needInputGrad = l > 0 || !gradInput.IsEmpty;
            var dIn = outInA ? ws.GradB(rows * inSize) : ws.GradA(rows * inSize);
            for (int dir = 0; dir < d; dir++)
            {
                int slot = (l * d) + dir;
                var w = layer.Weights(l, dir);
                var dGi = ws.GradGi(rows * gh);
                var dGh = gru ? ws.GradGh(rows * gh) : dGi;
                var gates = ws.Gates(slot, rows * gh);
                var hPrev = ws.HPrev(slot, rows * h);
                var dhCur = ws.Dh(0, batch * h);
                var dhNew = ws.Dh(1, batch * h);
                var dcCur = lstm ? ws.Dc(0, batch * h) : default;
                var dcNew = lstm ? ws.Dc(1, batch * h) : default;
                InitialState(gradHN, slot, batch * h, dhCur);
                if (lstm)
                {
                    InitialState(gradCN, slot, batch * h, dcCur);
                }

                for (int s = seqLen - 1; s >= 0; s--)
                {
                    int t = dir == 0 ? s : seqLen - 1 - s;
                    var mask = Mask(ws, t);
                    // dh += dL/d(output at t) for rows whose output exists (padded outputs are constant 0).
                    for (int b = 0; b < batch; b++)
                    {
                        if (mask.IsEmpty || mask[b] != 0)
                        {
                            TensorPrimitives.Add(dhCur.Slice(b * h, h), dOut.Slice((((t * batch) + b) * dh) + (dir * h), h), dhCur.Slice(b * h, h));
                        }
                    }

                    int at = t * batch;
                    var gatesT = gates.Slice(at * gh, batch * gh);
                    var dGiT = dGi.Slice(at * gh, batch * gh);
                    switch (cfg.Cell)
                    {
                        case CellKind.Lstm:
                            LstmCell.Backward(
                                w, batch, gatesT, ws.CPrev(slot, rows * h).Slice(at * h, batch * h), ws.TanhC(slot, rows * h).Slice(at * h, batch * h),
                                dhCur, dcCur, dGiT, dhNew, dcNew, mask, variant);
                            break;
                        case CellKind.Gru:
                            GruCell.Backward(
                                w, batch, gatesT, ws.Gh(slot, rows * gh).Slice(at * gh, batch * gh), hPrev.Slice(at * h, batch * h), dhCur,
                                dGiT, dGh.Slice(at * gh, batch * gh), dhNew, mask, variant);
                            break;
                        default:
                            ElmanCell.Backward(w, batch, layerOut[((at * dh) + (dir * h))..], dh, dhCur, dGiT, dhNew, nonlinearity, mask, variant);
                            break;
                    }

                    Swap(ref dhCur, ref dhNew);
                    if (lstm)
                    {
                        Swap(ref dcCur, ref dcNew);
                    }
                }

                if (!gradH0.IsEmpty)
                {
                    dhCur.CopyTo(gradH0.Slice(slot * batch * h, batch * h));
                }

                if (!gradC0.IsEmpty)
                {
                    dcCur.CopyTo(gradC0.Slice(slot * batch * h, batch * h));
                }

                // Weight gradients as GEMMs over all T·B steps: dW_ih += dGiᵀ·X, dW_hh += dGhᵀ·H_prev, db += Σ rows.
                Gemm.MultiplyTransposedA(dGi, layerIn, rows, gh, inSize, grads[l, dir, ParameterKind.WeightIh], accumulate: true, variant);
                Gemm.MultiplyTransposedA(dGh, hPrev, rows, gh, h, grads[l, dir, ParameterKind.WeightHh], accumulate: true, variant);
                if (cfg.Bias)
                {
                    SumRows(dGi, rows, gh, grads[l, dir, ParameterKind.BiasIh]);
                    SumRows(dGh, rows, gh, grads[l, dir, ParameterKind.BiasHh]);
                }

                if (needInputGrad)
                {
                    Gemm.MultiplyNotTransposed(dGi, w.WeightIh, rows, gh, inSize, dIn, accumulate: dir > 0, variant);
                }
            }

            dOut = dIn;
            outInA = !outInA;
        }

        if (!gradInput.IsEmpty)
        {
            if (cfg.BatchFirst)
            {
                Transpose(dOut, seqLen, batch, cfg.InputSize, gradInput);
            }
            else
            {
                dOut.CopyTo(gradInput);
            }
        }
    }

    /// <summary>Whether two configurations have the same parameter tensors (batch-first is a layout, not a parameter).</summary>
    private static bool SameParameters(RecurrentConfig a, RecurrentConfig b) =>
        a.Cell == b.Cell && a.InputSize == b.InputSize && a.HiddenSize == b.HiddenSize && a.NumLayers == b.NumLayers &&
        a.Bias == b.Bias && a.Bidirectional == b.Bidirectional;

    /// <summary>The active-row mask at time t, or empty when every row is active (no lengths, or t below the shortest).</summary>
    private static ReadOnlySpan<byte> Mask(RecurrentWorkspace ws, int t)
    {
        if (!ws.HasLengths)
        {
            return default;
        }

        var lengths = ws.Lengths;
        var active = ws.Active;
        bool all = true;
        for (int b = 0; b < lengths.Length; b++)
        {
            bool on = t < lengths[b];
            active[b] = on ? (byte)1 : (byte)0;
            all &= on;
        }

        return all ? default : active;
    }

    private static void SetLengths(RecurrentWorkspace ws, ReadOnlySpan<int> lengths, int seqLen, int batch)
    {
        if (!lengths.IsEmpty)
        {
            if (lengths.Length != batch)
            {
                throw new ArgumentException($"lengths has {lengths.Length} entries, expected batch {batch}", nameof(lengths));
            }

            for (int b = 0; b < batch; b++)
            {
                if (lengths[b] < 1 || lengths[b] > seqLen)
                {
                    throw new ArgumentException($"lengths[{b}] = {lengths[b]} is outside 1..{seqLen}", nameof(lengths));
                }
            }
        }

        ws.SeqLen = seqLen;
        ws.Batch = batch;
        ws.HasLengths = false;
        if (lengths.IsEmpty)
        {
            return;
        }

        var dst = ws.Lengths;
        bool full = true;
        for (int b = 0; b < batch; b++)
        {
            dst[b] = lengths[b];
            full &= lengths[b] == seqLen;
        }

        ws.HasLengths = !full;
    }

    private static void ZeroPadding(RecurrentWorkspace ws, Span<float> x, int seqLen, int features)
    {
        var lengths = ws.Lengths;
        int batch = lengths.Length;
        for (int b = 0; b < batch; b++)
        {
            for (int t = lengths[b]; t < seqLen; t++)
            {
                x.Slice(((t * batch) + b) * features, features).Clear();
            }
        }
    }

    private static void InitialState(ReadOnlySpan<float> all, int slot, int count, Span<float> dst)
    {
        if (all.IsEmpty)
        {
            dst.Clear();
        }
        else
        {
            all.Slice(slot * count, count).CopyTo(dst);
        }
    }

    private static void SumRows(ReadOnlySpan<float> m, int rows, int cols, Span<float> acc)
    {
        for (int r = 0; r < rows; r++)
        {
            TensorPrimitives.Add(acc, m.Slice(r * cols, cols), acc);
        }
    }

    /// <summary>(A, B, F) → (B, A, F).</summary>
    private static void Transpose(ReadOnlySpan<float> src, int a, int b, int features, Span<float> dst)
    {
        for (int i = 0; i < a; i++)
        {
            for (int j = 0; j < b; j++)
            {
                src.Slice(((i * b) + j) * features, features).CopyTo(dst.Slice(((j * a) + i) * features, features));
            }
        }
    }

    private static void Swap(ref Span<float> a, ref Span<float> b)
    {
        var t = a;
        a = b;
        b = t;
    }

    private static void Need(int actual, long expected, string name)
    {
        if (actual != expected)
        {
            throw new ArgumentException($"{name} has {actual} values, expected {expected}", name);
        }
    }

    private static void Optional(int actual, long expected, string name)
    {
        if (actual != 0 && actual != expected)
        {
            throw new ArgumentException($"{name} has {actual} values, expected {expected} (L·D·B·H) or none", name);
        }
    }

    private static void CellState(RecurrentConfig cfg, int actual, long expected, string name)
    {
        if (actual != 0 && cfg.Cell != CellKind.Lstm)
        {
            throw new ArgumentException($"{name}: only an LSTM has a cell state, this is {cfg.Cell.Name()}", name);
        }

        Optional(actual, expected, name);
    }
}
