using System.Runtime.CompilerServices;
using RecurrentCore.Cells;
using RecurrentCore.Kernels;
using RecurrentCore.Kernels.Simd;

namespace RecurrentCore.Sequence;

/// <summary>
/// The streaming time loop: B independent streams through a unidirectional stack, one step (or a short chunk) per
/// call, state carried in place. Built once per stream with the cell, the product kind and (for one stream) the SIMD
/// width as type arguments, so a step validates nothing and decides nothing the shapes fixed at creation.
/// </summary>
internal abstract class StreamStepper
{
    protected StreamStepper(SequenceModel model, int batch)
    {
        var cfg = model.Config;
        Model = model;
        Batch = batch;
        int h = cfg.HiddenSize, gh = model.Cell.GateCount * h;
        // Pinned, so the one-row stepper keeps raw pointers to them.
        H = GC.AllocateArray<float>(cfg.NumLayers * batch * h, pinned: true);
        C = model.Cell.HasCellState ? GC.AllocateArray<float>(H.Length, pinned: true) : [];
        // One row may take a fused product wider than the gates (GRU: [r | z | n_x | n_h]).
        Gates = GC.AllocateArray<float>(Math.Max(batch * gh, model.Weights(0, 0).FusedColumns), pinned: true);
        Scratch = GC.AllocateArray<float>(Math.Max(1, batch * model.Cell.StepScratchWidth(h)), pinned: true);
        Z = GC.AllocateArray<float>(Math.Max(cfg.InputSize, h) + h, pinned: true);
    }

    public SequenceModel Model { get; }

    public int Batch { get; }

    /// <summary>(L, B, H).</summary>
    public float[] H { get; }

    /// <summary>(L, B, H) for a cell with a cell state; else empty.</summary>
    public float[] C { get; }

    /// <summary>(B, G·H).</summary>
    protected float[] Gates { get; }

    /// <summary>(B, the cell's step scratch width).</summary>
    protected float[] Scratch { get; }

    /// <summary>[x; h] of one row, the fused one-row GEMV's input.</summary>
    protected float[] Z { get; }

    /// <summary>The stepper for <paramref name="batch"/> streams through <paramref name="model"/>.</summary>
    public static StreamStepper Create(SequenceModel model, int batch) => model.Cell.Accept(new CellFactory(model, batch));

    /// <summary>x (steps, B, I) → y (steps, B, H); the caller has checked the lengths.</summary>
    public abstract void Run(ReadOnlySpan<float> x, int steps, Span<float> y);

    private sealed class CellFactory(SequenceModel model, int batch) : ICellVisitor<StreamStepper>
    {
        public StreamStepper Visit<TCell>()
            where TCell : ICell
        {
            if (batch > 1)
            {
                return new BatchStreamStepper<TCell>(model, batch);
            }

            var v = new RowFactory<TCell> { Model = model };
            return KernelCatalog.Visit<RowFactory<TCell>, StreamStepper>(model.Variant, ref v);
        }
    }

    private struct RowFactory<TCell> : ISimdVisitor<StreamStepper>
        where TCell : ICell
    {
        public SequenceModel Model;

        public readonly StreamStepper Visit<TS, TV>()
            where TS : struct, ISimd<TV>
            where TV : unmanaged =>
            PanelStreamStepper<TCell, TS, TV>.Fits(Model.Config.HiddenSize) ? new PanelStreamStepper<TCell, TS, TV>(Model)
            : RecurrentProducts.For(1, Model.Config.HiddenSize) == ProductKind.ColumnGemv ? new RowStreamStepper<TCell, ColumnGemvProduct, TS, TV>(Model)
            : new RowStreamStepper<TCell, RowGemvProduct, TS, TV>(Model);
    }
}

/// <summary>
/// One stream of <typeparamref name="TCell"/> at width <typeparamref name="TS"/> where <see cref="PanelStreamStepper{TCell, TS, TV}"/>
/// does not fit: raw pointers into pinned state, the unchecked generic kernels, and (small H, a cell that starts with
/// the full recurrent product) one column-blocked GEMV over [W_ihᵀ; W_hhᵀ] and [x; h], the folded bias added by the
/// gate kernel.
/// </summary>
internal sealed unsafe class RowStreamStepper<TCell, TProduct, TS, TV> : StreamStepper
    where TCell : ICell
    where TProduct : IRecurrentProduct
    where TS : struct, ISimd<TV>
    where TV : unmanaged
{
    private readonly LayerWeights[] _weights;
    private readonly bool _fused;
    private readonly int _inputSize, _hidden;
    private readonly float* _h, _c, _gates, _scratch, _z;

    public RowStreamStepper(SequenceModel model)
        : base(model, 1)
    {
        var cfg = model.Config;
        _weights = new LayerWeights[cfg.NumLayers];
        for (int l = 0; l < cfg.NumLayers; l++)
        {
            _weights[l] = model.Weights(l, 0);
        }

        // LayerWeights keeps a fused layout only for a cell whose ForwardRow takes it (AddRecurrent = false).
        _fused = typeof(TProduct) == typeof(ColumnGemvProduct) && _weights[0].FusedTransposed is not null;
        _inputSize = cfg.InputSize;
        _hidden = cfg.HiddenSize;
        _h = (float*)Unsafe.AsPointer(ref H[0]);
        _c = C.Length == 0 ? null : (float*)Unsafe.AsPointer(ref C[0]);
        _gates = (float*)Unsafe.AsPointer(ref Gates[0]);
        _scratch = (float*)Unsafe.AsPointer(ref Scratch[0]);
        _z = (float*)Unsafe.AsPointer(ref Z[0]);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Run(ReadOnlySpan<float> x, int steps, Span<float> y)
    {
        int h = _hidden, inputSize = _inputSize;
        fixed (float* px = x)
        fixed (float* py = y)
        {
            var step = new RowStep { Gates = _gates, Scratch = _scratch, AddRecurrent = !_fused };
            for (int s = 0; s < steps; s++)
            {
                float* input = px + ((nint)s * inputSize);
                int inSize = inputSize;
                for (int l = 0; l < _weights.Length; l++)
                {
                    var w = _weights[l];
                    float* hl = _h + ((nint)l * h);
                    if (TCell.HasCellState)
                    {
                        step.CPrev = _c + ((nint)l * h);
                        step.C = step.CPrev;
                    }

                    // The products start from zero and the gate kernel adds the folded bias: no bias pass over the gates.
                    fixed (float* bias = w.ProjectionBias)
                    {
                        step.Bias = bias;
                        step.H = hl;

                        // Every gate kernel reads h_prev only through the recurrent product or element by element, so
                        // the state updates in place.
                        step.HPrev = hl;
                        if (_fused)
                        {
                            RowCopy<TS, TV>.Copy(input, _z, inSize);
                            RowCopy<TS, TV>.Copy(hl, _z + inSize, h);
                            fixed (float* wt = w.FusedTransposed)
                            {
                                GemvKernel<TS, TV>.MultiplyTransposed(wt, inSize + h, w.FusedColumns, _z, _gates, accumulate: false);
                            }
                        }
                        else
                        {
                            TProduct.ForwardRow<TS, TV>(w.Ih, input, _gates, accumulate: false);
                        }

                        TCell.ForwardRow<TProduct, TS, TV>(w, in step);
                    }

                    input = hl;
                    inSize = h;
                }

                RowCopy<TS, TV>.Copy(input, py + ((nint)s * h), h);
            }
        }
    }
}

/// <summary>Several streams of <typeparamref name="TCell"/>: the packed GEMMs and the batch gate kernels.</summary>
internal sealed class BatchStreamStepper<TCell> : StreamStepper
    where TCell : ICell
{
    private readonly LayerWeights[] _weights;

    public BatchStreamStepper(SequenceModel model, int batch)
        : base(model, batch)
    {
        _weights = new LayerWeights[model.Config.NumLayers];
        for (int l = 0; l < _weights.Length; l++)
        {
            _weights[l] = model.Weights(l, 0);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Run(ReadOnlySpan<float> x, int steps, Span<float> y)
    {
        var cfg = Model.Config;
        int b = Batch, h = cfg.HiddenSize, inputRow = b * cfg.InputSize;
        var step = new ForwardStep
        {
            Batch = b,
            Variant = Model.Variant,
            AddRecurrent = true,
            Gates = Gates,
            Scratch = Scratch,
            HPrevStride = h,
            HStride = h,
        };

        for (int s = 0; s < steps; s++)
        {
            ReadOnlySpan<float> input = x.Slice(s * inputRow, inputRow);
            for (int l = 0; l < _weights.Length; l++)
            {
                var w = _weights[l];
                var hl = H.AsSpan(l * b * h, b * h);
                Gemm.Multiply(input, b, w.PackedIh, w.ProjectionBias, Gates, accumulate: false);
                step.Weights = w;
                step.HPrev = hl;
                step.H = hl;
                if (TCell.HasCellState)
                {
                    var cl = C.AsSpan(l * b * h, b * h);
                    step.CPrev = cl;
                    step.C = cl;
                }

                TCell.Forward<GemmProduct>(ref step);
                input = hl;
            }

            input.CopyTo(y.Slice(s * b * h, b * h));
        }
    }
}
