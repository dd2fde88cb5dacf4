namespace RecurrentCore;

/// <summary>
/// The shape of a recurrent layer stack, with PyTorch's options (nn.RNN / nn.LSTM / nn.GRU constructor arguments).
/// </summary>
public sealed record RecurrentConfig
{
    /// <summary>Creates and validates a configuration.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size or the layer count is not positive.</exception>
    public RecurrentConfig(CellKind cell, int inputSize, int hiddenSize, int numLayers = 1, bool bias = true, bool batchFirst = false, bool bidirectional = false)
    {
        if (!Enum.IsDefined(cell))
        {
            throw new ArgumentOutOfRangeException(nameof(cell), cell, "unknown cell kind");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(inputSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(hiddenSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(numLayers, 1);
        Cell = cell;
        InputSize = inputSize;
        HiddenSize = hiddenSize;
        NumLayers = numLayers;
        Bias = bias;
        BatchFirst = batchFirst;
        Bidirectional = bidirectional;
    }

    /// <summary>The cell of every layer.</summary>
    public CellKind Cell { get; init; }

    /// <summary>Features per time step of the input of layer 0 (I).</summary>
    public int InputSize { get; init; }

    /// <summary>Features of the hidden state (H).</summary>
    public int HiddenSize { get; init; }

    /// <summary>Stacked layers (L).</summary>
    public int NumLayers { get; init; }

    /// <summary>Whether b_ih and b_hh exist.</summary>
    public bool Bias { get; init; }

    /// <summary>Whether inputs and outputs are laid out (B, T, F) instead of (T, B, F).</summary>
    public bool BatchFirst { get; init; }

    /// <summary>Whether each layer also runs a reverse-time direction.</summary>
    public bool Bidirectional { get; init; }

    /// <summary>
    /// GRU only: whether the reset gate multiplies the recurrent term after its linear map,
    /// n = tanh(W_in x + b_in + r⊙(W_hn h + b_hn)) (true, the default: PyTorch nn.GRU, ONNX linear_before_reset=1),
    /// or the state before it, n = tanh(W_in x + b_in + W_hn(r⊙h) + b_hn) (false: ONNX's default
    /// linear_before_reset=0, Keras reset_after=False). Must stay true for other cells.
    /// </summary>
    public bool LinearBeforeReset { get; init; } = true;

    /// <summary>
    /// LSTM only: PyTorch's proj_size P. When positive, h' = W_hr (o⊙tanh c') has P features (0 &lt; P &lt; H):
    /// weight_hh is (4H, P), h0 / h_n are (L·D, B, P), outputs D·P, and each layer-direction has weight_hr (P, H).
    /// 0 (the default) means no projection. Runs on the reference and the fast path, forward, backward (training) and streaming.
    /// </summary>
    public int ProjSize { get; init; }

    /// <summary>Features of the hidden state h passed between steps and layers: <see cref="ProjSize"/> when positive, else H.</summary>
    public int StateSize => ProjSize > 0 ? ProjSize : HiddenSize;

    /// <summary>Directions per layer (D): 2 when bidirectional, else 1.</summary>
    public int NumDirections => Bidirectional ? 2 : 1;

    /// <summary>Gate blocks per weight matrix (G): 4 for LSTM, 3 for GRU, 1 for RNN.</summary>
    public int GateCount => Cell.GateCount();

    /// <summary>Features of the output (D·H, or D·P with a projection).</summary>
    public int OutputSize => NumDirections * StateSize;

    /// <summary>Input features of layer <paramref name="layer"/>: I for layer 0, D·H above it.</summary>
    public int LayerInputSize(int layer) => layer == 0 ? InputSize : OutputSize;
}
