using RecurrentCore.Layers;

namespace RecurrentCore.Samples.Serving;

/// <summary>The service's command-line settings (<c>--name value</c>), each checked with a one-line error.</summary>
internal sealed record ServingSettings
{
    public string? ModelPath { get; init; }

    public CellKind Cell { get; init; } = CellKind.Lstm;

    public int Seed { get; init; } = 1;

    public int Input { get; init; } = DemoModel.DefaultInput;

    public int Hidden { get; init; } = DemoModel.DefaultHidden;

    public int MaxSessions { get; init; } = 64;

    public int MaxBatch { get; init; } = 64;

    public int Workers { get; init; } = 1;

    public TimeSpan Window { get; init; } = TimeSpan.FromMilliseconds(1);

    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(60);

    public static ServingSettings From(IConfiguration c) => new()
    {
        ModelPath = c["model"],
        Cell = c["cell"] is { } cell ? DemoModel.ParseCell(cell) : CellKind.Lstm,
        Seed = Int(c, "seed", 1, int.MinValue),
        Input = Int(c, "input", DemoModel.DefaultInput, 1),
        Hidden = Int(c, "hidden", DemoModel.DefaultHidden, 1),
        MaxSessions = Int(c, "max-sessions", 64, 1),
        MaxBatch = Int(c, "max-batch", 64, 1),
        Workers = Int(c, "workers", 1, 1),
        Window = TimeSpan.FromMicroseconds(Int(c, "window-us", 1000, 0)),
        IdleTimeout = TimeSpan.FromSeconds(Int(c, "idle-seconds", 60, 1)),
    };

    public RecurrentLayer BuildLayer()
    {
        if (ModelPath is null)
        {
            return DemoModel.Seeded(Seed, Input, Hidden, Cell);
        }

        if (!File.Exists(ModelPath))
        {
            throw new ArgumentException($"--model: file '{ModelPath}' does not exist");
        }

        return RecurrentLayer.Load(ModelPath, Cell);
    }

    private static int Int(IConfiguration c, string key, int fallback, int min)
    {
        var text = c[key];
        if (text is null)
        {
            return fallback;
        }

        if (!int.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, out int v) || v < min)
        {
            throw new ArgumentException($"--{key}: '{text}' is not an integer ≥ {min}");
        }

        return v;
    }
}
