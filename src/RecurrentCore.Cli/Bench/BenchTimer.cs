using System.Diagnostics;

namespace RecurrentCore.Cli.Bench;

/// <summary>
/// Times a call: warm-up until its per-call time is stable, then samples for the requested time. Each sample times a
/// group of calls long enough (≥ 2 µs) for the clock's own cost to vanish; the median and 99th percentile are over
/// samples, divided by the group size.
/// </summary>
/// <remarks>
/// Warm-up runs rounds of about <see cref="RoundSeconds"/> for at least <see cref="MinWarmupSeconds"/>, and stops once
/// three consecutive rounds have neither beaten the best per-call time by more than <see cref="StableWithin"/> nor seen
/// the JIT compile anything (or after <see cref="MaxWarmupSeconds"/>): a process pinned to one CPU tiers its code up
/// late, so a fixed warm-up would time unoptimised code, and tier-0 code alone can look stable for seconds. "No longer
/// getting faster" rather than "three rounds agree" keeps a loaded machine's noise from prolonging it. The sample buffer grows as needed, so measuring lasts the
/// requested time however much faster the calls become after warm-up.
/// </remarks>
internal static class BenchTimer
{
    public const double RoundSeconds = 0.05;
    public const double StableWithin = 0.05;
    public const double MinWarmupSeconds = 0.5;
    public const double MaxWarmupSeconds = 10;

    /// <summary>Warms <paramref name="call"/> up, then times it for <paramref name="seconds"/>.</summary>
    public static BenchResult Measure(Action call, double seconds)
    {
        ArgumentNullException.ThrowIfNull(call);
        double warmup = WarmUp(call, out double perCall);
        int group = Math.Max(1, (int)Math.Ceiling(2e-6 / perCall));
        var samples = new double[(int)Math.Clamp(seconds / (perCall * group) * 1.25, 16, 1 << 22)];
        int n = 0;
        long iterations = 0, allocated = 0;
        long begin = Stopwatch.GetTimestamp();
        long deadline = begin + (long)(seconds * Stopwatch.Frequency);
        while (n < 5 || Stopwatch.GetTimestamp() < deadline)
        {
            if (n == samples.Length)
            {
                Array.Resize(ref samples, samples.Length * 2);
            }

            long a0 = GC.GetAllocatedBytesForCurrentThread();
            long t0 = Stopwatch.GetTimestamp();
            for (int i = 0; i < group; i++)
            {
                call();
            }

            long t1 = Stopwatch.GetTimestamp();
            allocated += GC.GetAllocatedBytesForCurrentThread() - a0;
            samples[n++] = (t1 - t0) * (1e9 / Stopwatch.Frequency) / group;
            iterations += group;
        }

        double measured = Stopwatch.GetElapsedTime(begin).TotalSeconds;
        Array.Sort(samples, 0, n);
        return new BenchResult(iterations, Percentile(samples, n, 0.5), Percentile(samples, n, 0.99), (double)allocated / iterations, group)
        {
            WarmupSeconds = warmup,
            MeasuredSeconds = measured,
        };
    }

    /// <summary>Rounds of calls until three in a row bring no speed-up; returns the warm-up's length.</summary>
    private static double WarmUp(Action call, out double perCall)
    {
        long start = Stopwatch.GetTimestamp();
        double best = double.MaxValue;
        int calls = 1, sinceBetter = 0;
        long compiled = System.Runtime.JitInfo.GetCompiledMethodCount();
        while (true)
        {
            long t0 = Stopwatch.GetTimestamp();
            for (int i = 0; i < calls; i++)
            {
                call();
            }

            double round = Stopwatch.GetElapsedTime(t0).TotalSeconds / calls;
            long nowCompiled = System.Runtime.JitInfo.GetCompiledMethodCount();
            if (round < best * (1 - StableWithin) || nowCompiled != compiled)
            {
                sinceBetter = 0;
                compiled = nowCompiled;
            }
            else
            {
                sinceBetter++;
            }

            best = Math.Min(best, round);
            double total = Stopwatch.GetElapsedTime(start).TotalSeconds;
            if ((sinceBetter >= 3 && total >= MinWarmupSeconds) || total >= MaxWarmupSeconds)
            {
                perCall = best;
                return total;
            }

            // Aim the next round at RoundSeconds from what this one measured.
            calls = (int)Math.Clamp(RoundSeconds / Math.Max(round, 1e-9), 1, 1 << 26);
        }
    }

    private static double Percentile(double[] sorted, int n, double q)
    {
        double pos = q * (n - 1);
        int lo = (int)Math.Floor(pos);
        int hi = Math.Min(lo + 1, n - 1);
        return sorted[lo] + ((sorted[hi] - sorted[lo]) * (pos - lo));
    }
}
