using RecurrentCore.Kernels;
using RecurrentCore.Layers;

namespace RecurrentCore.Training;

/// <summary>
/// A <see cref="RecurrentLayer"/> made trainable: its tensors as <see cref="Parameter"/>s named as PyTorch names them
/// (<c>weight_ih_l0</c>, <c>weight_hh_l0</c>, <c>bias_ih_l0</c>, <c>bias_hh_l0</c>, …) whose values are the layer's own
/// storage and whose gradients are the arrays of <see cref="Gradients"/>, so <see cref="RecurrentLayer.Backward"/>
/// accumulates straight into what optimisers and clipping read. After an optimiser step call
/// <see cref="RefreshWeights"/> (allocation-free) so the kernels see the new values.
/// </summary>
public sealed class TrainableRecurrent
{
    private double _dropout;

    /// <summary>Wraps <paramref name="layer"/> (its storage is shared, not copied).</summary>
    public TrainableRecurrent(RecurrentLayer layer)
    {
        ArgumentNullException.ThrowIfNull(layer);
        Layer = layer;
        Gradients = new RecurrentGradients(layer.Config);
        Parameters = new ParameterSet();
        foreach (var (name, shape, l, d, kind) in RecurrentParameters.Layout(layer.Config))
        {
            Parameters.Add(new Parameter(name, shape, layer.ParameterStorage(l, d, kind), Gradients[l, d, kind]));
        }
    }

    /// <summary>The layer being trained.</summary>
    public RecurrentLayer Layer { get; }

    /// <summary>The configuration of <see cref="Layer"/>.</summary>
    public RecurrentConfig Config => Layer.Config;

    /// <summary>The gradients <see cref="RecurrentLayer.Backward"/> accumulates into; the same arrays as the parameters' <see cref="Parameter.Grad"/>.</summary>
    public RecurrentGradients Gradients { get; }

    /// <summary>The layer's tensors in state_dict order, unprefixed (add them to a model's set with a prefix such as <c>rnn.</c>).</summary>
    public ParameterSet Parameters { get; }

    /// <summary>
    /// Creates a layer for <paramref name="config"/> initialised like PyTorch's <c>reset_parameters</c>: every tensor
    /// ~ U(−1/√H, 1/√H), drawn from <paramref name="random"/> in state_dict order.
    /// </summary>
    public static TrainableRecurrent Create(RecurrentConfig config, SeededRandom random, KernelVariant? variant = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(random);
        var zeros = RecurrentParameters.Layout(config).ToDictionary(e => e.Name, e => new float[e.Shape.Aggregate(1, (a, b) => a * b)], StringComparer.Ordinal);
        var trainable = new TrainableRecurrent(RecurrentLayer.FromArrays(config, zeros, variant));
        Initialization.PyTorchRecurrent(trainable.Parameters, config.HiddenSize, random);
        trainable.RefreshWeights();
        return trainable;
    }

    /// <summary>
    /// The dropout probability between stacked layers in training, as nn.LSTM(dropout = p): every layer's output but the
    /// last is dropped with probability p and the rest scaled by 1/(1 − p) (<see cref="RecurrentWorkspace.SetDropout"/>).
    /// Applied by workspaces from <see cref="CreateTrainingWorkspace"/> (and so by <see cref="TruncatedBptt"/> and the
    /// models' trainers) created after it is set; inference and streaming never drop. 0 (the default) means none.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is outside [0, 1).</exception>
    public double Dropout
    {
        get => _dropout;
        set => _dropout = value >= 0 && value < 1 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "dropout must be in [0, 1)");
    }

    /// <summary>The seed of the dropout masks (with each forward's index in its workspace, so runs are reproducible).</summary>
    public ulong DropoutSeed { get; set; }

    /// <summary>A training workspace of <see cref="Layer"/> with <see cref="Dropout"/> applied.</summary>
    public RecurrentWorkspace CreateTrainingWorkspace(int maxSeqLen, int maxBatch, int threads = 1)
    {
        var ws = Layer.CreateWorkspace(maxSeqLen, maxBatch, training: true, threads: threads);
        if (_dropout > 0)
        {
            try
            {
                ws.SetDropout(_dropout, DropoutSeed);
            }
            catch
            {
                ws.Dispose();
                throw;
            }
        }

        return ws;
    }

    /// <summary>Re-packs the layer's weights after their values changed (an optimiser step, a checkpoint load); allocates nothing.</summary>
    public void RefreshWeights() => Layer.RefreshWeights();
}
