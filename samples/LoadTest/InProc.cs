using System.Diagnostics;
using System.Globalization;
using RecurrentCore.Layers;
using RecurrentCore.Serving;

namespace RecurrentCore.Samples.LoadTest;

/// <summary>
/// The library alone, no network: S sessions stepped (A) one by one at B = 1, each its own <see cref="StreamState"/>,
/// by T threads that split the sessions between them, and (B) through a <see cref="StreamPool"/> with T workers,
/// every session a client awaiting its steps. Rounds alternate A B A B on the same process and layer.
/// </summary>
internal static class InProc
{
    public static int Run(Args a)
    {
        int sessions = a.Int("sessions", 64), threads = a.Int("threads", 2), steps = a.Int("steps", 200_000);
        int rounds = a.Int("rounds", 2), input = a.Int("input", DemoModel.DefaultInput), hidden = a.Int("hidden", DemoModel.DefaultHidden);
        var window = TimeSpan.FromMicroseconds(a.Int("window-us", 1000, 0));
        int maxBatch = a.Int("max-batch", (sessions + threads - 1) / threads);
        var only = a.Text("only", "both");
        var layer = DemoModel.Seeded(a.Int("seed", 1, int.MinValue), input, hidden);
        var inputs = Inputs(sessions, input);
        Console.WriteLine($"# inproc: LSTM I={input} H={hidden}, {sessions} sessions, {threads} threads, {steps} steps per run, pool max batch {maxBatch}, window {window.TotalMilliseconds} ms, kernel {Kernels.KernelCatalog.Name(layer.Variant)}");
        Console.WriteLine("| run | mode | steps/s | p50 µs | p99 µs | p99.9 µs | mean batch | gen0 | gen1 | gen2 | B/step |");
        Console.WriteLine("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        var oneByOne = new List<double>();
        var pooled = new List<double>();
        for (int r = 1; r <= rounds; r++)
        {
            if (only != "pool")
            {
                oneByOne.Add(Report(r, "one-by-one B=1", () => OneByOne(layer, inputs, threads, steps)));
            }

            if (only != "one-by-one")
            {
                pooled.Add(Report(r, "pool", () => Pooled(layer, inputs, threads, steps, maxBatch, window)));
            }
        }

        if (oneByOne.Count > 0 && pooled.Count > 0)
        {
            Console.WriteLine($"# pool / one-by-one (medians of {rounds} rounds): {Median(pooled) / Median(oneByOne):0.00}x");
        }

        return 0;
    }

    private static double Report(int round, string mode, Func<(long Steps, double Seconds, Histogram Latency, double MeanBatch)> run)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        int g0 = GC.CollectionCount(0), g1 = GC.CollectionCount(1), g2 = GC.CollectionCount(2);
        long before = GC.GetTotalAllocatedBytes(precise: true);
        var (n, seconds, h, meanBatch) = run();
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        double rate = n / seconds;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {round} | {mode} | {rate:0} | {h.Quantile(0.5):0} | {h.Quantile(0.99):0} | {h.Quantile(0.999):0} | {meanBatch:0.0} | {GC.CollectionCount(0) - g0} | {GC.CollectionCount(1) - g1} | {GC.CollectionCount(2) - g2} | {(double)allocated / n:0.000} |"));
        return rate;
    }

    /// <summary>Thread j steps sessions j, j + T, … in turn, one row each, until the threads together made <paramref name="steps"/>.</summary>
    private static (long, double, Histogram, double) OneByOne(RecurrentLayer layer, float[][] inputs, int threads, int steps)
    {
        var h = new Histogram();
        var streams = new StreamState[inputs.Length];
        for (int s = 0; s < streams.Length; s++)
        {
            streams[s] = layer.CreateStream(1);
        }

        int hidden = layer.Config.HiddenSize, input = layer.Config.InputSize;
        long done = 0;
        var sw = Stopwatch.StartNew();
        var workers = new Thread[threads];
        for (int j = 0; j < threads; j++)
        {
            int first = j;
            workers[j] = new Thread(() =>
            {
                var y = new float[hidden];
                int t = 0;
                while (Interlocked.Read(ref done) < steps)
                {
                    for (int s = first; s < streams.Length; s += threads)
                    {
                        long t0 = Stopwatch.GetTimestamp();
                        streams[s].Step(inputs[s].AsSpan((t % Rotation) * input, input), y);
                        h.Record(Stopwatch.GetTimestamp() - t0);
                    }

                    Interlocked.Add(ref done, (streams.Length - first + threads - 1) / threads);
                    t++;
                }
            });
            workers[j].Start();
        }

        foreach (var w in workers)
        {
            w.Join();
        }

        return (done, sw.Elapsed.TotalSeconds, h, 1.0);
    }

    /// <summary>Every session an async client awaiting its steps through a pool with T workers.</summary>
    private static (long, double, Histogram, double) Pooled(RecurrentLayer layer, float[][] inputs, int threads, int steps, int maxBatch, TimeSpan window)
    {
        var h = new Histogram();
        using var pool = new StreamPool(layer, new StreamPoolOptions { MaxSessions = inputs.Length, MaxBatch = maxBatch, Workers = threads, GatherWindow = window });
        long done = 0;
        var sw = Stopwatch.StartNew();
        var clients = new Task[inputs.Length];
        for (int s = 0; s < clients.Length; s++)
        {
            var session = pool.Open();
            var x = inputs[s];
            clients[s] = Task.Run(() => Client(session, x, h, () => Interlocked.Increment(ref done) <= steps));
        }

        Task.WaitAll(clients);
        double seconds = sw.Elapsed.TotalSeconds;
        var stats = pool.Statistics;
        return (stats.Steps, seconds, h, (double)stats.Steps / stats.Batches);
    }

    private static async Task Client(PoolSession session, float[] x, Histogram h, Func<bool> more)
    {
        int input = session.Pool.InputSize;
        var y = new float[session.Pool.HiddenSize];
        using (session)
        {
            for (int t = 0; more(); t++)
            {
                long t0 = Stopwatch.GetTimestamp();
                await session.StepAsync(x.AsMemory((t % Rotation) * input, input), y).ConfigureAwait(false);
                h.Record(Stopwatch.GetTimestamp() - t0);
            }
        }
    }

    private const int Rotation = 16;

    /// <summary>Per session, <see cref="Rotation"/> seeded input vectors in U(−1, 1), stepped in turn.</summary>
    internal static float[][] Inputs(int sessions, int input)
    {
        var rng = new Random(7);
        var x = new float[sessions][];
        for (int s = 0; s < sessions; s++)
        {
            x[s] = new float[Rotation * input];
            for (int i = 0; i < x[s].Length; i++)
            {
                x[s][i] = (float)((2 * rng.NextDouble()) - 1);
            }
        }

        return x;
    }

    private static double Median(List<double> v)
    {
        var s = v.Order().ToArray();
        return s.Length % 2 == 1 ? s[s.Length / 2] : (s[(s.Length / 2) - 1] + s[s.Length / 2]) / 2;
    }
}
