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
        long allocated = Least(body, () => GC.GetAllocatedBytesForCurrentThread() + otherThreads(), iterations, warmup, ThreadAttempts);
        if (allocated != 0)
        {
            Assert.Fail($"{allocated} bytes allocated over {iterations} calls, in each of {ThreadAttempts} attempts (the least shown)");
        }
    }

    /// <summary>
    /// Asserts that the whole process allocates nothing while <paramref name="body"/> runs, once warm (for work spread
    /// over threads that cannot be named, such as async continuations; the caller keeps other tests from running).
    /// Five attempts, not three: a process-wide count also sees the runtime's own occasional work on other threads (seen
    /// once in a run at load 120); an allocation on every call still shows in every attempt.
    /// </summary>
    public static void ZeroInProcess(Action body, string what, int iterations = 200, int warmup = 300)
    {
        long allocated = Least(body, static () => GC.GetTotalAllocatedBytes(precise: true), iterations, warmup, ProcessAttempts);
        if (allocated != 0)
        {
            Assert.Fail($"{what}: {allocated} bytes allocated in the process over {iterations} calls, in each of {ProcessAttempts} attempts (the least shown)");
        }
    }

    /// <summary>
    /// The bytes <paramref name="body"/> allocates on this thread over <paramref name="iterations"/> warm calls, by the
    /// same rule as <see cref="Zero(Action, int, int)"/>: the least of three attempts, so a one-off tiering allocation
    /// does not count and one made on every call does.
    /// </summary>
    public static long Bytes(Action body, int iterations = 1, int warmup = 4) =>
        Least(body, static () => GC.GetAllocatedBytesForCurrentThread(), iterations, warmup, ThreadAttempts);

    private const int ThreadAttempts = 3, ProcessAttempts = 5;

    /// <summary>Warms up, then the least that <paramref name="counter"/> (a running total) grows over the calls, in up to <paramref name="attempts"/> attempts (stopping at zero).</summary>
    private static long Least(Action body, Func<long> counter, int iterations, int warmup, int attempts)
    {
        for (int i = 0; i < warmup; i++)
        {
            body();
        }

        long least = long.MaxValue;
        for (int attempt = 0; attempt < attempts && least != 0; attempt++)
        {
            long before = counter();
            for (int i = 0; i < iterations; i++)
            {
                body();
            }

            least = Math.Min(least, counter() - before);
        }

        return least;
    }
}
