using RecurrentCore.Memory;

namespace RecurrentCore.Sequence;

/// <summary>
/// The time loop of a layer stack (<see cref="SequenceModel"/>): per layer and direction, one GEMM projects the whole
/// sequence's inputs, then each step runs the recurrent product and one fused gate pass (<see cref="CellLoops"/>). Backward walks the
/// steps in reverse with the fused gate backward, then forms the weight gradients as a few large GEMMs over all steps.
/// Inside, everything is time-major (T, B, ·) in the workspace; the caller's data is copied in (transposed when
/// batch-first) and the results copied out, which is also what lets <see cref="SequencePass"/> split the work across
/// threads.
/// Variable lengths: at time t a row is active when t &lt; length; an inactive row keeps its state and outputs 0, which
/// gives pack_padded_sequence semantics for both directions (the reverse direction's state stays h0 until its start).
/// </summary>
internal static class SequenceRunner
{
    /// <summary>The forward pass; the caller has checked that the workspace belongs to the model and holds (T, B).</summary>
    public static unsafe void Forward(
        SequenceModel model, WorkspaceBuffers ws, SequencePass pass, ReadOnlySpan<float> input, int seqLen, int batch, Span<float> output,
        Span<float> hN, Span<float> cN, ReadOnlySpan<float> h0, ReadOnlySpan<float> c0, ReadOnlySpan<int> lengths)
    {
        var cfg = model.Config;
        int rows = seqLen * batch, dh = cfg.OutputSize;
        int states = cfg.NumLayers * cfg.NumDirections * batch * cfg.HiddenSize;
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

        // Inference on time-major input without padding reads the caller's input in place; otherwise it is copied
        // (transposed when batch-first, padding zeroed), and training keeps the copy for dW_ih.
        bool direct = !ws.Training && !cfg.BatchFirst && !ws.HasLengths;
        if (!direct)
        {
            var x = ws.X(rows * cfg.InputSize);
            CopyLayout(cfg.BatchFirst, input, batch, seqLen, cfg.InputSize, x);

            if (ws.HasLengths)
            {
                // Padding never reaches the math (and a NaN there could not leak into dW_ih through 0·NaN).
                ZeroPadding(ws, x, seqLen, cfg.InputSize);
            }
        }

        CopyOrClear(h0, ws.H0(states));
        if (model.Cell.HasCellState)
        {
            CopyOrClear(c0, ws.C0(states));
        }

        var dropout = ws.Dropout;
        dropout?.BeginForward(ws.Training);
        fixed (float* caller = input)
        {
            pass.SetInput(direct ? caller : null);
            try
            {
                for (int l = 0; l < cfg.NumLayers; l++)
                {
                    for (int dir = 0; dir < cfg.NumDirections; dir++)
                    {
                        pass.Project(model, l, dir, seqLen, batch);
                        pass.ForwardSteps(model, l, dir, seqLen, batch);
                    }

                    if (dropout is { Active: true } && l < cfg.NumLayers - 1)
                    {
                        dropout.Forward(ws.LayerOut(l, rows * dh), l);
                    }
                }
            }
            finally
            {
                pass.SetInput(null);
            }
        }

        var last = ws.LayerOut(cfg.NumLayers - 1, rows * dh);
        CopyLayout(cfg.BatchFirst, last, seqLen, batch, dh, output);

        if (!hN.IsEmpty)
        {
            ws.HN(states).CopyTo(hN);
        }

        if (!cN.IsEmpty)
        {
            ws.CN(states).CopyTo(cN);
        }

        ws.HasForward = ws.Training;
        ws.HasRun = true;
    }

    /// <summary>The backward pass; the caller has checked that the workspace belongs to the model.</summary>
    public static void Backward(
        SequenceModel model, WorkspaceBuffers ws, SequencePass pass, ReadOnlySpan<float> gradOutput, ReadOnlySpan<float> gradHN,
        ReadOnlySpan<float> gradCN, IParameterGradients grads, Span<float> gradInput, Span<float> gradH0, Span<float> gradC0)
    {
        ArgumentNullException.ThrowIfNull(grads);
        var cfg = model.Config;
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
        int rows = seqLen * batch, h = cfg.HiddenSize, d = cfg.NumDirections, dh = cfg.OutputSize, gh = model.Cell.GateCount * h;
        int states = cfg.NumLayers * d * batch * h;
        bool hasC = model.Cell.HasCellState;
        Need(gradOutput.Length, (long)rows * dh, nameof(gradOutput));
        Optional(gradHN.Length, states, nameof(gradHN));
        CellState(cfg, gradCN.Length, states, nameof(gradCN));
        Optional(gradInput.Length, (long)rows * cfg.InputSize, nameof(gradInput));
        Optional(gradH0.Length, states, nameof(gradH0));
        CellState(cfg, gradC0.Length, states, nameof(gradC0));

        var dOut = ws.OutputGradientSource(cfg.NumLayers - 1, rows * dh);
        CopyLayout(cfg.BatchFirst, gradOutput, batch, seqLen, dh, dOut);

        CopyOrClear(gradHN, ws.GradHN(states));
        if (hasC)
        {
            CopyOrClear(gradCN, ws.GradCN(states));
        }

        for (int l = cfg.NumLayers - 1; l >= 0; l--)
        {
            bool needInputGrad = l > 0 || !gradInput.IsEmpty;
            for (int dir = 0; dir < d; dir++)
            {
                pass.BackwardSteps(model, l, dir, seqLen, batch);
                pass.WeightGradients(model, l, dir, seqLen, batch, grads);

                if (needInputGrad)
                {
                    pass.InputGradient(model, l, dir, seqLen, batch);
                }
            }

            // The input gradient is that of the dropped copy; the layer below sees it through the same mask.
            if (l > 0 && ws.Dropout is { Active: true } drop)
            {
                drop.Backward(ws.InputGradientTarget(l, rows * dh), l - 1);
            }
        }

        if (!gradInput.IsEmpty)
        {
            var dx = ws.InputGradientTarget(0, rows * cfg.InputSize);
            CopyLayout(cfg.BatchFirst, dx, seqLen, batch, cfg.InputSize, gradInput);
        }

        if (!gradH0.IsEmpty)
        {
            ws.GradH0(states).CopyTo(gradH0);
        }

        if (!gradC0.IsEmpty)
        {
            ws.GradC0(states).CopyTo(gradC0);
        }
    }

    /// <summary>Whether two configurations have the same parameter tensors (batch-first is a layout, not a parameter).</summary>
    private static bool SameParameters(RecurrentConfig a, RecurrentConfig b) =>
        a.Cell == b.Cell && a.InputSize == b.InputSize && a.HiddenSize == b.HiddenSize && a.NumLayers == b.NumLayers &&
        a.Bias == b.Bias && a.Bidirectional == b.Bidirectional && a.LinearBeforeReset == b.LinearBeforeReset;

    /// <summary>Empty, or B lengths each in 1..T; the message names the entry at fault.</summary>
    internal static void CheckLengths(ReadOnlySpan<int> lengths, int seqLen, int batch)
    {
        if (lengths.IsEmpty)
        {
            return;
        }

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

    private static void SetLengths(WorkspaceBuffers ws, ReadOnlySpan<int> lengths, int seqLen, int batch)
    {
        CheckLengths(lengths, seqLen, batch);
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

    private static void ZeroPadding(WorkspaceBuffers ws, Span<float> x, int seqLen, int features)
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

    internal static void CopyOrClear(ReadOnlySpan<float> src, Span<float> dst)
    {
        if (src.IsEmpty)
        {
            dst.Clear();
        }
        else
        {
            src.CopyTo(dst);
        }
    }

    /// <summary>(A, B, F) → (B, A, F) when <paramref name="transpose"/> (a batch-first caller), else a plain copy.</summary>
    internal static void CopyLayout(bool transpose, ReadOnlySpan<float> src, int a, int b, int features, Span<float> dst)
    {
        if (transpose)
        {
            Transpose(src, a, b, features, dst);
        }
        else
        {
            src.CopyTo(dst);
        }
    }

    /// <summary>(A, B, F) → (B, A, F).</summary>
    internal static void Transpose(ReadOnlySpan<float> src, int a, int b, int features, Span<float> dst)
    {
        for (int i = 0; i < a; i++)
        {
            for (int j = 0; j < b; j++)
            {
                src.Slice(((i * b) + j) * features, features).CopyTo(dst.Slice(((j * a) + i) * features, features));
            }
        }
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
        if (actual != 0 && !cfg.Cell.HasCellState())
        {
            throw new ArgumentException($"{name}: only an LSTM has a cell state, this is {cfg.Cell.Name()}", name);
        }

        Optional(actual, expected, name);
    }
}
