using System.Diagnostics;
using System.Globalization;
using RecurrentCore.Kernels;
using RecurrentCore.Layers;
using RecurrentCore.Sequence;

namespace RecurrentCore.Benchmarks;

/// <summary>
/// <c>quick-seq [H,…]</c>: the one-row float32 sequence's roofline, outside BenchmarkDotNet. LSTM and GRU inference
/// Forward, T = 100, B = 1, I = H, one thread, both ways in one process: the products loop (row or column GEMV of W_hh
/// into the gate row, then the gate kernel; what main ran) and the W_hh gate-panel loop (one pass per step, gates in
/// registers), alternating call by call for about two seconds, the fastest call of each (on a shared host a burst of
/// load then slows both alike). Bytes per step are W_hh's (G·H·H floats); the time includes the input projection
/// GEMM, so GB/s understates the steps' own rate.
/// </summary>
internal static class QuickSequence
{
    public static void Run(string[] args)
    {
        int[] sizes = args.Length > 0 ? [.. args[0].Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture))] : [64, 256, 1024];
        Console.WriteLine($"quick-seq: {KernelCatalog.Name(KernelCatalog.Active)}, {Environment.ProcessorCount} CPUs, load {File.ReadAllText("/proc/loadavg").Trim()}");
        const int T = 100;
        foreach (var cell in new[] { CellKind.Lstm, CellKind.Gru })
        {
            foreach (int h in sizes)
            {
                var cfg = new RecurrentConfig(cell, h, h);
                var layer = RecurrentLayer.FromParameters(RandomParameters(cfg));
                using var ws = layer.CreateWorkspace(T, 1);
                var x = new float[T * h];
                var y = new float[T * h];
                for (int i = 0; i < x.Length; i++)
                {
                    x[i] = (float)Math.Sin(i * 0.37);
                }

                double Once(bool panels)
                {
                    CellLoops.PanelsOff = !panels;
                    var sw = Stopwatch.StartNew();
                    layer.Forward(ws, x, T, 1, y);
                    return sw.Elapsed.TotalSeconds;
                }

                Once(false);
                Once(true);
                double products = double.MaxValue, panels = double.MaxValue;
                var total = Stopwatch.StartNew();
                for (int i = 0; i < 2000 && total.Elapsed.TotalSeconds < 2; i++)
                {
                    products = Math.Min(products, Once(false));
                    panels = Math.Min(panels, Once(true));
                }

                CellLoops.PanelsOff = false;

                // What a training loop on the panels would pay per optimiser step: W_hh laid out again (16 lanes; the cost
                // hardly depends on the width).
                var w = layer.Model.Weights(0, 0);
                var relaid = new float[ColumnGatePanels.Length(0, h, cell.GateCount())];
                double pack = double.MaxValue;
                for (int i = 0; i < 5; i++)
                {
                    var sw = Stopwatch.StartNew();
                    ColumnGatePanels.Pack([], w.WeightHh, 0, h, cell.GateCount(), 16, relaid);
                    pack = Math.Min(pack, sw.Elapsed.TotalSeconds);
                }

                double bytes = 4.0 * cell.GateCount() * h * h * T;
                Console.WriteLine(string.Create(
                    CultureInfo.InvariantCulture,
                    $"{cell.Name(),-4} T=100 B=1 H={h,5} (W_hh {bytes / T / 1048576:F2} MiB per step): products {products * 1e3,8:F3} ms {bytes / products / 1e9,5:F1} GB/s | panels {panels * 1e3,8:F3} ms {bytes / panels / 1e9,5:F1} GB/s | {products / panels:F2}x | W_hh re-laid out {pack * 1e3:F3} ms"));
            }
        }
    }

    private static RecurrentParameters RandomParameters(RecurrentConfig cfg)
    {
        var p = new RecurrentParameters(cfg);
        var rng = new Random(5);
        double scale = 1 / Math.Sqrt(cfg.HiddenSize);
        foreach (var (_, _, data) in p.Named())
        {
            for (int i = 0; i < data.Length; i++)
            {
                data[i] = (float)((rng.NextDouble() - 0.5) * 2 * scale);
            }
        }

        return p;
    }
}
