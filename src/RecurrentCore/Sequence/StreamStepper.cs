using RecurrentCore.Cells;
using RecurrentCore.Kernels;

namespace RecurrentCore.Sequence;

/// <summary>
/// The streaming time loop: B independent streams through a unidirectional stack, one step (or a short chunk) per
/// call, state carried in place. Built once per stream with the cell and the product kind as type arguments
/// (<see cref="StreamStepper{TCell, TProduct}"/>), so a step validates nothing and decides nothing but what the
/// shapes fixed at creation.
/// </summary>
internal abstract class StreamStepper
{
    protected StreamStepper(SequenceModel model, int batch)
    {
        var cfg = model.Config;
        Model = model;
        Batch = batch;
        int h = cfg.HiddenSize, gh = model.Cell.GateCount * h;
        H = new float[cfg.NumLayers * batch * h];
        C = model.Cell.HasCellState ? new float[H.Length] : [];
        Gates = new float[batch * gh];
        Scratch = new float[batch * model.Cell.StepScratchWidth(h)];
        Z = new float[Math.Max(cfg.InputSize, h) + h];
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
    public static StreamStepper Create(SequenceModel model, int batch) => model.Cell.Accept(new Factory(model, batch));

    /// <summary>x (steps, B, I) → y (steps, B, H); the caller has checked the lengths.</summary>
    public abstract void Run(ReadOnlySpan<float> x, int steps, Span<float> y);

    private sealed class Factory(SequenceModel model, int batch) : ICellVisitor<StreamStepper>
    {
        public StreamStepper Visit<TCell>()
            where TCell : ICell => RecurrentProducts.For(batch, model.Config.HiddenSize) switch
            {
                ProductKind.ColumnGemv => new StreamStepper<TCell, ColumnGemvProduct>(model, batch),
                ProductKind.RowGemv => new StreamStepper<TCell, RowGemvProduct>(model, batch),
                _ => new StreamStepper<TCell, GemmProduct>(model, batch),
            };
    }
}

/// <summary>The streaming loop of <typeparamref name="TCell"/> with recurrent products of kind <typeparamref name="TProduct"/>.</summary>
internal sealed class StreamStepper<TCell, TProduct> : StreamStepper
    where TCell : ICell
    where TProduct : IRecurrentProduct
{
    private readonly LayerWeights[] _weights;
    private readonly bool _fused;

    public StreamStepper(SequenceModel model, int batch)
        : base(model, batch)
    {
        var cfg = model.Config;
        _weights = new LayerWeights[cfg.NumLayers];
        for (int l = 0; l < cfg.NumLayers; l++)
        {
            _weights[l] = model.Weights(l, 0);
        }

        // One row of a cell that starts with the full recurrent product, small H: one column-blocked GEMV over
        // [W_ihᵀ; W_hhᵀ] and [x; h], from the folded bias.
        _fused = batch == 1 && TCell.RecurrentFirst && typeof(TProduct) == typeof(ColumnGemvProduct) && _weights[0].FusedTransposed is not null;
    }

    public override void Run(ReadOnlySpan<float> x, int steps, Span<float> y)
    {
        var cfg = Model.Config;
        var variant = Model.Variant;
        int b = Batch, h = cfg.HiddenSize, inputRow = b * cfg.InputSize;
        var step = new ForwardStep
        {
            Batch = b,
            Variant = variant,
            Training = false,
            AddRecurrent = !_fused,
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
                Project(w, input, hl, variant);

                // Every gate kernel reads h_prev only through the recurrent product or element by element, so the
                // state updates in place.
                step.Weights = w;
                step.HPrev = hl;
                step.H = hl;
                if (TCell.HasCellState)
                {
                    var cl = C.AsSpan(l * b * h, b * h);
                    step.CPrev = cl;
                    step.C = cl;
                }

                TCell.Forward<TProduct>(ref step);
                input = hl;
            }

            input.CopyTo(y.Slice(s * b * h, b * h));
        }
    }

    /// <summary>gates = W_ih x + folded bias (+ W_hh h when fused).</summary>
    private void Project(LayerWeights w, ReadOnlySpan<float> input, ReadOnlySpan<float> hl, KernelVariant variant)
    {
        var gates = Gates.AsSpan();
        bool bias = w.ProjectionBias.Length != 0;
        if (typeof(TProduct) == typeof(GemmProduct))
        {
            Gemm.Multiply(input, Batch, w.PackedIh, w.ProjectionBias, gates, accumulate: false);
            return;
        }

        if (bias)
        {
            w.ProjectionBias.CopyTo(gates);
        }

        if (_fused)
        {
            int inSize = w.InputSize, h = w.HiddenSize;
            input.CopyTo(Z);
            hl.CopyTo(Z.AsSpan(inSize));
            Gemv.MultiplyTransposed(w.FusedTransposed, inSize + h, w.GateRows, Z.AsSpan(0, inSize + h), gates, accumulate: bias, variant);
        }
        else
        {
            TProduct.Forward(w.Ih, 1, input, gates, accumulate: bias, variant);
        }
    }
}
