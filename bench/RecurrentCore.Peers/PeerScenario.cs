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

/// <summary>One row of the peer table: a single-layer, unidirectional layer with I = H, run on <see cref="Threads"/> threads.</summary>
internal sealed record PeerScenario(PeerMode Mode, CellKind Cell, int Hidden, int Batch, int SeqLen, int Threads = 1)
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

    /// <summary>The wire name of the cell (the CLI's and peer_server.py's).</summary>
    public string CellKey => Cell switch
    {
        CellKind.Lstm => "lstm",
        CellKind.Gru => "gru",
        CellKind.RnnTanh => "rnn-tanh",
        _ => throw new NotSupportedException($"cell {Cell} is not in the peer scenarios"),
    };

    public string ModeKey => Mode.ToString().ToLowerInvariant();

    /// <summary>The scenario without its thread count (the before/after and thread-scaling tables pair rows by it).</summary>
    public string Shape => Mode switch
    {
        PeerMode.Step => string.Create(CultureInfo.InvariantCulture, $"{CellName} step H={Hidden}"),
        PeerMode.Sequence => string.Create(CultureInfo.InvariantCulture, $"{CellName} seq T={SeqLen} B={Batch} H={Hidden}"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{CellName} train T={SeqLen} B={Batch} H={Hidden}"),
    };

    public string Name => Threads == 1 ? Shape : string.Create(CultureInfo.InvariantCulture, $"{Shape} threads={Threads}");

    /// <summary>Forward FLOPs of one call: 2·T·B·G·H·(I + H) (the two products; gates and biases are not counted).</summary>
    public double ForwardFlops => 2.0 * (Mode == PeerMode.Step ? 1 : SeqLen) * Batch * Cell.GateCount() * Hidden * (Input + Hidden);

    /// <summary>
    /// The scenarios of issues 10, 15 and 11: streaming step B = 1 at H = 16, 64, 256; sequence inference T = 100 at
    /// B = 1 (H = 64, 256, 1024) and B = 16 (H = 256, 1024); training T = 50, B = 32, H = 256; LSTM and GRU; the
    /// sequence and training rows at every thread count of <paramref name="threads"/> (a step has no threads to use).
    /// </summary>
    public static IReadOnlyList<PeerScenario> Full(IReadOnlyList<int> threads)
    {
        ArgumentNullException.ThrowIfNull(threads);
        var list = new List<PeerScenario>();
        var cells = new[] { CellKind.Lstm, CellKind.Gru };
        foreach (var cell in cells)
        {
            foreach (int h in new[] { 16, 64, 256 })
            {
                list.Add(new PeerScenario(PeerMode.Step, cell, h, 1, 1));
            }
        }

        foreach (int t in threads)
        {
            foreach (var cell in cells)
            {
                foreach (var (b, h) in new[] { (1, 64), (1, 256), (1, 1024), (16, 256), (16, 1024) })
                {
                    list.Add(new PeerScenario(PeerMode.Sequence, cell, h, b, 100, t));
                }
            }

            foreach (var cell in cells)
            {
                list.Add(new PeerScenario(PeerMode.Train, cell, 256, 32, 50, t));
            }
        }

        return list;
    }

    /// <summary>
    /// Issue 11's targets: streaming step B = 1 at H = 256 and sequence inference T = 100, B = 1 at H = 1024, LSTM and
    /// GRU, one thread (our bf16/int8 against ORT float32 and DynamicQuantizeLSTM).
    /// </summary>
    public static IReadOnlyList<PeerScenario> Formats() =>
    [
        new(PeerMode.Step, CellKind.Lstm, 256, 1, 1),
        new(PeerMode.Step, CellKind.Gru, 256, 1, 1),
        new(PeerMode.Sequence, CellKind.Lstm, 1024, 1, 100),
        new(PeerMode.Sequence, CellKind.Gru, 1024, 1, 100),
    ];

    /// <summary>A small set for a quick look (~30 s): one scenario per mode and peer family.</summary>
    public static IReadOnlyList<PeerScenario> Quick() =>
    [
        new(PeerMode.Step, CellKind.Lstm, 64, 1, 1),
        new(PeerMode.Step, CellKind.Gru, 16, 1, 1),
        new(PeerMode.Sequence, CellKind.Lstm, 64, 1, 100),
        new(PeerMode.Sequence, CellKind.Gru, 256, 16, 100),
        new(PeerMode.Train, CellKind.Lstm, 64, 32, 50),
    ];
}
