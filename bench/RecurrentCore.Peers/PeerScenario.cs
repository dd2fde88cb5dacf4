using System.Globalization;

namespace RecurrentCore.Peers;

/// <summary>What a scenario times.</summary>
internal enum PeerMode
{
    /// <summary>One streaming step, B = 1, state carried from call to call.</summary>
    Step,

    /// <summary>One inference forward over a (T, B) sequence from zero states.</summary>
    Sequence,

    /// <summary>A training forward plus full backward through time (parameter and input gradients).</summary>
    Train,
}

/// <summary>One row of the peer table: a single-layer, unidirectional layer with I = H.</summary>
internal sealed record PeerScenario(PeerMode Mode, CellKind Cell, int Hidden, int Batch, int SeqLen)
{
    /// <summary>Steps fed from zero state for the step scenarios' agreement check.</summary>
    public const int CheckSteps = 8;

    public int Input => Hidden;

    public RecurrentConfig Config => new(Cell, Input, Hidden);

    public string CellName => Cell switch
    {
        CellKind.Lstm => "LSTM",
        CellKind.Gru => "GRU",
        CellKind.RnnTanh => "RNN-tanh",
        _ => Cell.ToString(),
    };

    /// <summary>The wire name of the cell (the CLI's and torch_bench.py's).</summary>
    public string CellKey => Cell switch
    {
        CellKind.Lstm => "lstm",
        CellKind.Gru => "gru",
        CellKind.RnnTanh => "rnn-tanh",
        _ => throw new NotSupportedException($"cell {Cell} is not in the peer scenarios"),
    };

    public string ModeKey => Mode.ToString().ToLowerInvariant();

    public string Name => Mode switch
    {
        PeerMode.Step => string.Create(CultureInfo.InvariantCulture, $"{CellName} step H={Hidden}"),
        PeerMode.Sequence => string.Create(CultureInfo.InvariantCulture, $"{CellName} seq T={SeqLen} B={Batch} H={Hidden}"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{CellName} train T={SeqLen} B={Batch} H={Hidden}"),
    };

    /// <summary>Whether ONNX Runtime takes part (not in training: ORT's CPU inference runtime has no backward).</summary>
    public bool UsesOrt => Mode != PeerMode.Train;

    /// <summary>Forward FLOPs of one call: 2·T·B·G·H·(I + H) (the two products; gates and biases are not counted).</summary>
    public double ForwardFlops => 2.0 * (Mode == PeerMode.Step ? 1 : SeqLen) * Batch * Cell.GateCount() * Hidden * (Input + Hidden);

    public static IReadOnlyList<PeerScenario> Full()
    {
        var list = new List<PeerScenario>();
        foreach (var cell in new[] { CellKind.Lstm, CellKind.Gru, CellKind.RnnTanh })
        {
            foreach (int h in new[] { 16, 64, 256 })
            {
                list.Add(new PeerScenario(PeerMode.Step, cell, h, 1, 1));
            }
        }

        foreach (var cell in new[] { CellKind.Lstm, CellKind.Gru })
        {
            foreach (int b in new[] { 1, 16 })
            {
                foreach (int h in new[] { 64, 256, 1024 })
                {
                    list.Add(new PeerScenario(PeerMode.Sequence, cell, h, b, 100));
                }
            }
        }

        foreach (var cell in new[] { CellKind.Lstm, CellKind.Gru })
        {
            foreach (int b in new[] { 1, 32 })
            {
                foreach (int h in new[] { 64, 256 })
                {
                    list.Add(new PeerScenario(PeerMode.Train, cell, h, b, 50));
                }
            }
        }

        return list;
    }

    public static IReadOnlyList<PeerScenario> Quick() =>
    [
        new(PeerMode.Step, CellKind.Lstm, 64, 1, 1),
        new(PeerMode.Step, CellKind.Gru, 16, 1, 1),
        new(PeerMode.Step, CellKind.RnnTanh, 64, 1, 1),
        new(PeerMode.Sequence, CellKind.Lstm, 64, 1, 100),
        new(PeerMode.Sequence, CellKind.Gru, 64, 16, 100),
        new(PeerMode.Train, CellKind.Lstm, 64, 1, 50),
    ];
}
