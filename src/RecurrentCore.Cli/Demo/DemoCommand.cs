using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using RecurrentCore.Training;

namespace RecurrentCore.Cli.Demo;

/// <summary>
/// <c>recurrent demo</c>: on data it generates itself, (1) trains RNN-tanh, LSTM and GRU with the same budget on a
/// copy-memory task at growing lengths, (2) measures ‖∂L/∂h_t‖ against the distance from the loss (table + SVG),
/// (3) sets AR(τ) and Markov baselines beside an LSTM. Deterministic given --seed.
/// </summary>
internal static class DemoCommand
{
    /// <summary>
    /// The models trained in part 1: each cell from PyTorch's default initialisation, plus the same LSTM initialisation
    /// with <see cref="ForgetBias"/> added to its forget-gate bias (the usual remedy for long memory; in PyTorch the
    /// default-initialised LSTM does not learn this task at T ≥ 20 in this budget either, see docs/demo.md).
    /// </summary>
    public static readonly (string Name, CellKind Cell, float ForgetBias)[] Cells =
        [("rnn-tanh", CellKind.RnnTanh, 0f), ("lstm", CellKind.Lstm, 0f), ("lstm fb+3", CellKind.Lstm, ForgetBias), ("gru", CellKind.Gru, 0f)];

    /// <summary>Added to b_ih's forget block (i, f, g, o order) of the "lstm fb+3" model: f starts near σ(3) ≈ 0.95.</summary>
    public const float ForgetBias = 3f;

    /// <summary>The recurrent weight of the RNN-relu probe: W_hh = 1.1·I.</summary>
    public const float ReluScale = 1.1f;

    public const string SvgName = "demo-gradients.svg";

    public static Command Create()
    {
        var seed = new Option<ulong>("--seed") { Description = "Seed of every initialisation and data set.", DefaultValueFactory = _ => 1UL };
        var quick = new Option<bool>("--quick") { Description = "A smaller version (seconds instead of minutes)." };
        var outDir = new Option<string>("--out-dir") { Description = "Folder for demo-gradients.svg (created when absent).", DefaultValueFactory = _ => "." };
        var command = new Command("demo", "Train RNN-tanh, LSTM and GRU on a long-range task, plot gradient norms against distance, and compare with AR and Markov baselines.")
        {
            seed, quick, outDir,
        };
        PathOptions.RequireNonEmpty(outDir);
        command.SetAction(parse => Run(
            parse.GetValue(quick) ? DemoSettings.Quick : DemoSettings.Full,
            parse.GetValue(quick),
            parse.GetValue(seed),
            parse.GetValue(outDir)!,
            parse.InvocationConfiguration.Output,
            parse.InvocationConfiguration.Error));
        return command;
    }

    public static int Run(DemoSettings s, bool quick, ulong seed, string outDir, TextWriter output, TextWriter error)
    {
        var clock = Stopwatch.StartNew();
        var o = output;
        o.WriteLine(Invariant($"recurrent demo{(quick ? " --quick" : string.Empty)} --seed {seed}"));
        o.WriteLine();

        // (1) Long-range dependency.
        o.WriteLine("1. Long-range dependency: copy-memory with one symbol");
        o.WriteLine(Invariant($"   step 0 shows a symbol s in {{0..3}}, steps 1..T-2 random distractors, step T-1 a query; predict s there."));
        o.WriteLine(Invariant($"   Same budget per cell: H={s.Hidden}, {s.Steps} Adam steps (lr {s.LearningRate}), batch {s.Batch}, clip {s.Clip}, full BPTT."));
        o.WriteLine(Invariant($"   Held-out loss (nats; chance ln 4 = {Math.Log(4):0.000}) and accuracy (chance 25%) on {s.EvalBatch} fresh sequences:"));
        o.WriteLine();
        o.WriteLine("   Every cell starts from PyTorch's default initialisation (all tensors U(-1/sqrt(H), 1/sqrt(H)));");
        o.WriteLine(Invariant($"   'lstm fb+3' is the same LSTM initialisation with {ForgetBias} added to the forget-gate bias b_if."));
        o.WriteLine();
        o.WriteLine("   " + Invariant($"{"T",5}") + string.Concat(Cells.Select(c => Invariant($"  {c.Name + " loss",14} {"acc",6}"))));
        var trained = new Dictionary<string, Models.RecurrentLanguageModel>(StringComparer.Ordinal);
        foreach (int t in s.Lengths)
        {
            var row = new List<string>();
            foreach (var (name, cell, forgetBias) in Cells)
            {
                var model = CopyTask.NewModel(cell, s.Hidden, Mix(seed, 1, (ulong)t, (ulong)cell));
                if (forgetBias != 0)
                {
                    var bias = model.Parameters["rnn.bias_ih_l0"].Value.Span.Slice(s.Hidden, s.Hidden);
                    for (int j = 0; j < bias.Length; j++)
                    {
                        bias[j] += forgetBias;
                    }

                    model.RefreshWeights();
                }

                var bar = new ProgressBar(error, Invariant($"copy T={t,-3} {name,-9}"), s.Steps);
                var (loss, acc) = CopyTask.Train(model, t, s, Mix(seed, 2, (ulong)t), bar);
                bar.Finish(Invariant($"held-out loss {loss:0.000} acc {acc:P1}"));
                row.Add(Invariant($"  {loss,14:0.000} {acc * 100,5:0.0}%"));
                trained[name] = model;
            }

            o.WriteLine("   " + Invariant($"{t,5}") + string.Concat(row));
            o.Flush();
        }

        // (2) Gradient norms against distance.
        int tMax = s.Lengths[^1];
        o.WriteLine();
        o.WriteLine(Invariant($"2. Gradient norm ||dL/dh_t|| against distance d = T-1-t from the loss (T = {tMax}, mean over {s.GradientBatch} sequences)"));
        error.WriteLine(Invariant($"part 1 took {clock.Elapsed.TotalSeconds:0.0} s"));
        o.WriteLine("   exact: dL/dh0 of the suffix run from the true (h_t, c_t); rnn-tanh, lstm, gru are the models trained above at this T;");
        o.WriteLine(Invariant($"   rnn-relu is untrained with W_hh = {ReluScale}*I (large recurrent weights). 'c' columns are ||dL/dc_t||, the cell-state path."));
        var relu = CopyTask.NewModel(CellKind.RnnRelu, s.Hidden, Mix(seed, 3));
        var whh = relu.Parameters["rnn.weight_hh_l0"].Value.Span;
        whh.Clear();
        for (int i = 0; i < s.Hidden; i++)
        {
            whh[(i * s.Hidden) + i] = ReluScale;
        }

        relu.RefreshWeights();
        var probeBar = new ProgressBar(error, "gradient norms     ", 4);
        ulong probeSeed = Mix(seed, 4, (ulong)tMax);
        var tanh = GradientProbe.Measure(trained["rnn-tanh"], tMax, s.GradientBatch, new SeededRandom(probeSeed));
        probeBar.Update(1);
        var reluNorms = GradientProbe.Measure(relu, tMax, s.GradientBatch, new SeededRandom(probeSeed));
        probeBar.Update(2);
        var lstm = GradientProbe.Measure(trained["lstm"], tMax, s.GradientBatch, new SeededRandom(probeSeed));
        probeBar.Update(3);
        var gru = GradientProbe.Measure(trained["gru"], tMax, s.GradientBatch, new SeededRandom(probeSeed));
        probeBar.Finish();
        var columns = new (string Name, double[] Values)[]
        {
            ("rnn-tanh", tanh.Hidden), (Invariant($"rnn-relu {ReluScale}I"), reluNorms.Hidden), ("lstm h", lstm.Hidden), ("lstm c", lstm.Cell),
            ("gru", gru.Hidden),
        };
        o.WriteLine();
        o.WriteLine("   " + Invariant($"{"d",5}") + string.Concat(columns.Select(c => Invariant($"  {c.Name,12}"))));
        foreach (int d in Distances(tMax))
        {
            o.WriteLine("   " + Invariant($"{d,5}") + string.Concat(columns.Select(c => d == 0 && c.Name.EndsWith(" c", StringComparison.Ordinal) ? Invariant($"  {"-",12}") : Invariant($"  {c.Values[d],12:0.00e+00}"))));
        }

        string svg = SvgPlot.LogY(
            Invariant($"||dL/dh_t|| against distance from the loss (copy task, T = {tMax})"),
            "distance d = T-1-t (steps)",
            "gradient norm (log scale)",
            [.. columns.Select(c => c.Name.EndsWith(" c", StringComparison.Ordinal)
                ? (c.Name, Enumerable.Range(1, tMax - 1).Select(i => (double)i).ToArray(), c.Values[1..])
                : (c.Name, Enumerable.Range(0, tMax).Select(i => (double)i).ToArray(), c.Values))]);
        AtomicOutput.WriteFile(outDir, SvgName, path => File.WriteAllText(path, svg));
        string svgPath = Path.Combine(outDir, SvgName);
        o.WriteLine();
        o.WriteLine($"   plot: {svgPath}");

        error.WriteLine(Invariant($"parts 1-2 took {clock.Elapsed.TotalSeconds:0.0} s"));

        // (3) Baselines.
        o.WriteLine();
        o.WriteLine("3. Baselines beside an LSTM (fit on the first 80%, scored on the last 20%)");
        var series = Baselines.Series(s.SeriesLength, new SeededRandom(Mix(seed, 5)));
        int split = series.Length * 4 / 5;
        var seriesBar = new ProgressBar(error, "lstm forecaster    ", (long)s.SeriesEpochs * Baselines.Chunks(split));
        double lstmMse = Baselines.LstmTestMse(series, split, s, Mix(seed, 6), seriesBar);
        seriesBar.Finish();
        o.WriteLine(Invariant($"   a) noisy periodic series, sin(2pi t/20) + 0.5 sin(2pi t/7) + 0.3 spike every 13 + N(0, {Baselines.SeriesNoise}^2), {series.Length} points; one-step test MSE:"));
        o.WriteLine(Invariant($"      {"noise floor",-22} {Baselines.SeriesNoise * Baselines.SeriesNoise,9:0.00000}"));
        o.WriteLine(Invariant($"      {"last value",-22} {Baselines.LastValueMse(series, split),9:0.00000}"));
        foreach (int order in new[] { 2, 8, 26 })
        {
            o.WriteLine(Invariant($"      {$"AR({order}) least squares",-22} {Baselines.ArTestMse(series, split, order),9:0.00000}"));
        }

        o.WriteLine(Invariant($"      {$"LSTM H={s.Hidden}",-22} {lstmMse,9:0.00000}"));

        var symbols = Baselines.Symbolic(s.SymbolLength, new SeededRandom(Mix(seed, 7)));
        int symSplit = symbols.Length * 4 / 5;
        var symBar = new ProgressBar(error, "lstm language model", (long)s.SymbolEpochs * Baselines.Chunks(symSplit));
        double lstmCe = Baselines.LstmTestCrossEntropy(symbols, symSplit, s, Mix(seed, 8), symBar);
        symBar.Finish();
        o.WriteLine(Invariant($"   b) symbolic sequence over 5 symbols, x_t = (x_t-1 + x_t-2) mod 5 with p = {Baselines.RuleProbability}, else uniform; {symbols.Length} symbols; test cross-entropy (nats/symbol):"));
        o.WriteLine(Invariant($"      {"entropy rate (floor)",-22} {Baselines.SymbolicEntropy(),9:0.0000}"));
        o.WriteLine(Invariant($"      {"uniform",-22} {Math.Log(Baselines.Symbols),9:0.0000}"));
        o.WriteLine(Invariant($"      {"Markov order 1",-22} {Baselines.MarkovTestCrossEntropy(symbols, symSplit),9:0.0000}"));
        o.WriteLine(Invariant($"      {$"LSTM H={s.Hidden}",-22} {lstmCe,9:0.0000}"));
        error.WriteLine(Invariant($"demo finished in {clock.Elapsed.TotalSeconds:0.0} s"));
        return 0;
    }

    /// <summary>The distances printed in the table: 0, 1, 2, 5, 10, 20, 50, … up to T − 1.</summary>
    public static IEnumerable<int> Distances(int seqLen)
    {
        int[] steps = [1, 2, 5];
        yield return 0;
        for (int scale = 1; ; scale *= 10)
        {
            foreach (int m in steps)
            {
                int d = m * scale;
                if (d >= seqLen - 1)
                {
                    yield return seqLen - 1;
                    yield break;
                }

                yield return d;
            }
        }
    }

    private static ulong Mix(ulong seed, params ulong[] parts)
    {
        ulong h = seed ^ 0x9E3779B97F4A7C15UL;
        foreach (ulong p in parts)
        {
            h = (h ^ p) * 0xBF58476D1CE4E5B9UL;
            h ^= h >> 31;
        }

        return h;
    }

    internal static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
