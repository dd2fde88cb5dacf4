using Xunit;

namespace RecurrentCore.Tests;

/// <summary>Exact zero-allocation assertions that tolerate the runtime's one-off tiering bookkeeping.</summary>
internal static class AllocationAssert
{
    /// <summary>
    /// Asserts that <paramref name="body"/> allocates no managed bytes on this thread once warm. Tiered compilation may
    /// charge a one-off allocation to the thread that crosses a call-count threshold, so this warms up past those
    /// thresholds and measures up to three times: an allocation that happens on every call shows in every attempt and
    /// fails; a one-off does not come back.
    /// </summary>
    public static void Zero(Action body, int iterations = 20, int warmup = 64) => Zero(body, static () => 0, iterations, warmup);

    /// <summary>
    /// As <see cref="Zero(Action, int, int)"/>, counting also the bytes <paramref name="otherThreads"/> reports (a
    /// running total, e.g. a worker pool's), since tiering may charge its one-off to a worker that crosses a threshold.
    /// </summary>
    public static void Zero(Action body, Func<long> otherThreads, int iterations = 20, int warmup = 64)
    {
        for (int i = 0; i < warmup; i++)
        {
            body();
        }

        long allocated = 0;
        for (int attempt = 0; attempt < 3; attempt++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread() + otherThreads();
            for (int i = 0; i < iterations; i++)
            {
                body();
            }

            allocated = GC.GetAllocatedBytesForCurrentThread() + otherThreads() - before;
            if (allocated == 0)
            {
                return;
            }
        }

        Assert.Fail($"{allocated} bytes allocated over {iterations} calls, in each of 3 attempts");
    }

    /// <summary>
    /// The bytes <paramref name="body"/> allocates on this thread over <paramref name="iterations"/> warm calls, by the
    /// same rule as <see cref="Zero(Action, int, int)"/>: the least of three attempts, so a one-off tiering allocation
    /// does not count and one made on every call does.
    /// </summary>
    public static long Bytes(Action body, int iterations = 1, int warmup = 4)
    {
        for (int i = 0; i < warmup; i++)
        {
            body();
        }

        long least = long.MaxValue;
        for (int attempt = 0; attempt < 3 && least != 0; attempt++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < iterations; i++)
            {
                body();
            }

            least = Math.Min(least, GC.GetAllocatedBytesForCurrentThread() - before);
        }

        return least;
    }
}
