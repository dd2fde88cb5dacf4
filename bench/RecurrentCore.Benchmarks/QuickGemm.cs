using System.Diagnostics;
using System.Globalization;
using RecurrentCore.Kernels;

namespace RecurrentCore.Benchmarks;

/// <summary>
/// <c>quick-gemm [MxNxK,…] [--variant V]</c>: the forward product <c>C = A·Wᵀ + bias</c> (<see cref="Gemm.Multiply"/>,
/// packed W) in a Stopwatch loop outside BenchmarkDotNet: 1.5 s of warm-up, then 31 batches of ~50 ms each, reporting
/// the median and the fastest batch in GFLOP/s. Shapes default to 256³, 1024³ and the input projection of an LSTM
/// sequence T = 100, B = 1, H = 256 (100×1024×256); the variant to the active one. For before/after runs, build it
/// against both revisions and alternate the runs (A B A B).
/// </summary>
internal static class QuickGemm
{
    public static void Run(string[] args)
    {
        var shapes = new List<(int M, int N, int K)>();
        KernelVariant variant = KernelCatalog.Active;
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--variant")
            {
                variant = Enum.Parse<KernelVariant>(args[++i], ignoreCase: true);
                continue;
            }

            foreach (var s in args[i].Split(','))
            {
                var d = s.Split('x').Select(v => int.Parse(v, CultureInfo.InvariantCulture)).ToArray();
                shapes.Add((d[0], d[1], d[2]));
            }
        }

        if (shapes.Count == 0)
        {
            shapes = [(256, 256, 256), (1024, 1024, 1024), (100, 1024, 256)];
        }

        foreach (var (m, n, k) in shapes)
        {
            var rng = new Random(2);
            var a = new float[m * k];
            var w = new float[n * k];
            var c = new float[m * n];
            var bias = new float[n];
            for (int i = 0; i < a.Length; i++)
            {
                a[i] = (float)(rng.NextDouble() - 0.5);
            }

            for (int i = 0; i < w.Length; i++)
            {
                w[i] = (float)(rng.NextDouble() - 0.5);
            }

            var packed = PackedMatrix.Pack(w, n, k, variant);
            var sw = Stopwatch.StartNew();
            while (sw.Elapsed.TotalSeconds < 1.5)
            {
                Gemm.Multiply(a, m, packed, bias, c, false);
            }

            var times = new List<double>();
            for (int batch = 0; batch < 31; batch++)
            {
                int reps = 0;
                sw.Restart();
                while (sw.Elapsed.TotalMilliseconds < 50)
                {
                    Gemm.Multiply(a, m, packed, bias, c, false);
                    reps++;
                }

                times.Add(sw.Elapsed.TotalSeconds / reps);
            }

            times.Sort();
            double flop = 2.0 * m * n * k;
            Console.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"{variant} {m}x{n}x{k}: median {times[15] * 1e6:F1} us = {flop / times[15] / 1e9:F1} GFLOP/s, fastest batch {flop / times[0] / 1e9:F1} GFLOP/s"));
        }
    }
}
