using System.Diagnostics;
using System.Globalization;
using RecurrentCore.Cells;
using RecurrentCore.Kernels;
using RecurrentCore.Kernels.Simd;
using RecurrentCore.Layers;

namespace RecurrentCore.Benchmarks;

/// <summary>
/// <c>quick-seq [H,…]</c>: the one-row float32 sequence's roofline, outside BenchmarkDotNet. Per step (B = 1, inference),
/// side by side in one process and interleaved (products, panels, products, …; fastest of many ~200 µs batches, as
/// <see cref="QuickQuantized"/>, so that on a shared host some batches run undisturbed): the step the loop ran before
/// the panels (the row or column GEMV of W_hh into the gate row, then the row gate kernel; the gate row is restored
/// from the projection before each call, 4H floats) and the step it runs now (one pass over W_hh's gate panels,
/// <see cref="ICell.ForwardFromHiddenPanels"/>), each as bytes of W_hh per step / time. Then the whole Forward
/// (T = 100, I = H) through <see cref="RecurrentLayer"/>, the fastest of a few calls.
/// </summary>
internal static unsafe class QuickSequence
{
    public static void Run(string[] args)
    {
        int[] sizes = args.Length > 0 ? [.. args[0].Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture))] : [64, 256, 1024];
        Console.WriteLine($"quick-seq: {KernelCatalog.Name(KernelCatalog.Active)}, {Environment.ProcessorCount} CPUs, load {File.ReadAllText("/proc/loadavg").Trim()}");
        foreach (var cell in new[] { CellKind.Lstm, CellKind.Gru })
        {
            foreach (int h in sizes)
            {
                var cfg = new RecurrentConfig(cell, h, h);
                var layer = RecurrentLayer.FromParameters(RandomData(cfg));
                var steps = new Steps { Weights = layer.Model.Weights(0, 0), Cell = cell };
                KernelCatalog.Visit<Steps, bool>(layer.Variant, ref steps);

                const int T = 100;
                using var ws = layer.CreateWorkspace(T, 1);
                var x = new float[T * h];
                var y = new float[T * h];
                x.AsSpan().Fill(0.1f);
                double best = double.MaxValue;
                var total = Stopwatch.StartNew();
                layer.Forward(ws, x, T, 1, y);
                for (int i = 0; i < 200 && total.Elapsed.TotalSeconds < 1.5; i++)
                {
                    var sw = Stopwatch.StartNew();
                    layer.Forward(ws, x, T, 1, y);
                    best = Math.Min(best, sw.Elapsed.TotalSeconds);
                }

                long bytes = 4L * layer.Model.Weights(0, 0).GateRows * h;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{cell,-4} H={h,5} Forward T=100 B=1: {best * 1e3,9:F3} ms ({bytes * T / best / 1e9,5:F1} GB/s of W_hh over the steps, projection included in the time)"));
            }
        }
    }

    private static RecurrentParameters RandomData(RecurrentConfig cfg)
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

    /// <summary>Seconds per call: the fastest of many ~200 µs batches over <paramref name="seconds"/>.</summary>
    private static double Best(Action body, double seconds)
    {
        body();
        var sw = Stopwatch.StartNew();
        int reps = 1;
        while (sw.Elapsed.TotalSeconds < 2e-4)
        {
            body();
            reps++;
        }

        double best = double.MaxValue;
        var total = Stopwatch.StartNew();
        while (total.Elapsed.TotalSeconds < seconds)
        {
            sw.Restart();
            for (int r = 0; r < reps; r++)
            {
                body();
            }

            best = Math.Min(best, sw.Elapsed.TotalSeconds / reps);
        }

        return best;
    }

    private struct Steps : ISimdVisitor<bool>
    {
        public LayerWeights Weights;
        public CellKind Cell;

        public readonly bool Visit<TS, TV>()
            where TS : struct, ISimd<TV>
            where TV : unmanaged => Cell == CellKind.Lstm ? Measure<LstmCell, TS, TV>(Weights) : Measure<GruCell, TS, TV>(Weights);

        private static bool Measure<TCell, TS, TV>(LayerWeights w)
            where TCell : ICell
            where TS : struct, ISimd<TV>
            where TV : unmanaged
        {
            int h = w.HiddenSize, gh = w.GateRows;
            if (!ColumnGatesKernel<TS, TV>.Fits(h))
            {
                Console.WriteLine($"H={h}: no whole registers at this width, no panels");
                return false;
            }

            var proj = GC.AllocateArray<float>(gh, pinned: true);
            var gates = GC.AllocateArray<float>(gh, pinned: true);
            var hPrev = GC.AllocateArray<float>(h, pinned: true);
            var hNew = GC.AllocateArray<float>(h, pinned: true);
            var c = GC.AllocateArray<float>(h, pinned: true);
            var scratch = GC.AllocateArray<float>(Math.Max(1, TCell.StepScratchWidth(h)), pinned: true);
            proj.AsSpan().Fill(0.05f);
            hPrev.AsSpan().Fill(0.2f);
            float[] panels = w.HiddenPanels(TS.Count);
            bool column = RecurrentProducts.For(1, h) == ProductKind.ColumnGemv;
            fixed (float* pp = proj, pg = gates, ph = hPrev, pn = hNew, pc = c, ps = scratch, pw = panels)
            {
                float* projection = pp, gateRow = pg, hp = ph, hn = pn, cs = pc, sc = ps, pan = pw;
                var step = new RowStep { Gates = gateRow, HPrev = hp, H = hn, CPrev = cs, C = cs, Scratch = sc, AddRecurrent = true };
                var panelStep = step with { Gates = projection };
                bool descending = false;
                void Products()
                {
                    RowCopy(projection, gateRow, gh);
                    if (column)
                    {
                        TCell.ForwardRow<ColumnGemvProduct, TS, TV>(w, in step);
                    }
                    else
                    {
                        TCell.ForwardRow<RowGemvProduct, TS, TV>(w, in step);
                    }
                }

                void Panels()
                {
                    TCell.ForwardFromHiddenPanels<TS, TV>(w, pan, descending, in panelStep);
                    descending = !descending;
                }

                double before = double.MaxValue, after = double.MaxValue;
                for (int round = 0; round < 4; round++)
                {
                    before = Math.Min(before, Best(Products, 0.2));
                    after = Math.Min(after, Best(Panels, 0.2));
                }

                long bytes = 4L * gh * h;
                string name = typeof(TCell).Name.Replace("Cell", string.Empty, StringComparison.Ordinal);
                Console.WriteLine(string.Create(
                    CultureInfo.InvariantCulture,
                    $"{name,-4} H={h,5} step, W_hh {bytes / 1048576.0:F2} MiB: products ({(column ? "column" : "row")} GEMV + gates) {before * 1e6,8:F2} us {bytes / before / 1e9,5:F1} GB/s | panels {after * 1e6,8:F2} us {bytes / after / 1e9,5:F1} GB/s | {before / after:F2}x"));
            }

            return true;
        }

        private static void RowCopy(float* from, float* to, int count) => new ReadOnlySpan<float>(from, count).CopyTo(new Span<float>(to, count));
    }
}
