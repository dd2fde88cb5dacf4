using System.Diagnostics;
using System.Globalization;
using RecurrentCore.Kernels;

namespace RecurrentCore.Benchmarks;

/// <summary>
/// <c>quick-gemv [H,H,…]</c>: a Stopwatch loop outside BenchmarkDotNet reporting the fastest of 7 batches per kernel
/// (4H×H, every vector variant). On a shared host, contention only slows a batch down, so the fastest batch is the
/// closest to what the core can do; use it beside, not instead of, the BenchmarkDotNet medians.
/// </summary>
internal static class QuickGemv
{
    public static void Run(string[] args)
    {
        int[] sizes = args.Length > 0 ? [.. args[0].Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture))] : [16, 32, 64, 256, 1024];
        foreach (var variant in KernelCatalog.Supported)
        {
            if (variant == KernelVariant.Scalar)
            {
                continue;
            }

            foreach (int h in sizes)
            {
                int rows = 4 * h, cols = h;
                var w = new float[rows * cols];
                var x = new float[rows];
                var y = new float[rows];
                for (int i = 0; i < w.Length; i++)
                {
                    w[i] = (i % 7) * 0.1f;
                }

                x.AsSpan().Fill(0.5f);
                int reps = Math.Max(1, 20_000_000 / (rows * cols));
                double best = double.MaxValue, bestT = double.MaxValue;
                for (int batch = 0; batch < 7; batch++)
                {
                    var sw = Stopwatch.StartNew();
                    for (int r = 0; r < reps; r++)
                    {
                        Gemv.Multiply(w, rows, cols, x, y, false, variant);
                    }

                    best = Math.Min(best, sw.Elapsed.TotalSeconds / reps);
                    sw.Restart();
                    for (int r = 0; r < reps; r++)
                    {
                        Gemv.MultiplyTransposed(w, rows, cols, x, y, false, variant);
                    }

                    bestT = Math.Min(bestT, sw.Elapsed.TotalSeconds / reps);
                }

                double flops = 2.0 * rows * cols, bytes = 4.0 * rows * cols;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{KernelCatalog.Name(variant),-7} H={h,5}  W·x {best * 1e9,10:F0} ns {flops / best / 1e9,6:F1} GFLOP/s {bytes / best / 1e9,6:F1} GB/s | Wᵀ·x {bestT * 1e9,10:F0} ns {flops / bestT / 1e9,6:F1} GFLOP/s {bytes / bestT / 1e9,6:F1} GB/s"));
            }
        }
    }
}
