namespace RecurrentCore.Layers;

/// <summary>
/// Float32 gradients of every parameter of a <see cref="RecurrentLayer"/>, in PyTorch layout and names (the same as
/// <see cref="RecurrentParameters"/>). Backward accumulates into them; zeroing is the explicit <see cref="Clear"/>.
/// </summary>
public sealed class RecurrentGradients : Sequence.IParameterGradients
{
    private const int KindCount = 5; // the four of every cell and weight_hr of a projected LSTM
    private readonly float[][] _tensors;

    /// <summary>Creates zeroed gradients for <paramref name="config"/>.</summary>
    public RecurrentGradients(RecurrentConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        Config = config;
        _tensors = new float[config.NumLayers * config.NumDirections * KindCount][];
        for (int i = 0; i < _tensors.Length; i++)
        {
            _tensors[i] = [];
        }

        foreach (var (_, shape, layer, dir, kind) in RecurrentParameters.Layout(config))
        {
            _tensors[Index(layer, dir, kind)] = new float[shape.Aggregate(1, (a, b) => a * b)];
        }
    }

    /// <summary>The configuration of the layer these gradients belong to.</summary>
    public RecurrentConfig Config { get; }

    /// <summary>One tensor's storage, row-major; empty for a bias when the layer has none.</summary>
    public float[] this[int layer, int direction, ParameterKind kind] => _tensors[Index(layer, direction, kind)];

    /// <summary>Every tensor with its PyTorch name and shape, in state_dict order.</summary>
    public IEnumerable<(string Name, int[] Shape, float[] Data)> Named() =>
        RecurrentParameters.Layout(Config).Select(e => (e.Name, e.Shape, this[e.Layer, e.Direction, e.Kind]));

    /// <summary>Sets every gradient to zero.</summary>
    public void Clear()
    {
        foreach (var t in _tensors)
        {
            Array.Clear(t);
        }
    }

    /// <summary>The gradients widened to double, in a <see cref="RecurrentParameters"/> of the same layout.</summary>
    public RecurrentParameters ToDouble()
    {
        var p = new RecurrentParameters(Config);
        foreach (var ((_, _, src), (_, _, dst)) in Named().Zip(p.Named()))
        {
            for (int i = 0; i < src.Length; i++)
            {
                dst[i] = src[i];
            }
        }

        return p;
    }

    private int Index(int layer, int direction, ParameterKind kind) => ((((layer * Config.NumDirections) + direction) * KindCount) + (int)kind);
}
