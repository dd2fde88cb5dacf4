using RecurrentCore.Cells;
using RecurrentCore.Kernels;
using RecurrentCore.Memory;
using RecurrentCore.Threading;

namespace RecurrentCore.Sequence;

/// <summary>
/// One layer and direction of a sequence pass, cut into parts that run on the workspace's threads: the input
/// projection and the input gradient by rows of (T·B), the time loops by contiguous slices of batch rows (rows never
/// interact inside a layer). Everything it touches lives in the workspace buffers or the model, so it can be handed to
/// worker threads; one instance per workspace, reused, so dispatch allocates nothing.
/// </summary>
internal sealed unsafe class SequencePass : IParallelWork
{
    private float* _input;
    private IParameterGradients? _grads;

    private readonly WorkerPool? _pool;
    private readonly int _threads;
    private Stage _stage;

    public SequencePass(WorkspaceBuffers buffers, WorkerPool? pool, int threads)
    {
        Buffers = buffers;
        _pool = pool;
        _threads = threads;
    }

    private enum Stage
    {
        Projection,
        ForwardSteps,
        BackwardSteps,
        WeightGradients,
        InputGradient,
    }

    public WorkspaceBuffers Buffers { get; }

    public SequenceModel Model { get; private set; } = null!;

    /// <summary>The layer and direction of the stage running.</summary>
    public int Layer { get; private set; }

    public int Direction { get; private set; }

    public int SeqLen { get; private set; }

    public int Batch { get; private set; }

    /// <summary>
    /// Whether the time loop writes h straight into the layer output and reads h_prev back from it (no state copies,
    /// no saved h_prev in training): when no row is masked, and the output rows are contiguous (one direction) or
    /// there is a single row in inference. Depends on the shapes only, so forward and backward agree.
    /// </summary>
    public bool InPlace => !Buffers.HasLengths && (Model.Config.NumDirections == 1 || (Batch == 1 && !Buffers.Training));

    /// <summary>
    /// Points layer 0's projection at the caller's (pinned, time-major) input for the duration of one forward, or back
    /// at the workspace's copy (null).
    /// </summary>
    public void SetInput(float* input) => _input = input;

    /// <summary>proj = layerIn·W_ihᵀ + bias for all T·B rows.</summary>
    public void Project(SequenceModel model, int l, int dir, int seqLen, int batch) => Dispatch(Stage.Projection, model, l, dir, seqLen, batch, RowParts(seqLen * batch));

    /// <summary>The forward time loop for every batch row.</summary>
    public void ForwardSteps(SequenceModel model, int l, int dir, int seqLen, int batch) => Dispatch(Stage.ForwardSteps, model, l, dir, seqLen, batch, BatchParts(batch));

    /// <summary>The backward time loop for every batch row, leaving dGates for the weight-gradient GEMMs.</summary>
    public void BackwardSteps(SequenceModel model, int l, int dir, int seqLen, int batch) => Dispatch(Stage.BackwardSteps, model, l, dir, seqLen, batch, BatchParts(batch));

    /// <summary>
    /// The weight and bias gradients of the layer and direction after its backward steps: dW_ih += dGiᵀ·X, db_ih += Σ dGi
    /// and the cell's hidden side, as GEMMs over all T·B steps, split by gate rows (each row's bits do not depend on the split).
    /// </summary>
    public void WeightGradients(SequenceModel model, int l, int dir, int seqLen, int batch, IParameterGradients grads)
    {
        _grads = grads;
        try
        {
            Dispatch(Stage.WeightGradients, model, l, dir, seqLen, batch, GateRowParts(model.Weights(l, dir).GateRows));
        }
        finally
        {
            _grads = null;
        }
    }

    /// <summary>dIn (+)= dGi·W_ih for all T·B rows (accumulating for the second direction).</summary>
    public void InputGradient(SequenceModel model, int l, int dir, int seqLen, int batch) => Dispatch(Stage.InputGradient, model, l, dir, seqLen, batch, RowParts(seqLen * batch));

    public void Execute(int part, int parts)
    {
        switch (_stage)
        {
            case Stage.Projection:
            {
                var (r0, r1) = Split(SeqLen * Batch, part, parts);
                ProjectRows(r0, r1);
                break;
            }

            case Stage.InputGradient:
            {
                var (r0, r1) = Split(SeqLen * Batch, part, parts);
                InputGradientRows(r0, r1);
                break;
            }

            case Stage.WeightGradients:
            {
                var (j0, j1) = Split(Model.Weights(Layer, Direction).GateRows, part, parts);
                WeightGradientRows(j0, j1);
                break;
            }

            case Stage.ForwardSteps:
            {
                var (b0, b1) = Split(Batch, part, parts);
                Model.Loops.Forward(this, b0, b1);
                break;
            }

            default:
            {
                var (b0, b1) = Split(Batch, part, parts);
                Model.Loops.Backward(this, b0, b1);
                break;
            }
        }
    }

    /// <summary>The active-row mask of rows b0..b1 at time t, or empty when all of them are active.</summary>
    public ReadOnlySpan<byte> Mask(int t, int b0, int b1)
    {
        if (!Buffers.HasLengths)
        {
            return default;
        }

        var lengths = Buffers.Lengths;
        var active = Buffers.Active.Slice(b0, b1 - b0);
        bool all = true;
        for (int b = b0; b < b1; b++)
        {
            bool on = t < lengths[b];
            active[b - b0] = on ? (byte)1 : (byte)0;
            all &= on;
        }

        return all ? default : active;
    }

    private void Dispatch(Stage stage, SequenceModel model, int l, int dir, int seqLen, int batch, int parts)
    {
        _stage = stage;
        Model = model;
        Layer = l;
        Direction = dir;
        SeqLen = seqLen;
        Batch = batch;
        if (_pool is null || parts <= 1)
        {
            Execute(0, 1);
        }
        else
        {
            _pool.Run(this, parts);
        }
    }

    /// <summary>Row chunks of at least 64 rows, so a thread's GEMM stays worth its wake-up.</summary>
    private int RowParts(int rows) => Math.Max(1, Math.Min(_threads, rows / 64));

    /// <summary>Gate-row chunks of at least 32 rows of dW, each a GEMM over all T·B steps.</summary>
    private int GateRowParts(int gateRows) => Math.Max(1, Math.Min(_threads, gateRows / 32));

    /// <summary>
    /// Batch slices of at least two rows: one-row batches use the GEMV path and larger ones the GEMM path, so a slice
    /// must never become a single row of a larger batch, or its bits would depend on the thread count.
    /// </summary>
    private int BatchParts(int batch) => batch < 2 ? 1 : Math.Max(1, Math.Min(_threads, batch / 2));

    private static (int Start, int End) Split(int count, int part, int parts) => ((int)((long)count * part / parts), (int)((long)count * (part + 1) / parts));

    private void ProjectRows(int r0, int r1)
    {
        var cfg = Model.Config;
        var w = Model.Weights(Layer, Direction);
        int rows = SeqLen * Batch, inSize = cfg.LayerInputSize(Layer), gh = w.GateRows;
        ReadOnlySpan<float> layerIn = Layer > 0 ? Buffers.LayerInput(Layer, rows * cfg.OutputSize)
            : _input != null ? new ReadOnlySpan<float>(_input, rows * inSize) : Buffers.X(rows * inSize);
        var proj = Buffers.Gates((Layer * cfg.NumDirections) + Direction, rows * gh);
        Gemm.Multiply(layerIn.Slice(r0 * inSize, (r1 - r0) * inSize), r1 - r0, w.PackedIh, w.ProjectionBias, proj.Slice(r0 * gh, (r1 - r0) * gh), accumulate: false);
    }

    private void WeightGradientRows(int j0, int j1)
    {
        var cfg = Model.Config;
        var w = Model.Weights(Layer, Direction);
        var grads = _grads!;
        int rows = SeqLen * Batch, inSize = cfg.LayerInputSize(Layer), gh = w.GateRows;
        ReadOnlySpan<float> layerIn = Layer > 0 ? Buffers.LayerInput(Layer, rows * cfg.OutputSize) : Buffers.X(rows * inSize);
        var dGi = Buffers.GradGi(rows * gh);
        var dWeightIh = grads[Layer, Direction, ParameterKind.WeightIh].AsSpan();
        Gemm.MultiplyTransposedA(dGi[j0..], gh, layerIn, rows, j1 - j0, inSize, dWeightIh[(j0 * inSize)..(j1 * inSize)], accumulate: true, Model.Variant);
        HiddenGradients.SumRows(dGi, rows, gh, grads[Layer, Direction, ParameterKind.BiasIh], j0, j1);
        Model.Loops.HiddenWeightGradients(this, grads[Layer, Direction, ParameterKind.WeightHh], grads[Layer, Direction, ParameterKind.BiasHh], j0, j1);
    }

    private void InputGradientRows(int r0, int r1)
    {
        var cfg = Model.Config;
        var w = Model.Weights(Layer, Direction);
        int rows = SeqLen * Batch, inSize = cfg.LayerInputSize(Layer), gh = w.GateRows;
        var dGi = Buffers.GradGi(rows * gh);
        var dIn = Buffers.InputGradientTarget(Layer, rows * inSize);
        Gemm.MultiplyNotTransposed(dGi.Slice(r0 * gh, (r1 - r0) * gh), w.WeightIh, r1 - r0, gh, inSize, dIn.Slice(r0 * inSize, (r1 - r0) * inSize), accumulate: Direction > 0, Model.Variant);
    }
}
