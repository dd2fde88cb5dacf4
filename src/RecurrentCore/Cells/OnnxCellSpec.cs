using RecurrentCore.Kernels.Operators;

namespace RecurrentCore.Cells;

/// <summary>The ONNX recurrent operator a general cell runs.</summary>
internal enum OnnxCellKind
{
    Rnn,
    Lstm,
    Gru,
}

/// <summary>
/// One direction of a general ONNX cell: its operator, sizes and the attributes PyTorch's cells do not have.
/// </summary>
/// <param name="Kind">RNN, LSTM or GRU.</param>
/// <param name="InputSize">I.</param>
/// <param name="HiddenSize">H.</param>
/// <param name="Activations">This direction's activations in ONNX order (RNN f; LSTM f, g, h; GRU f, g).</param>
/// <param name="Clip">The pre-activation clip, +Inf for none.</param>
/// <param name="InputForget">LSTM: f = 1 − i.</param>
/// <param name="LinearBeforeReset">GRU: r multiplies (R_h h + Rb_h) (true) or h before R_h (false).</param>
internal sealed record OnnxCellSpec(
    OnnxCellKind Kind, int InputSize, int HiddenSize, IReadOnlyList<GateActivation> Activations, float Clip, bool InputForget, bool LinearBeforeReset)
{
    /// <summary>G: 4 for LSTM, 3 for GRU, 1 for RNN.</summary>
    public int GateCount => Kind switch { OnnxCellKind.Lstm => 4, OnnxCellKind.Gru => 3, _ => 1 };
}
