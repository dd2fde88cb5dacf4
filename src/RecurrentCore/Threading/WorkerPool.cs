using System.Runtime.ExceptionServices;

namespace RecurrentCore.Threading;

/// <summary>
/// A fixed set of background threads that run the parts of an <see cref="IParallelWork"/> with the calling thread
/// taking part 0. Dispatch allocates nothing (the work object and the events are reused), so a workspace that owns a
/// pool keeps steady-state calls allocation-free. Results never depend on the thread count as long as each part's
/// arithmetic does not (the callers split by whole rows).
/// </summary>
internal sealed class WorkerPool : IDisposable
{
    private readonly Thread[] _threads;
    private readonly ManualResetEventSlim[] _start;
    private readonly CountdownEvent _done;
    private IParallelWork? _work;
    private int _parts;
    private Exception? _error;
    private volatile bool _disposed;

    public WorkerPool(int threads)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        Threads = threads;
        _threads = new Thread[threads - 1];
        _start = new ManualResetEventSlim[threads - 1];
        _done = new CountdownEvent(1);
        for (int i = 0; i < _threads.Length; i++)
        {
            _start[i] = new ManualResetEventSlim(false);
            int worker = i + 1;
            _threads[i] = new Thread(() => Loop(worker)) { IsBackground = true, Name = $"RecurrentCore worker {worker}" };
            _threads[i].Start();
        }
    }

    private long _workerAllocatedBytes;

    /// <summary>Managed bytes the worker threads allocated inside work parts so far (for allocation tests).</summary>
    public long WorkerAllocatedBytes => Interlocked.Read(ref _workerAllocatedBytes);

    /// <summary>How many <see cref="Run"/> calls handed parts to worker threads (for tests that must see work split).</summary>
    public long SplitRuns { get; private set; }

    /// <summary>The number of threads, the caller's included.</summary>
    public int Threads { get; }

    /// <summary>Runs parts 0..parts−1 (parts ≤ <see cref="Threads"/>) and returns when all are done; rethrows the first failure.</summary>
    public void Run(IParallelWork work, int parts)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (parts <= 1 || _threads.Length == 0)
        {
            for (int p = 0; p < parts; p++)
            {
                work.Execute(p, parts);
            }

            return;
        }

        parts = Math.Min(parts, Threads);
        SplitRuns++;
        _work = work;
        _parts = parts;
        _error = null;
        _done.Reset(parts - 1);
        for (int i = 0; i < parts - 1; i++)
        {
            _start[i].Set();
        }

        try
        {
            work.Execute(0, parts);
        }
        catch (Exception e)
        {
            _error ??= e;
        }

        _done.Wait();
        _work = null;
        if (_error is not null)
        {
            ExceptionDispatchInfo.Throw(_error);
        }
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        foreach (var e in _start)
        {
            e.Set();
        }

        foreach (var t in _threads)
        {
            t.Join();
        }

        foreach (var e in _start)
        {
            e.Dispose();
        }

        _done.Dispose();
    }

    private void Loop(int worker)
    {
        var start = _start[worker - 1];
        while (true)
        {
            start.Wait();
            start.Reset();
            if (_disposed)
            {
                return;
            }

            long before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                _work!.Execute(worker, _parts);
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref _error, e, null);
            }
            finally
            {
                Interlocked.Add(ref _workerAllocatedBytes, GC.GetAllocatedBytesForCurrentThread() - before);
                _done.Signal();
            }
        }
    }
}
