using RecurrentCore.Cells;
using RecurrentCore.Kernels;

namespace RecurrentCore.Sequence;

/// <summary>
/// What the time loop runs: the configuration, the cell chosen once from it, the kernel variant, the weights of every
/// layer and direction laid out for the kernels, and the loops compiled for that cell.
/// </summary>
internal sealed class SequenceModel
{
    private readonly LayerWeights[] _weights; // [layer·D + direction]

    /// <param name="config">The configuration.</param>
    /// <param name="variant">A supported kernel variant.</param>
    /// <param name="get">The row-major storage of (layer, direction, kind), owned by the model from then on.</param>
    public SequenceModel(RecurrentConfig config, KernelVariant variant, Func<int, int, ParameterKind, float[]> get)
    {
        Config = config;
        Variant = variant;
        Cell = CellCatalog.For(config);
        Loops = CellLoops.Create(Cell, variant);
        _weights = new LayerWeights[config.NumLayers * config.NumDirections];
        for (int layer = 0; layer < config.NumLayers; layer++)
        {
            for (int dir = 0; dir < config.NumDirections; dir++)
            {
                _weights[(layer * config.NumDirections) + dir] = new LayerWeights(
                    Cell,
                    config.LayerInputSize(layer),
                    config.HiddenSize,
                    get(layer, dir, ParameterKind.WeightIh),
                    get(layer, dir, ParameterKind.WeightHh),
                    config.Bias ? get(layer, dir, ParameterKind.BiasIh) : null,
                    config.Bias ? get(layer, dir, ParameterKind.BiasHh) : null,
                    variant);
            }
        }
    }

    public RecurrentConfig Config { get; }

    public KernelVariant Variant { get; }

    public CellType Cell { get; }

    public CellLoops Loops { get; }

    public LayerWeights Weights(int layer, int direction) => _weights[(layer * Config.NumDirections) + direction];

    /// <summary>Re-derives every packed, transposed and folded copy after in-place updates; allocates nothing.</summary>
    public void Refresh()
    {
        foreach (var w in _weights)
        {
            w.Refresh();
        }
    }
}
