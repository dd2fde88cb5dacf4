namespace RecurrentCore;

/// <summary>The four parameter tensors of one layer and direction, in PyTorch layout (row-major).</summary>
public enum ParameterKind
{
    /// <summary>weight_ih: (G·H, layer input size), gate blocks stacked in PyTorch order.</summary>
    WeightIh,

    /// <summary>weight_hh: (G·H, H).</summary>
    WeightHh,

    /// <summary>bias_ih: (G·H).</summary>
    BiasIh,

    /// <summary>bias_hh: (G·H).</summary>
    BiasHh,

    /// <summary>weight_hr: (P, H), the LSTM projection; exists only when <see cref="RecurrentConfig.ProjSize"/> is positive.</summary>
    WeightHr,
}

/// <summary>
/// Every weight and bias of a layer stack in PyTorch layout and double precision: the reference path's
/// parameters, and with the same layout its gradient set. Slot <c>layer·D + direction</c> holds the tensors named
/// <c>weight_ih_l{layer}</c>, <c>weight_hh_l{layer}</c>, <c>bias_ih_l{layer}</c>, <c>bias_hh_l{layer}</c>,
/// with the suffix <c>_reverse</c> for direction 1.
/// </summary>
public sealed class RecurrentParameters
{
    private const int KindCount = 5;
    private readonly double[][] _tensors; // [slot * 5 + kind]; biases are empty when Config.Bias is false, weight_hr without a projection

    /// <summary>Creates zero-filled parameters for <paramref name="config"/>.</summary>
    public RecurrentParameters(RecurrentConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (config.ProjSize != 0 && (config.Cell != CellKind.Lstm || config.ProjSize < 0 || config.ProjSize >= config.HiddenSize))
        {
            throw new ArgumentException($"proj_size {config.ProjSize} needs an LSTM and 0 < proj_size < hidden_size ({config.HiddenSize})", nameof(config));
        }

        Config = config;
        int slots = config.NumLayers * config.NumDirections;
        _tensors = new double[slots * KindCount][];
        for (int layer = 0; layer < config.NumLayers; layer++)
        {
            for (int dir = 0; dir < config.NumDirections; dir++)
            {
                foreach (var kind in Kinds)
                {
                    var shape = Shape(layer, kind);
                    _tensors[Index(layer, dir, kind)] = new double[shape.Length == 2 ? shape[0] * shape[1] : (config.Bias ? shape[0] : 0)];
                }

                _tensors[Index(layer, dir, ParameterKind.WeightHr)] = new double[config.ProjSize * config.HiddenSize];
            }
        }
    }

    /// <summary>The four kinds in PyTorch's state_dict order.</summary>
    public static IReadOnlyList<ParameterKind> Kinds { get; } = [ParameterKind.WeightIh, ParameterKind.WeightHh, ParameterKind.BiasIh, ParameterKind.BiasHh];

    /// <summary>The configuration these parameters belong to.</summary>
    public RecurrentConfig Config { get; }

    /// <summary>The PyTorch state_dict name of a tensor, e.g. <c>weight_hh_l1_reverse</c>.</summary>
    public static string Name(int layer, int direction, ParameterKind kind)
    {
        string stem = kind switch
        {
            ParameterKind.WeightIh => "weight_ih",
            ParameterKind.WeightHh => "weight_hh",
            ParameterKind.BiasIh => "bias_ih",
            ParameterKind.BiasHh => "bias_hh",
            ParameterKind.WeightHr => "weight_hr",
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
        return direction == 0 ? $"{stem}_l{layer}" : $"{stem}_l{layer}_reverse";
    }

    /// <summary>The PyTorch shape of a tensor of <paramref name="layer"/>: (G·H, in), (G·H, H) or (G·H).</summary>
    public int[] Shape(int layer, ParameterKind kind) => Shape(Config, layer, kind);

    /// <summary>The PyTorch shape of a tensor of <paramref name="layer"/> under <paramref name="config"/>.</summary>
    public static int[] Shape(RecurrentConfig config, int layer, ParameterKind kind)
    {
        ArgumentNullException.ThrowIfNull(config);
        int gh = config.GateCount * config.HiddenSize;
        return kind switch
        {
            ParameterKind.WeightIh => [gh, config.LayerInputSize(layer)],
            ParameterKind.WeightHh => [gh, config.StateSize],
            ParameterKind.WeightHr => [config.ProjSize, config.HiddenSize],
            ParameterKind.BiasIh or ParameterKind.BiasHh => [gh],
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
    }

    /// <summary>The storage of one tensor (row-major); empty for a bias when <see cref="RecurrentConfig.Bias"/> is false.</summary>
    public double[] this[int layer, int direction, ParameterKind kind] => _tensors[Index(layer, direction, kind)];

    /// <summary>Every tensor that exists under this configuration, with its PyTorch name and shape, in state_dict order.</summary>
    public IEnumerable<(string Name, int[] Shape, double[] Data)> Named() =>
        Layout(Config).Select(e => (e.Name, e.Shape, this[e.Layer, e.Direction, e.Kind]));

    /// <summary>Every tensor a configuration has, with its PyTorch name and shape, in state_dict order (allocates no storage).</summary>
    public static IEnumerable<(string Name, int[] Shape, int Layer, int Direction, ParameterKind Kind)> Layout(RecurrentConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        for (int layer = 0; layer < config.NumLayers; layer++)
        {
            for (int dir = 0; dir < config.NumDirections; dir++)
            {
                foreach (var kind in Kinds)
                {
                    if (!config.Bias && kind is ParameterKind.BiasIh or ParameterKind.BiasHh)
                    {
                        continue;
                    }

                    yield return (Name(layer, dir, kind), Shape(config, layer, kind), layer, dir, kind);
                }

                if (config.ProjSize > 0)
                {
                    yield return (Name(layer, dir, ParameterKind.WeightHr), Shape(config, layer, ParameterKind.WeightHr), layer, dir, ParameterKind.WeightHr);
                }
            }
        }
    }

    /// <summary>Sets every value to zero (gradients accumulate; zeroing is explicit).</summary>
    public void Clear()
    {
        foreach (var t in _tensors)
        {
            Array.Clear(t);
        }
    }

    private int Index(int layer, int direction, ParameterKind kind)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(layer);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(layer, Config.NumLayers);
        ArgumentOutOfRangeException.ThrowIfNegative(direction);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(direction, Config.NumDirections);
        return ((layer * Config.NumDirections) + direction) * KindCount + (int)kind;
    }
}
