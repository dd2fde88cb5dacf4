namespace RecurrentCore;

/// <summary>The recurrent cell of a layer, with PyTorch's gate orders.</summary>
public enum CellKind
{
    /// <summary>Elman RNN, h' = tanh(W_ih x + b_ih + W_hh h + b_hh) (PyTorch nn.RNN, nonlinearity='tanh').</summary>
    RnnTanh,

    /// <summary>Elman RNN, h' = relu(W_ih x + b_ih + W_hh h + b_hh) (PyTorch nn.RNN, nonlinearity='relu').</summary>
    RnnRelu,

    /// <summary>LSTM with gates in PyTorch order i, f, g, o and a cell state (PyTorch nn.LSTM).</summary>
    Lstm,

    /// <summary>GRU with gates in PyTorch order r, z, n; the reset gate multiplies (W_hn h + b_hn) (PyTorch nn.GRU).</summary>
    Gru,
}

/// <summary>Names and gate counts of <see cref="CellKind"/>.</summary>
public static class CellKinds
{
    /// <summary>The number of gate blocks stacked in W_ih and W_hh: 4 for LSTM, 3 for GRU, 1 for RNN.</summary>
    public static int GateCount(this CellKind cell) => cell switch
    {
        CellKind.Lstm => 4,
        CellKind.Gru => 3,
        CellKind.RnnTanh or CellKind.RnnRelu => 1,
        _ => throw new ArgumentOutOfRangeException(nameof(cell)),
    };

    /// <summary>Whether the cell carries a cell state c besides h (LSTM only).</summary>
    public static bool HasCellState(this CellKind cell) => cell == CellKind.Lstm;

    /// <summary>The command-line name: lstm, gru, rnn-tanh or rnn-relu.</summary>
    public static string Name(this CellKind cell) => cell switch
    {
        CellKind.Lstm => "lstm",
        CellKind.Gru => "gru",
        CellKind.RnnTanh => "rnn-tanh",
        CellKind.RnnRelu => "rnn-relu",
        _ => throw new ArgumentOutOfRangeException(nameof(cell)),
    };

    /// <summary>Parses lstm, gru, rnn-tanh or rnn-relu.</summary>
    /// <exception cref="ArgumentException">Any other name.</exception>
    public static CellKind Parse(string name) => name switch
    {
        "lstm" => CellKind.Lstm,
        "gru" => CellKind.Gru,
        "rnn-tanh" => CellKind.RnnTanh,
        "rnn-relu" => CellKind.RnnRelu,
        _ => throw new ArgumentException($"unknown cell '{name}': expected lstm, gru, rnn-tanh or rnn-relu", nameof(name)),
    };
}
