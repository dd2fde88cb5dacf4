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

    /// <summary>Re-packs the layer's weights after their values changed (an optimiser step, a checkpoint load); allocates nothing.</summary>
    public void RefreshWeights() => Layer.RefreshWeights();
}
