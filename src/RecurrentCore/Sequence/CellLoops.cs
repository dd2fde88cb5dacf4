using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using RecurrentCore.Cells;
using RecurrentCore.Kernels;
using RecurrentCore.Kernels.Simd;

namespace RecurrentCore.Sequence;

/// <summary>
/// The forward and backward time loops of one layer and direction for a slice of batch rows, compiled for one cell
/// type and SIMD width (<see cref="CellLoops{TCell, TS, TV}"/>): the cell, the width and the product kind are type
/// arguments, chosen once per model or pass, so the per-step loop calls the step directly and decides nothing.
/// </summary>
internal abstract class CellLoops
{
    /// <summary>
    /// Benchmarks only (<c>quick-seq</c>): true turns the W_hh gate-panel plan off, so one process can time a one-row
    /// Forward both ways, interleaved. Read once per layer and direction of a Forward; never set by the library.
    /// </summary>
    internal static bool PanelsOff { get; set; }

    /// <summary>The loops of <paramref name="cell"/> at <paramref name="variant"/>'s width.</summary>
    public static CellLoops Create(CellType cell, KernelVariant variant) => cell.Accept(new LoopsFactory(variant));

    /// <summary>
    /// Lays out, when a workspace is built, what its forward loops will read besides the layer's weights (the W_hh gate
    /// panels of the one-row inference loop), so that no forward allocates.
    /// </summary>
    public abstract void Prepare(SequenceModel model, bool training);

    /// <summary>The forward time loop over batch rows b0..b1 of the pass's layer and direction.</summary>
    public abstract void Forward(SequencePass pass, int b0, int b1);

    /// <summary>The backward time loop over batch rows b0..b1, leaving dGates (and dGh) for the weight gradients.</summary>
    public abstract void Backward(SequencePass pass, int b0, int b1);

    /// <summary>dW_hh and db_hh of the pass's layer and direction, gate rows from..to, after its backward steps.</summary>
    public abstract void HiddenWeightGradients(SequencePass pass, Span<float> dWeightHh, Span<float> dBiasHh, int from, int to);

    private sealed class LoopsFactory(KernelVariant variant) : ICellVisitor<CellLoops>
    {
        public CellLoops Visit<TCell>()
            where TCell : ICell
        {
            var v = default(WidthFactory<TCell>);
            return KernelCatalog.Visit<WidthFactory<TCell>, CellLoops>(variant, ref v);
        }
    }

    private struct WidthFactory<TCell> : ISimdVisitor<CellLoops>
        where TCell : ICell
    {
        public readonly CellLoops Visit<TS, TV>()
            where TS : struct, ISimd<TV>
            where TV : unmanaged => new CellLoops<TCell, TS, TV>();
    }
}

/// <summary>The time loops of <typeparamref name="TCell"/> at width <typeparamref name="TS"/>.</summary>
internal sealed class CellLoops<TCell, TS, TV> : CellLoops
    where TCell : ICell
    where TS : struct, ISimd<TV>
    where TV : unmanaged
{
    /// <summary>
    /// Whether one-row inference runs on W_hh's gate panels (<see cref="ICell.ForwardFromHiddenPanels"/>): one pass over
    /// H·G·H floats per step with the gates applied in registers, instead of a GEMV that stores G·H sums and a gate
    /// pass that reads them back. Needs a cell whose gates take the product's sums and H in whole registers.
    /// </summary>
    private static bool Panels(int hidden, bool training) => !training && !PanelsOff && TCell.GatesFromProduct && ColumnGatesKernel<TS, TV>.Fits(hidden);

    public override unsafe void Prepare(SequenceModel model, bool training)
    {
        var cfg = model.Config;
        if (!Panels(cfg.HiddenSize, training))
        {
            return;
        }

        for (int l = 0; l < cfg.NumLayers; l++)
        {
            for (int dir = 0; dir < cfg.NumDirections; dir++)
            {
                model.Weights(l, dir).HiddenPanels(TS.Count);
            }
        }
    }

    public override void Forward(SequencePass pass, int b0, int b1)
    {
        int hidden = pass.Model.Config.HiddenSize;
        var kind = RecurrentProducts.For(b1 - b0, hidden);
        // One row runs the row loop when written in place, and in inference whatever its length (a padded row is its
        // first L steps, then zero rows).
        bool row = kind != ProductKind.Gemm && (pass.InPlace || !pass.Buffers.Training);
        if (row && Panels(hidden, pass.Buffers.Training))
        {
            ForwardRow<RowGemvProduct, PanelSteps>(pass);
            return;
        }

        switch (kind)
        {
            case ProductKind.ColumnGemv when row:
                ForwardRow<ColumnGemvProduct, ProductSteps>(pass);
                break;
            case ProductKind.RowGemv when row:
                ForwardRow<RowGemvProduct, ProductSteps>(pass);
                break;
            case ProductKind.ColumnGemv:
                Forward<ColumnGemvProduct>(pass, b0, b1);
                break;
            case ProductKind.RowGemv:
                Forward<RowGemvProduct>(pass, b0, b1);
                break;
            default:
                Forward<GemmProduct>(pass, b0, b1);
                break;
        }
    }

    public override void Backward(SequencePass pass, int b0, int b1)
    {
        switch (RecurrentProducts.For(b1 - b0, pass.Model.Config.HiddenSize))
        {
            case ProductKind.ColumnGemv:
                Backward<ColumnGemvProduct>(pass, b0, b1);
                break;
            case ProductKind.RowGemv:
                Backward<RowGemvProduct>(pass, b0, b1);
                break;
            default:
                Backward<GemmProduct>(pass, b0, b1);
                break;
        }
    }

    public override void HiddenWeightGradients(SequencePass pass, Span<float> dWeightHh, Span<float> dBiasHh, int from, int to)
    {
        var buf = pass.Buffers;
        var cfg = pass.Model.Config;
        var w = pass.Model.Weights(pass.Layer, pass.Direction);
        var variant = pass.Model.Variant;
        int batch = pass.Batch, rows = pass.SeqLen * batch, h = cfg.HiddenSize, gh = w.GateRows;
        int sw = TCell.SavedWidth(h), gw = TCell.HiddenGradientWidth(h);
        int slot = (pass.Layer * cfg.NumDirections) + pass.Direction;
        var dGi = buf.GradGi(rows * gh);
        var dGh = buf.GradGh(rows * gw);
        var saved = buf.Saved(slot, rows * sw);
        if (!pass.InPlace)
        {
            TCell.HiddenWeightGradients(w, rows, dGi, dGh, buf.HPrev(slot, rows * h), saved, dWeightHh, dBiasHh, variant, from, to);
            return;
        }

        // One direction, no masks: step 0 multiplied h0, step t ≥ 1 the layer output at t − 1 (rows (T − 1)·B, H apart).
        int states = cfg.NumLayers * batch * h;
        var h0 = buf.H0(states).Slice(slot * batch * h, batch * h);
        TCell.HiddenWeightGradients(w, batch, dGi, dGh, h0, saved, dWeightHh, dBiasHh, variant, from, to);
        if (rows > batch)
        {
            TCell.HiddenWeightGradients(
                w, rows - batch, dGi[(batch * gh)..], dGh[(batch * gw)..], buf.LayerOut(pass.Layer, rows * h), saved[(batch * sw)..], dWeightHh, dBiasHh, variant, from, to);
        }
    }

    /// <summary>
    /// The forward loop of a one-row batch written in place (in training: with no mask): raw pointers, the unchecked generic kernels,
    /// nothing decided per step (<typeparamref name="TSteps"/> fixes the step's kind at compile time; with
    /// <see cref="PanelSteps"/>, <typeparamref name="TProduct"/> is unused).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void ForwardRow<TProduct, TSteps>(SequencePass pass)
        where TProduct : IRecurrentProduct
        where TSteps : struct, IRowSteps
    {
        var buf = pass.Buffers;
        var cfg = pass.Model.Config;
        var w = pass.Model.Weights(pass.Layer, pass.Direction);
        int dir = pass.Direction, seqLen = pass.SeqLen;
        // Inference visits a padded row's valid steps only (forward 0..L−1, reverse L−1..0): pack_padded_sequence.
        int steps = buf.HasLengths ? buf.Lengths[0] : seqLen;
        int h = cfg.HiddenSize, d = cfg.NumDirections, dh = cfg.OutputSize, gh = w.GateRows;
        int sw = TCell.SavedWidth(h), scratchWidth = TCell.StepScratchWidth(h);
        int slot = (pass.Layer * d) + dir, states = cfg.NumLayers * d * h, stateAt = slot * h;
        bool training = buf.Training, hasC = TCell.HasCellState;
        var cState = hasC && !training ? buf.StateC(0, h) : default;
        if (hasC && !training)
        {
            buf.C0(states).Slice(stateAt, h).CopyTo(cState);
        }

        fixed (float* proj = buf.Gates(slot, seqLen * gh))
        fixed (float* layerOut = buf.LayerOut(pass.Layer, seqLen * dh))
        fixed (float* saved = training ? buf.Saved(slot, seqLen * sw) : default)
        fixed (float* h0 = buf.H0(states))
        fixed (float* c0 = hasC ? buf.C0(states) : default)
        fixed (float* cTime = hasC && training ? buf.CPrev(slot, seqLen * h) : default)
        fixed (float* cInference = cState)
        fixed (float* scratch = buf.StepScratch(scratchWidth))
        {
            float* panels = TSteps.Panels ? w.HiddenPanels(TS.Count) : null;
            var step = new RowStep { Scratch = scratch, Training = training, AddRecurrent = true };
            int prev = 0;
            for (int s = 0; s < steps; s++)
            {
                int t = dir == 0 ? s : steps - 1 - s;
                step.Gates = proj + ((nint)t * gh);
                step.HPrev = s == 0 ? h0 + stateAt : layerOut + (((nint)prev * dh) + (dir * h));
                step.H = layerOut + (((nint)t * dh) + (dir * h));
                if (training)
                {
                    step.Saved = saved + ((nint)t * sw);
                }

                if (hasC)
                {
                    // Training keeps c after every step (the next step's c_prev); inference updates one row in place.
                    step.CPrev = training ? (s == 0 ? c0 + stateAt : cTime + ((nint)prev * h)) : cInference;
                    step.C = training ? cTime + ((nint)t * h) : cInference;
                }

                if (TSteps.Panels)
                {
                    // The panels' registers are independent: alternate their order so a step starts on those the last
                    // one touched (still in cache). Same bits either way.
                    TCell.ForwardFromHiddenPanels<TS, TV>(w, panels, (s & 1) != 0, in step);
                }
                else
                {
                    TCell.ForwardRow<TProduct, TS, TV>(w, in step);
                }

                prev = t;
            }

            for (int t = steps; t < seqLen; t++)
            {
                new Span<float>(layerOut + (((nint)t * dh) + (dir * h)), h).Clear();
            }

            new ReadOnlySpan<float>(layerOut + (((nint)prev * dh) + (dir * h)), h).CopyTo(buf.HN(states).Slice(stateAt, h));
            if (hasC)
            {
                new ReadOnlySpan<float>(training ? cTime + ((nint)prev * h) : cInference, h).CopyTo(buf.CN(states).Slice(stateAt, h));
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Forward<TProduct>(SequencePass pass, int b0, int b1)
        where TProduct : IRecurrentProduct
    {
        var buf = pass.Buffers;
        var cfg = pass.Model.Config;
        var w = pass.Model.Weights(pass.Layer, pass.Direction);
        int dir = pass.Direction, seqLen = pass.SeqLen, batch = pass.Batch, n = b1 - b0;
        int rows = seqLen * batch, h = cfg.HiddenSize, d = cfg.NumDirections, dh = cfg.OutputSize, gh = w.GateRows;
        int sw = TCell.SavedWidth(h), scratchWidth = TCell.StepScratchWidth(h);
        int slot = (pass.Layer * d) + dir, states = cfg.NumLayers * d * batch * h, stateAt = ((slot * batch) + b0) * h;
        bool training = buf.Training, hasC = TCell.HasCellState, inPlace = pass.InPlace;
        var proj = buf.Gates(slot, rows * gh);
        var layerOut = buf.LayerOut(pass.Layer, rows * dh);
        var saved = training ? buf.Saved(slot, rows * sw) : default;
        var hPrevSaved = training && !inPlace ? buf.HPrev(slot, rows * h) : default;
        var h0 = buf.H0(states).Slice(stateAt, n * h);
        var c0 = hasC ? buf.C0(states).Slice(stateAt, n * h) : default;

        // Training keeps c after every step (c_prev of the next one, no copy); inference alternates two state rows.
        var cTime = hasC && training ? buf.CPrev(slot, rows * h) : default;
        var cCur = hasC && !training ? buf.StateC(0, batch * h).Slice(b0 * h, n * h) : default;
        var cNew = hasC && !training ? buf.StateC(1, batch * h).Slice(b0 * h, n * h) : default;
        var hCur = inPlace ? default : buf.StateH(0, batch * h).Slice(b0 * h, n * h);
        var hNew = inPlace ? default : buf.StateH(1, batch * h).Slice(b0 * h, n * h);
        if (!inPlace)
        {
            h0.CopyTo(hCur);
        }

        if (hasC && !training)
        {
            c0.CopyTo(cCur);
        }

        var step = new ForwardStep
        {
            Weights = w,
            Batch = n,
            Variant = pass.Model.Variant,
            Training = training,
            AddRecurrent = true,
            Scratch = buf.StepScratch(batch * scratchWidth).Slice(b0 * scratchWidth, n * scratchWidth),
            HStride = inPlace ? dh : h,
        };

        int outRows = ((n - 1) * dh) + h, prevAt = 0;
        for (int s = 0; s < seqLen; s++)
        {
            int t = dir == 0 ? s : seqLen - 1 - s;
            int at = (t * batch) + b0;
            var mask = pass.Mask(t, b0, b1);
            step.Gates = proj.Slice(at * gh, n * gh);
            step.Saved = training ? saved.Slice(at * sw, n * sw) : default;
            step.Active = mask;
            if (inPlace)
            {
                step.HPrev = s == 0 ? h0 : layerOut.Slice((prevAt * dh) + (dir * h), outRows);
                step.HPrevStride = s == 0 ? h : dh;
                step.H = layerOut.Slice((at * dh) + (dir * h), outRows);
            }
            else
            {
                if (training)
                {
                    hCur.CopyTo(hPrevSaved.Slice(at * h, n * h));
                }

                step.HPrev = hCur;
                step.HPrevStride = h;
                step.H = hNew;
            }

            if (hasC && training)
            {
                step.CPrev = s == 0 ? c0 : cTime.Slice(prevAt * h, n * h);
                step.C = cTime.Slice(at * h, n * h);
            }
            else if (hasC)
            {
                step.CPrev = cCur;
                step.C = cNew;
            }

            TCell.Forward<TProduct>(ref step);

            if (!inPlace)
            {
                // The output rows: h for active rows, 0 past a sequence's end.
                for (int b = 0; b < n; b++)
                {
                    var dst = layerOut.Slice(((at + b) * dh) + (dir * h), h);
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
            }

            if (hasC && !training)
            {
                Swap(ref cCur, ref cNew);
            }

            prevAt = at;
        }

        var hN = buf.HN(states).Slice(stateAt, n * h);
        if (inPlace)
        {
            for (int b = 0; b < n; b++)
            {
                layerOut.Slice(((prevAt + b) * dh) + (dir * h), h).CopyTo(hN.Slice(b * h, h));
            }
        }
        else
        {
            hCur.CopyTo(hN);
        }

        if (hasC)
        {
            (training ? cTime.Slice(prevAt * h, n * h) : cCur).CopyTo(buf.CN(states).Slice(stateAt, n * h));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Backward<TProduct>(SequencePass pass, int b0, int b1)
        where TProduct : IRecurrentProduct
    {
        var buf = pass.Buffers;
        var cfg = pass.Model.Config;
        var w = pass.Model.Weights(pass.Layer, pass.Direction);
        int dir = pass.Direction, seqLen = pass.SeqLen, batch = pass.Batch, n = b1 - b0;
        int rows = seqLen * batch, h = cfg.HiddenSize, d = cfg.NumDirections, dh = cfg.OutputSize, gh = w.GateRows;
        int sw = TCell.SavedWidth(h), gw = TCell.HiddenGradientWidth(h), scratchWidth = TCell.StepScratchWidth(h);
        int slot = (pass.Layer * d) + dir, states = cfg.NumLayers * d * batch * h, stateAt = ((slot * batch) + b0) * h;
        bool hasC = TCell.HasCellState, inPlace = pass.InPlace;
        var dOut = buf.OutputGradientSource(pass.Layer, rows * dh);
        ReadOnlySpan<float> layerOut = buf.LayerOut(pass.Layer, rows * dh);
        var dGi = buf.GradGi(rows * gh);
        var dGh = buf.GradGh(rows * gw);
        var gates = buf.Gates(slot, rows * gh);
        var saved = buf.Saved(slot, rows * sw);
        ReadOnlySpan<float> hPrevSaved = inPlace ? default : buf.HPrev(slot, rows * h);
        ReadOnlySpan<float> h0 = buf.H0(states).Slice(stateAt, n * h);
        ReadOnlySpan<float> c0 = hasC ? buf.C0(states).Slice(stateAt, n * h) : default;
        ReadOnlySpan<float> cTime = hasC ? buf.CPrev(slot, rows * h) : default;
        var dhCur = buf.Dh(0, batch * h).Slice(b0 * h, n * h);
        var dhNew = buf.Dh(1, batch * h).Slice(b0 * h, n * h);
        var dcCur = hasC ? buf.Dc(0, batch * h).Slice(b0 * h, n * h) : default;
        var dcNew = hasC ? buf.Dc(1, batch * h).Slice(b0 * h, n * h) : default;
        buf.GradHN(states).Slice(stateAt, n * h).CopyTo(dhCur);
        if (hasC)
        {
            buf.GradCN(states).Slice(stateAt, n * h).CopyTo(dcCur);
        }

        var step = new BackwardStep
        {
            Weights = w,
            Batch = n,
            Variant = pass.Model.Variant,
            Scratch = buf.StepScratch(batch * scratchWidth).Slice(b0 * scratchWidth, n * scratchWidth),
            HStride = dh,
        };

        int outRows = ((n - 1) * dh) + h;
        for (int s = seqLen - 1; s >= 0; s--)
        {
            int t = dir == 0 ? s : seqLen - 1 - s;
            int at = (t * batch) + b0;
            int prevAt = ((dir == 0 ? t - 1 : t + 1) * batch) + b0;
            var mask = pass.Mask(t, b0, b1);

            // dh += dL/d(output at t) for rows whose output exists (padded outputs are constant 0).
            for (int b = 0; b < n; b++)
            {
                if (mask.IsEmpty || mask[b] != 0)
                {
                    var row = dhCur.Slice(b * h, h);
                    TensorPrimitives.Add(row, dOut.Slice(((at + b) * dh) + (dir * h), h), row);
                }
            }

            step.Gates = gates.Slice(at * gh, n * gh);
            step.Saved = saved.Slice(at * sw, n * sw);
            if (inPlace)
            {
                step.HPrev = s == 0 ? h0 : layerOut.Slice((prevAt * dh) + (dir * h), outRows);
                step.HPrevStride = s == 0 ? h : dh;
            }
            else
            {
                step.HPrev = hPrevSaved.Slice(at * h, n * h);
                step.HPrevStride = h;
            }

            step.H = layerOut.Slice((at * dh) + (dir * h), outRows);
            step.CPrev = !hasC ? default : s == 0 ? c0 : cTime.Slice(prevAt * h, n * h);
            step.Dh = dhCur;
            step.Dc = dcCur;
            step.DGates = dGi.Slice(at * gh, n * gh);
            step.DGh = dGh.Slice(at * gw, n * gw);
            step.DhPrev = dhNew;
            step.DcPrev = dcNew;
            step.Active = mask;
            TCell.Backward<TProduct>(ref step);

            Swap(ref dhCur, ref dhNew);
            if (hasC)
            {
                Swap(ref dcCur, ref dcNew);
            }
        }

        dhCur.CopyTo(buf.GradH0(states).Slice(stateAt, n * h));
        if (hasC)
        {
            dcCur.CopyTo(buf.GradC0(states).Slice(stateAt, n * h));
        }
    }

    private static void Swap(ref Span<float> a, ref Span<float> b)
    {
        var t = a;
        a = b;
        b = t;
    }
}

/// <summary>The step kind of a one-row forward loop, as a type, so the loop compiles without the other kind's branch.</summary>
internal interface IRowSteps
{
    /// <summary>Whether a step is one pass over W_hh's gate panels (else the recurrent product, then the gate pass).</summary>
    static abstract bool Panels { get; }
}

/// <summary>The recurrent product, then the row gate kernel.</summary>
internal readonly struct ProductSteps : IRowSteps
{
    public static bool Panels => false;
}

/// <summary>One pass over W_hh's gate panels with the gates applied in registers.</summary>
internal readonly struct PanelSteps : IRowSteps
{
    public static bool Panels => true;
}
