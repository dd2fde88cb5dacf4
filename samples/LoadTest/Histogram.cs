using System.Diagnostics;

namespace RecurrentCore.Samples.LoadTest;

/// <summary>Latencies in 1 µs buckets up to 100 ms (one overflow bucket above), recorded from many threads without allocating.</summary>
internal sealed class Histogram
{
    private const int Buckets = 100_000;
    private readonly long[] _counts = new long[Buckets + 1];
    private long _total;

    public long Count => Interlocked.Read(ref _total);

    public void Record(long stopwatchTicks)
    {
        long us = stopwatchTicks * 1_000_000 / Stopwatch.Frequency;
        Interlocked.Increment(ref _counts[Math.Min(us, Buckets)]);
        Interlocked.Increment(ref _total);
    }

    /// <summary>The latency (µs, bucket upper edge) below which a fraction <paramref name="q"/> of the steps fall.</summary>
    public double Quantile(double q)
    {
        long total = Count, need = (long)Math.Ceiling(q * total), seen = 0;
        for (int i = 0; i <= Buckets; i++)
        {
            seen += _counts[i];
            if (seen >= need && seen > 0)
            {
                return i + 1;
            }
        }

        return double.NaN;
    }
}
