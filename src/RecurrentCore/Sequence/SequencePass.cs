using System.Numerics.Tensors;
using RecurrentCore.Cells;
using RecurrentCore.Kernels;
using RecurrentCore.Kernels.Gates;
using RecurrentCore.Layers;
using RecurrentCore.Memory;
using RecurrentCore.Threading;

namespace RecurrentCore.Sequence;

/// <summary>
/// One layer and direction of a sequence pass, cut into parts that run on the workspace's threads: the input
/// projection and the input gradient by rows of (T·B), the time loops by contiguous slices of batch rows (rows never
/// interact inside a layer). Everything it touches lives in the workspace or the layer, so it can be handed to worker
/// threads; one instance per workspace, reused, so dispatch allocates nothing.
/// </summary>
internal sealed class SequencePass : IParallelWork
{
    private readonly RecurrentWorkspace _ws;
    private RecurrentLayer _layer = null!;
    private Stage _stage;
    private int _l, _dir, _seqLen, _batch;

    public SequencePass(RecurrentWorkspace ws) => _ws = ws;

    private enum Stage
    {
        Projection,
        ForwardSteps,
        BackwardSteps,
        InputGradient,
    }

    /// <summary>proj = layerIn·W_ihᵀ + bias for all T·B rows.</summary>
    public void Project(RecurrentLayer layer, int l, int dir, int seqLen, int batch) => Dispatch(Stage.Projection, layer, l, dir, seqLen, batch, RowParts(seqLen * batch));

    /// <summary>The forward time loop for every batch row.</summary>
    public void ForwardSteps(RecurrentLayer layer, int l, int dir, int seqLen, int batch) => Dispatch(Stage.ForwardSteps, layer, l, dir, seqLen, batch, BatchParts(batch));

    /// <summary>The backward time loop for every batch row, leaving dGates for the weight-gradient GEMMs.</summary>
    public void BackwardSteps(RecurrentLayer layer, int l, int dir, int seqLen, int batch) => Dispatch(Stage.BackwardSteps, layer, l, dir, seqLen, batch, BatchParts(batch));

    /// <summary>dIn (+)= dGi·W_ih for all T·B rows (accumulating for the second direction).</summary>
    public void InputGradient(RecurrentLayer layer, int l, int dir, int seqLen, int batch) => Dispatch(Stage.InputGradient, layer, l, dir, seqLen, batch, RowParts(seqLen * batch));

    public void Execute(int part, int parts)
    {
        switch (_stage)
        {
            case Stage.Projection:
            case Stage.InputGradient:
            {
                var (r0, r1) = Split(_seqLen * _batch, part, parts);
                if (_stage == Stage.Projection)
                {
                    ProjectRows(r0, r1);
                }
                else
                {
                    InputGradientRows(r0, r1);
                }

                break;
            }

            default:
            {
                var (b0, b1) = Split(_batch, part, parts);
                if (_stage == Stage.ForwardSteps)
                {
                    ForwardRows(b0, b1);
                }
                else
                {
                    BackwardRows(b0, b1);
                }

                break;
            }
        }
    }

    private void Dispatch(Stage stage, RecurrentLayer layer, int l, int dir, int seqLen, int batch, int parts)
    {
        _stage = stage;
        _layer = layer;
        _l = l;
        _dir = dir;
        _seqLen = seqLen;
        _batch = batch;
        if (_ws.Pool is null || parts <= 1)
        {
            Execute(0, 1);
        }
        else
        {
            _ws.Pool.Run(this, parts);
        }
    }

    /// <summary>Row chunks of at least 64 rows, so a thread's GEMM stays worth its wake-up.</summary>
    private int RowParts(int rows) => Math.Max(1, Math.Min(_ws.Threads, rows / 64));

    /// <summary>
    /// Batch slices of at least two rows: one-row batches use the GEMV path and larger ones the GEMM path, so a slice
    /// must never become a single row of a larger batch, or its bits would depend on the thread count.
    /// </summary>
    private int BatchParts(int batch) => batch < 2 ? 1 : Math.Max(1, Math.Min(_ws.Threads, batch / 2));

    private static (int Start, int End) Split(int count, int part, int parts) => ((int)((long)count * part / parts), (int)((long)count * (part + 1) / parts));

    private void ProjectRows(int r0, int r1)
    {
        var cfg = _layer.Config;
        var w = _layer.Weights(_l, _dir);
        int rows = _seqLen * _batch, inSize = cfg.LayerInputSize(_l), gh = cfg.GateCount * cfg.HiddenSize;
        ReadOnlySpan<float> layerIn = _l == 0 ? _ws.X(rows * inSize) : _ws.LayerOut(_l - 1, rows * cfg.OutputSize);
        var proj = _ws.Gates((_l * cfg.NumDirections) + _dir, rows * gh);
        Gemm.Multiply(layerIn.Slice(r0 * inSize, (r1 - r0) * inSize), r1 - r0, w.PackedIh, w.ProjectionBias, proj.Slice(r0 * gh, (r1 - r0) * gh), accumulate: false);
    }

    private void InputGradientRows(int r0, int r1)
    {
        var cfg = _layer.Config;
        var w = _layer.Weights(_l, _dir);
        int rows = _seqLen * _batch, inSize = cfg.LayerInputSize(_l), gh = cfg.GateCount * cfg.HiddenSize;
        var dGi = _ws.GradGi(rows * gh);
        var dIn = _ws.InputGradientTarget(_l, rows * inSize);
        Gemm.MultiplyNotTransposed(dGi.Slice(r0 * gh, (r1 - r0) * gh), w.WeightIh, r1 - r0, gh, inSize, dIn.Slice(r0 * inSize, (r1 - r0) * inSize), accumulate: _dir > 0, _layer.Variant);
    }

    private void ForwardRows(int b0, int b1)
    {
        var cfg = _layer.Config;
        var w = _layer.Weights(_l, _dir);
        var variant = _layer.Variant;
        int seqLen = _seqLen, batch = _batch, n = b1 - b0;
        int rows = seqLen * batch, h = cfg.HiddenSize, d = cfg.NumDirections, dh = cfg.OutputSize, gh = cfg.GateCount * h;
        int slot = (_l * d) + _dir, states = cfg.NumLayers * d * batch * h;
        bool lstm = cfg.Cell == CellKind.Lstm, training = _ws.Training;
        var nonlinearity = cfg.Cell == CellKind.RnnRelu ? RnnNonlinearity.Relu : RnnNonlinearity.Tanh;
        var proj = _ws.Gates(slot, rows * gh);
        var layerOut = _ws.LayerOut(_l, rows * dh);
        var hCur = _ws.StateH(0, batch * h).Slice(b0 * h, n * h);
        var hNew = _ws.StateH(1, batch * h).Slice(b0 * h, n * h);
        var cCur = lstm ? _ws.StateC(0, batch * h).Slice(b0 * h, n * h) : default;
        var cNew = lstm ? _ws.StateC(1, batch * h).Slice(b0 * h, n * h) : default;
        int stateAt = ((slot * batch) + b0) * h;
        _ws.H0(states).Slice(stateAt, n * h).CopyTo(hCur);
        if (lstm)
        {
            _ws.C0(states).Slice(stateAt, n * h).CopyTo(cCur);
        }

        for (int s = 0; s < seqLen; s++)
        {
            int t = _dir == 0 ? s : seqLen - 1 - s;
            int at = (t * batch) + b0;
            var mask = Mask(t, b0, b1);
            var gates = proj.Slice(at * gh, n * gh);
            if (training)
            {
                hCur.CopyTo(_ws.HPrev(slot, rows * h).Slice(at * h, n * h));
                if (lstm)
                {
                    cCur.CopyTo(_ws.CPrev(slot, rows * h).Slice(at * h, n * h));
                }
            }

            switch (cfg.Cell)
            {
                case CellKind.Lstm:
                    var tanhC = training ? _ws.TanhC(slot, rows * h).Slice(at * h, n * h) : default;
                    LstmCell.Forward(w, n, gates, hCur, cCur, hNew, cNew, tanhC, training, mask, variant);
                    break;
                case CellKind.Gru:
                    var ghStep = training ? _ws.Gh(slot, rows * gh).Slice(at * gh, n * gh) : _ws.GhStep(batch * gh).Slice(b0 * gh, n * gh);
                    GruCell.Forward(w, n, gates, ghStep, hCur, hNew, training, mask, variant);
                    break;
                default:
                    ElmanCell.Forward(w, n, gates, hCur, hNew, nonlinearity, mask, variant);
                    break;
            }

            // The output rows: h for active rows, 0 past a sequence's end.
            for (int b = 0; b < n; b++)
            {
                var dst = layerOut.Slice(((at + b) * dh) + (_dir * h), h);
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

        hCur.CopyTo(_ws.HN(states).Slice(stateAt, n * h));
        if (lstm)
        {
            cCur.CopyTo(_ws.CN(states).Slice(stateAt, n * h));
        }
    }

    private void BackwardRows(int b0, int b1)
    {
        var cfg = _layer.Config;
        var w = _layer.Weights(_l, _dir);
        var variant = _layer.Variant;
        int seqLen = _seqLen, batch = _batch, n = b1 - b0;
        int rows = seqLen * batch, h = cfg.HiddenSize, d = cfg.NumDirections, dh = cfg.OutputSize, gh = cfg.GateCount * h;
        int slot = (_l * d) + _dir, states = cfg.NumLayers * d * batch * h;
        bool lstm = cfg.Cell == CellKind.Lstm, gru = cfg.Cell == CellKind.Gru;
        var nonlinearity = cfg.Cell == CellKind.RnnRelu ? RnnNonlinearity.Relu : RnnNonlinearity.Tanh;
        var dOut = _ws.OutputGradientSource(_l, rows * dh);
        ReadOnlySpan<float> layerOut = _ws.LayerOut(_l, rows * dh);
        var dGi = _ws.GradGi(rows * gh);
        var dGh = gru ? _ws.GradGh(rows * gh) : dGi;
        var gates = _ws.Gates(slot, rows * gh);
        var hPrev = _ws.HPrev(slot, rows * h);
        var dhCur = _ws.Dh(0, batch * h).Slice(b0 * h, n * h);
        var dhNew = _ws.Dh(1, batch * h).Slice(b0 * h, n * h);
        var dcCur = lstm ? _ws.Dc(0, batch * h).Slice(b0 * h, n * h) : default;
        var dcNew = lstm ? _ws.Dc(1, batch * h).Slice(b0 * h, n * h) : default;
        int stateAt = ((slot * batch) + b0) * h;
        _ws.GradHN(states).Slice(stateAt, n * h).CopyTo(dhCur);
        if (lstm)
        {
            _ws.GradCN(states).Slice(stateAt, n * h).CopyTo(dcCur);
        }

        for (int s = seqLen - 1; s >= 0; s--)
        {
            int t = _dir == 0 ? s : seqLen - 1 - s;
            int at = (t * batch) + b0;
            var mask = Mask(t, b0, b1);
            // dh += dL/d(output at t) for rows whose output exists (padded outputs are constant 0).
            for (int b = 0; b < n; b++)
            {
                if (mask.IsEmpty || mask[b] != 0)
                {
                    var row = dhCur.Slice(b * h, h);
                    TensorPrimitives.Add(row, dOut.Slice(((at + b) * dh) + (_dir * h), h), row);
                }
            }

            var gatesT = gates.Slice(at * gh, n * gh);
            var dGiT = dGi.Slice(at * gh, n * gh);
            switch (cfg.Cell)
            {
                case CellKind.Lstm:
                    LstmCell.Backward(
                        w, n, gatesT, _ws.CPrev(slot, rows * h).Slice(at * h, n * h), _ws.TanhC(slot, rows * h).Slice(at * h, n * h),
                        dhCur, dcCur, dGiT, dhNew, dcNew, mask, variant);
                    break;
                case CellKind.Gru:
                    GruCell.Backward(
                        w, n, gatesT, _ws.Gh(slot, rows * gh).Slice(at * gh, n * gh), hPrev.Slice(at * h, n * h), dhCur,
                        dGiT, dGh.Slice(at * gh, n * gh), dhNew, mask, variant);
                    break;
                default:
                    ElmanCell.Backward(w, n, layerOut[((at * dh) + (_dir * h))..], dh, dhCur, dGiT, dhNew, nonlinearity, mask, variant);
                    break;
            }

            Swap(ref dhCur, ref dhNew);
            if (lstm)
            {
                Swap(ref dcCur, ref dcNew);
            }
        }

        dhCur.CopyTo(_ws.GradH0(states).Slice(stateAt, n * h));
        if (lstm)
        {
            dcCur.CopyTo(_ws.GradC0(states).Slice(stateAt, n * h));
        }
    }

    /// <summary>The active-row mask of rows b0..b1 at time t, or empty when all of them are active.</summary>
    private ReadOnlySpan<byte> Mask(int t, int b0, int b1)
    {
        if (!_ws.HasLengths)
        {
            return default;
        }

        var lengths = _ws.Lengths;
        var active = _ws.Active.Slice(b0, b1 - b0);
        bool all = true;
        for (int b = b0; b < b1; b++)
        {
            bool on = t < lengths[b];
            active[b - b0] = on ? (byte)1 : (byte)0;
            all &= on;
        }

        return all ? default : active;
    }

    private static void Swap(ref Span<float> a, ref Span<float> b)
    {
        var t = a;
        a = b;
        b = t;
    }
}
