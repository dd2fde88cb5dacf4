namespace RecurrentCore.Tests.Serving;

/// <summary>
/// Holds the thread pool at a fixed size, every idle thread warm, for a process-wide allocation measurement. A pool
/// thread allocates its work queue and thread-locals (a few hundred bytes) when it runs its first work item, and the
/// pool adds threads whenever its hill climbing or starvation detection decides to, which on a loaded machine happens
/// in the middle of a measurement (368 B in one async-steps run): with minimum = maximum and each idle thread made to run
/// an item beforehand, no thread is created or first used while the measurement runs. Restores the limits on dispose.
/// </summary>
internal sealed class SteadyThreadPool : IDisposable
{
    private readonly int _minWorkers, _minIo, _maxWorkers, _maxIo;

    /// <param name="spare">Threads to have free beyond those busy now (the test runner may hold some blocked).</param>
    public SteadyThreadPool(int spare)
    {
        ThreadPool.GetMinThreads(out _minWorkers, out _minIo);
        ThreadPool.GetMaxThreads(out _maxWorkers, out _maxIo);
        Threads = Math.Max(ThreadPool.ThreadCount + spare, Environment.ProcessorCount);
        if (!ThreadPool.SetMinThreads(Threads, _minIo) || !ThreadPool.SetMaxThreads(Threads, _maxIo))
        {
            Dispose();
            throw new InvalidOperationException($"cannot fix the thread pool at {Threads} threads");
        }

        // Blocking items, one at a time, until one does not start: then every thread is busy, ours or the runner's, and
        // each idle one has run an item. Not disposed: a released item may still be inside Wait when this returns.
        var release = new ManualResetEventSlim();
        bool started = true;
        for (int i = 0; i < Threads && started; i++)
        {
            var running = new ManualResetEventSlim();
            ThreadPool.UnsafeQueueUserWorkItem(
                _ =>
                {
                    running.Set();
                    release.Wait();
                },
                null);
            started = running.Wait(TimeSpan.FromSeconds(2));
        }

        release.Set();
    }

    /// <summary>The fixed number of pool threads.</summary>
    public int Threads { get; }

    public void Dispose()
    {
        ThreadPool.SetMaxThreads(_maxWorkers, _maxIo);
        ThreadPool.SetMinThreads(_minWorkers, _minIo);
    }
}
