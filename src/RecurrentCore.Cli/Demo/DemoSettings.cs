namespace RecurrentCore.Cli.Demo;

/// <summary>The sizes of one demo run: the full one (a few minutes on 2 cores) or the quick one (seconds, for tests).</summary>
internal sealed record DemoSettings(
    int[] Lengths,
    int Steps,
    int Hidden,
    int Batch,
    double LearningRate,
    double Clip,
    int EvalBatch,
    int GradientBatch,
    int SeriesLength,
    int SymbolLength,
    int SeriesEpochs,
    int SymbolEpochs)
{
    public static DemoSettings Full { get; } = new([5, 10, 20, 50, 200], Steps: 300, Hidden: 32, Batch: 32, LearningRate: 1e-2, Clip: 1.0,
        EvalBatch: 256, GradientBatch: 8, SeriesLength: 3000, SymbolLength: 6000, SeriesEpochs: 40, SymbolEpochs: 12);

    public static DemoSettings Quick { get; } = new([5, 30], Steps: 150, Hidden: 16, Batch: 16, LearningRate: 2e-2, Clip: 1.0,
        EvalBatch: 128, GradientBatch: 4, SeriesLength: 800, SymbolLength: 1500, SeriesEpochs: 20, SymbolEpochs: 20);
}
