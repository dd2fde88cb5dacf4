using System.Threading.Tasks.Sources;

namespace RecurrentCore.Serving;

/// <summary>Where a slot's current step stands. Every change happens under the pool's lock.</summary>
internal enum SlotState
{
    /// <summary>No step outstanding: the owner may submit, reset or read the state.</summary>
    Idle,

    /// <summary>Submitted, waiting to be gathered into a batch (cancellable).</summary>
    Pending,

    /// <summary>Taken into a batch by a worker; completes whatever happens next.</summary>
    InBatch,

    /// <summary>Completed (output in <see cref="SessionSlot.Y"/> or <see cref="SessionSlot.Error"/> set), not yet consumed.</summary>
    Done,
}

/// <summary>
/// One session's storage, allocated once with the pool and reused by the sessions that hold it in turn: its state,
/// its staged input and output, and the two ways a caller waits (an event for <see cref="PoolSession.Step"/>, a
/// reusable value-task source for <see cref="PoolSession.StepAsync"/>), so a step allocates nothing.
/// </summary>
internal sealed class SessionSlot : IValueTaskSource, IThreadPoolWorkItem
{
    private readonly StreamPool _pool;
    private ManualResetValueTaskSourceCore<bool> _core;

    public SessionSlot(StreamPool pool, int index, int layers, int input, int hidden, bool hasCell)
    {
        _pool = pool;
        Index = index;
        H = new float[layers * hidden];
        C = hasCell ? new float[layers * hidden] : [];
        X = new float[input];
        Y = new float[hidden];
        // Completion is already on a thread-pool thread (Execute), so continuations run there inline.
        _core.RunContinuationsAsynchronously = false;
    }

    public int Index { get; }

    public StreamPool Pool => _pool;

    /// <summary>(L, H): each layer's hidden state.</summary>
    public float[] H { get; }

    /// <summary>(L, H): each layer's cell state (LSTM), else empty.</summary>
    public float[] C { get; }

    /// <summary>The submitted step's input (I).</summary>
    public float[] X { get; }

    /// <summary>The completed step's output (H).</summary>
    public float[] Y { get; }

    public SlotState State { get; set; }

    /// <summary>Bumped on every release, so a closed session's handle never reaches the next holder.</summary>
    public int Generation { get; set; }

    /// <summary>The session was closed while a step was outstanding; the slot is released when that step is consumed.</summary>
    public bool Closing { get; set; }

    /// <summary>Why the outstanding step failed (cancelled, closed, pool disposed, a fault in the batch).</summary>
    public Exception? Error { get; set; }

    /// <summary>Stopwatch timestamp of the submission (the gathering window runs from the oldest).</summary>
    public long SubmittedAt { get; set; }

    /// <summary>Whether the outstanding step was submitted by <see cref="PoolSession.StepAsync"/>.</summary>
    public bool IsAsync { get; set; }

    /// <summary>Where <see cref="PoolSession.StepAsync"/> wants its output.</summary>
    public Memory<float> Target { get; set; }

    public CancellationTokenRegistration Registration { get; set; }

    /// <summary>Signalled when a synchronous step completes.</summary>
    public ManualResetEventSlim Completed { get; } = new(false, 0);

    public short PrepareAsync()
    {
        _core.Reset();
        return _core.Version;
    }

    /// <summary>Wakes the waiter; the caller holds no lock. Async waiters resume on the thread pool, never on a worker.</summary>
    public void Signal()
    {
        if (IsAsync)
        {
            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
        }
        else
        {
            Completed.Set();
        }
    }

    void IThreadPoolWorkItem.Execute() => _core.SetResult(true);

    ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
        => _core.OnCompleted(continuation, state, token, flags);

    void IValueTaskSource.GetResult(short token)
    {
        _core.GetResult(token);
        _pool.ConsumeAsync(this);
    }
}
