namespace RecurrentCore.Sequence;

/// <summary>Where backward accumulates the parameter gradients: one row-major tensor per (layer, direction, kind).</summary>
internal interface IParameterGradients
{
    RecurrentConfig Config { get; }

    /// <summary>The tensor's storage, PyTorch layout; empty for a bias the layer does not have.</summary>
    float[] this[int layer, int direction, ParameterKind kind] { get; }
}
