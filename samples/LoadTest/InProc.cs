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
        Console.WriteLine("| run | mode | steps/s | p50 µs | p99 µs | p99.9 µs | steps/CPU-s | cores used | mean batch | gen0 | gen1 | gen2 | bytes (B/step) |");
        Console.WriteLine("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        var oneByOne = new List<(double Wall, double Cpu)>();
        var pooled = new List<(double Wall, double Cpu)>();
        for (int r = 1; r <= rounds; r++)
        {
            if (only != "pool")
            {
                oneByOne.Add(Report(r, "one-by-one B=1", m => OneByOne(layer, inputs, threads, steps, m)));
            }

            if (only != "one-by-one")
            {
                pooled.Add(Report(r, "pool", m => Pooled(layer, inputs, threads, steps, maxBatch, window, m)));
            }
        }

        if (oneByOne.Count > 0 && pooled.Count > 0)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"# pool / one-by-one, medians of {rounds} rounds: steps/s {Median(pooled, p => p.Wall) / Median(oneByOne, p => p.Wall):0.00}x, steps/CPU-s {Median(pooled, p => p.Cpu) / Median(oneByOne, p => p.Cpu):0.00}x"));
        }

        return 0;
    }

    private static (double Wall, double Cpu) Report(int round, string mode, Func<Meter, (long Steps, double Seconds, Histogram Latency, double MeanBatch)> run)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var meter = new Meter();
        var (n, seconds, h, meanBatch) = run(meter);
        double rate = n / seconds;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {round} | {mode} | {rate:0} | {h.Quantile(0.5):0} | {h.Quantile(0.99):0} | {h.Quantile(0.999):0} | {meter.StepsPerCpuSecond:0} | {meter.Cores:0.00} | {meanBatch:0.0} | {meter.Gen0} | {meter.Gen1} | {meter.Gen2} | {meter.Bytes} ({meter.BytesPerStep:0.000}) |"));
        return (rate, meter.StepsPerCpuSecond);
    }

    /// <summary>
    /// GC counts and process-wide allocated bytes from the moment the run is warm (its first tenth of the steps done,
    /// every thread and session set up) to its last step: the steady state, without setup.
    /// </summary>
    private sealed class Meter
    {
        private long _startBytes, _startSteps, _wall;
        private TimeSpan _cpu;
        private int _g0, _g1, _g2, _started;

        public int Gen0 { get; private set; }

        public int Gen1 { get; private set; }

        public int Gen2 { get; private set; }

        public double BytesPerStep { get; private set; }

        public long Bytes { get; private set; }

        /// <summary>Steady-state steps per second of this process's CPU time (user + system): robust to a loaded host.</summary>
        public double StepsPerCpuSecond { get; private set; }

        /// <summary>CPU seconds per wall second the process got.</summary>
        public double Cores { get; private set; }

        public void Start(long steps)
        {
            if (Interlocked.Exchange(ref _started, 1) == 0)
            {
                _cpu = Environment.CpuUsage.TotalTime;
                _wall = System.Diagnostics.Stopwatch.GetTimestamp();
                _g0 = GC.CollectionCount(0);
                _g1 = GC.CollectionCount(1);
                _g2 = GC.CollectionCount(2);
                _startSteps = steps;
                _startBytes = GC.GetTotalAllocatedBytes(precise: true);
            }
        }

        public void Stop(long steps)
        {
            long bytes = GC.GetTotalAllocatedBytes(precise: true) - _startBytes;
            Gen0 = GC.CollectionCount(0) - _g0;
            Gen1 = GC.CollectionCount(1) - _g1;
            Gen2 = GC.CollectionCount(2) - _g2;
            Bytes = bytes;
            BytesPerStep = (double)bytes / Math.Max(1, steps - _startSteps);
            var cpu = (Environment.CpuUsage.TotalTime - _cpu).TotalSeconds;
            var wall = System.Diagnostics.Stopwatch.GetElapsedTime(_wall).TotalSeconds;
            StepsPerCpuSecond = (steps - _startSteps) / cpu;
            Cores = cpu / wall;
        }
    }

    /// <summary>Thread j steps sessions j, j + T, … in turn, one row each, until the threads together made <paramref name="steps"/>.</summary>
    private static (long, double, Histogram, double) OneByOne(RecurrentLayer layer, float[][] inputs, int threads, int steps, Meter meter)
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

                    long now = Interlocked.Add(ref done, (streams.Length - first + threads - 1) / threads);
                    if (now >= steps / 10)
                    {
                        meter.Start(now);
                    }

                    t++;
                }
            });
            workers[j].Start();
        }

        foreach (var w in workers)
        {
            w.Join();
        }

        meter.Stop(done);
        return (done, sw.Elapsed.TotalSeconds, h, 1.0);
    }

    /// <summary>Every session an async client awaiting its steps through a pool with T workers.</summary>
    private static (long, double, Histogram, double) Pooled(RecurrentLayer layer, float[][] inputs, int threads, int steps, int maxBatch, TimeSpan window, Meter meter)
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
            clients[s] = Task.Run(() => Client(session, x, h, () =>
            {
                long now = Interlocked.Increment(ref done);
                if (now == steps / 10)
                {
                    meter.Start(now);
                }

                return now <= steps;
            }));
        }

        Task.WaitAll(clients);
        double seconds = sw.Elapsed.TotalSeconds;
        var stats = pool.Statistics;
        meter.Stop(stats.Steps);
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

    private static double Median(List<(double Wall, double Cpu)> runs, Func<(double Wall, double Cpu), double> pick)
    {
        var s = runs.Select(pick).Order().ToArray();
        return s.Length % 2 == 1 ? s[s.Length / 2] : (s[(s.Length / 2) - 1] + s[s.Length / 2]) / 2;
    }
}
