using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using RecurrentCore.Layers;

namespace RecurrentCore.Serving;

/// <summary>
/// Many independent streams through one unidirectional <see cref="RecurrentLayer"/>, each a <see cref="PoolSession"/>
/// with its own state, whose single-sample steps are gathered and stepped together as one batched product: one read
/// of the weights serves every session in the batch instead of one GEMV per session.
/// </summary>
/// <remarks>
/// <para>Gathering: a worker takes the waiting steps (oldest first, at most <see cref="StreamPoolOptions.MaxBatch"/>)
/// as soon as the batch is full, or every open session not already in a batch is waiting, or the oldest has waited
/// <see cref="StreamPoolOptions.GatherWindow"/>. It copies their states into the rows of a batched
/// <see cref="StreamState"/>, steps it once, copies the states and outputs back, and completes each step.</para>
/// <para>Numerics: every batch, even a batch of one session, runs the layer's batched (GEMM) path, whose rows do not
/// depend on each other or on the row count. So a session's outputs are bitwise identical to stepping it alone in a
/// <see cref="StreamState"/> of two or more rows on the same kernel variant, whatever sessions share its batches and
/// however many workers run. A one-row <see cref="StreamState"/> runs GEMVs, which round differently: against it (and
/// against the double reference) outputs agree within the fast path's documented bound (relative 1e-5, docs/numerics.md).</para>
/// <para>Steady state allocates nothing: sessions' storage, batch buffers and the objects callers wait on are allocated
/// when the pool is built (<see cref="Open"/> allocates one small handle). Bad input (wrong length, a non-finite
/// value) is refused on the caller's thread before anything is submitted, so it never reaches another session.
/// Thread-safe: any thread may open, step and close sessions.</para>
/// </remarks>
public sealed class StreamPool : IDisposable
{
    private readonly object _gate = new();
    private readonly SessionSlot[] _slots;
    private readonly int[] _free;
    private readonly int[] _pending;
    private readonly Thread[] _workers;
    private readonly long _windowTicks;
    private readonly int _maxBatch;
    private readonly int _input;
    private readonly int _hidden;
    private readonly int _stateLength;
    private readonly bool _hasCell;
    private int _freeCount;
    private int _pendingCount;
    private int _open;
    private int _inBatch;
    private long _steps;
    private long _batches;
    private long _nextId;
    private volatile bool _disposed;

    /// <summary>Builds a pool over <paramref name="layer"/>, allocating every session's storage and each worker's buffers, and starts the workers.</summary>
    /// <param name="layer">A unidirectional layer; it is shared, never changed.</param>
    /// <param name="options">The bounds; defaults to <see cref="StreamPoolOptions"/>' defaults.</param>
    /// <exception cref="ArgumentNullException"><paramref name="layer"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    /// <exception cref="InvalidOperationException">The layer is bidirectional (its reverse direction needs the whole sequence).</exception>
    public StreamPool(RecurrentLayer layer, StreamPoolOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(layer);
        options ??= new StreamPoolOptions();
        options.Validate();
        var cfg = layer.Config;
        if (cfg.Bidirectional)
        {
            throw new InvalidOperationException("a bidirectional layer cannot stream: its reverse direction needs the whole sequence");
        }

        Layer = layer;
        Options = options;
        _input = cfg.InputSize;
        _hidden = cfg.HiddenSize;
        _hasCell = cfg.Cell == CellKind.Lstm;
        _stateLength = cfg.NumLayers * cfg.HiddenSize;
        _maxBatch = Math.Min(options.MaxBatch, options.MaxSessions);
        _windowTicks = (long)(options.GatherWindow.TotalSeconds * Stopwatch.Frequency);
        _slots = new SessionSlot[options.MaxSessions];
        _free = new int[options.MaxSessions];
        _pending = new int[options.MaxSessions];
        for (int i = 0; i < _slots.Length; i++)
        {
            _slots[i] = new SessionSlot(this, i, cfg.NumLayers, _input, _hidden, _hasCell);
            _free[i] = _slots.Length - 1 - i;
        }

        _freeCount = _slots.Length;
        var steppers = new BatchStepper[options.Workers];
        for (int w = 0; w < steppers.Length; w++)
        {
            steppers[w] = new BatchStepper(layer, _maxBatch);
        }

        _workers = new Thread[options.Workers];
        for (int w = 0; w < _workers.Length; w++)
        {
            var stepper = steppers[w];
            _workers[w] = new Thread(() => Work(stepper)) { IsBackground = true, Name = $"StreamPool worker {w}" };
            _workers[w].Start();
        }
    }

    /// <summary>The layer every session steps through.</summary>
    public RecurrentLayer Layer { get; }

    /// <summary>The bounds this pool was built with.</summary>
    public StreamPoolOptions Options { get; }

    /// <summary>I: values per step's input.</summary>
    public int InputSize => _input;

    /// <summary>H: values per step's output (the top layer's hidden state).</summary>
    public int HiddenSize => _hidden;

    /// <summary>L·H: values in a session's hidden state (and, for LSTM, in its cell state).</summary>
    public int StateLength => _stateLength;

    /// <summary>The most sessions open at once.</summary>
    public int MaxSessions => _slots.Length;

    /// <summary>Bytes of per-session storage (state, staged input and output) the pool holds for each of <see cref="MaxSessions"/>.</summary>
    public long BytesPerSession => sizeof(float) * ((long)_stateLength * (_hasCell ? 2 : 1) + _input + _hidden);

    /// <summary>Sessions open now.</summary>
    public int OpenSessions => Volatile.Read(ref _open);

    /// <summary>Whether <see cref="Dispose"/> has been called.</summary>
    public bool IsDisposed => _disposed;

    /// <summary>The counters now.</summary>
    public StreamPoolStatistics Statistics
    {
        get
        {
            lock (_gate)
            {
                return new StreamPoolStatistics(_steps, _batches, _open, _pendingCount);
            }
        }
    }

    /// <summary>Opens a session with a zero state.</summary>
    /// <returns>The session; close it to free its place.</returns>
    /// <exception cref="InvalidOperationException">The pool already holds <see cref="MaxSessions"/> sessions.</exception>
    /// <exception cref="ObjectDisposedException">The pool is disposed.</exception>
    public PoolSession Open() => TryOpen(out var session)
        ? session
        : throw new InvalidOperationException($"the stream pool is full: {MaxSessions} sessions are open");

    /// <summary>Opens a session with a zero state if the pool has room.</summary>
    /// <param name="session">The session, or null when the pool is full.</param>
    /// <returns>Whether a session was opened.</returns>
    /// <exception cref="ObjectDisposedException">The pool is disposed.</exception>
    public bool TryOpen([NotNullWhen(true)] out PoolSession? session)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_freeCount == 0)
            {
                session = null;
                return false;
            }

            var slot = _slots[_free[--_freeCount]];
            Array.Clear(slot.H);
            Array.Clear(slot.C);
            slot.State = SlotState.Idle;
            slot.Closing = false;
            slot.Error = null;
            _open++;
            session = new PoolSession(this, slot, ++_nextId);
            return true;
        }
    }

    /// <summary>Stops the workers after their current batch; waiting steps fail with <see cref="ObjectDisposedException"/>.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            Monitor.PulseAll(_gate);
        }

        foreach (var t in _workers)
        {
            t.Join();
        }

        SessionSlot[] failed;
        lock (_gate)
        {
            failed = new SessionSlot[_pendingCount];
            for (int i = 0; i < _pendingCount; i++)
            {
                var slot = _slots[_pending[i]];
                slot.Error = new ObjectDisposedException(nameof(StreamPool), "the stream pool was disposed before this step was stepped");
                slot.State = SlotState.Done;
                failed[i] = slot;
            }

            _pendingCount = 0;
        }

        foreach (var slot in failed)
        {
            slot.Signal();
        }
    }

    internal void Step(PoolSession session, ReadOnlySpan<float> x, Span<float> y, CancellationToken cancellationToken)
    {
        CheckInput(x);
        CheckOutput(y.Length, nameof(y));
        var slot = session.Slot;
        lock (_gate)
        {
            Submit(session, x, isAsync: false);
        }

        if (cancellationToken.CanBeCanceled)
        {
            try
            {
                slot.Completed.Wait(cancellationToken);
            }
            catch (OperationCanceledException e) when (e.CancellationToken == cancellationToken)
            {
                WithdrawCancelled(slot, e);
                slot.Completed.Wait(CancellationToken.None);
            }
        }
        else
        {
            slot.Completed.Wait(CancellationToken.None);
        }

        var error = slot.Error;
        if (error is null)
        {
            slot.Y.CopyTo(y);
        }

        Consume(slot);
        if (error is not null)
        {
            throw error;
        }
    }

    internal ValueTask StepAsync(PoolSession session, ReadOnlyMemory<float> x, Memory<float> y, CancellationToken cancellationToken)
    {
        CheckInput(x.Span);
        CheckOutput(y.Length, nameof(y));
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        var slot = session.Slot;
        short token;
        lock (_gate)
        {
            token = Submit(session, x.Span, isAsync: true);
            slot.Target = y;
        }

        if (cancellationToken.CanBeCanceled)
        {
            slot.Registration = cancellationToken.UnsafeRegister(
                static (state, ct) => ((SessionSlot)state!).Pool.Withdraw(
                    (SessionSlot)state!,
                    () => new OperationCanceledException("the step was cancelled before it was gathered into a batch", ct),
                    signal: true),
                slot);
        }

        return new ValueTask(slot, token);
    }

    /// <summary>Called from the async waiter's GetResult: hands the output over and frees the session for its next step.</summary>
    internal void ConsumeAsync(SessionSlot slot)
    {
        var registration = slot.Registration;
        slot.Registration = default;
        // After Dispose no cancellation callback runs, so none can see this slot change hands.
        registration.Dispose();
        var error = slot.Error;
        if (error is null)
        {
            slot.Y.CopyTo(slot.Target.Span);
        }

        slot.Target = default;
        Consume(slot);
        if (error is not null)
        {
            throw error;
        }
    }

    internal void Reset(PoolSession session)
    {
        lock (_gate)
        {
            var slot = Owned(session);
            Array.Clear(slot.H);
            Array.Clear(slot.C);
        }
    }

    internal void CopyState(PoolSession session, Span<float> h, Span<float> c)
    {
        CheckState(h.Length, c.Length);
        lock (_gate)
        {
            var slot = Owned(session);
            slot.H.CopyTo(h);
            if (_hasCell)
            {
                slot.C.CopyTo(c);
            }
        }
    }

    internal void SetState(PoolSession session, ReadOnlySpan<float> h, ReadOnlySpan<float> c)
    {
        CheckState(h.Length, c.Length);
        CheckFinite(h, "h");
        if (_hasCell)
        {
            CheckFinite(c, "c");
        }

        lock (_gate)
        {
            var slot = Owned(session);
            h.CopyTo(slot.H);
            if (_hasCell)
            {
                c.CopyTo(slot.C);
            }
        }
    }

    internal void Close(PoolSession session)
    {
        var slot = session.Slot;
        bool signal = false;
        lock (_gate)
        {
            if (session.ClosedFlag)
            {
                return;
            }

            session.MarkClosed();
            if (_disposed || slot.Generation != session.Generation)
            {
                return;
            }

            _open--;
            switch (slot.State)
            {
                case SlotState.Idle:
                    Release(slot);
                    break;
                case SlotState.Pending:
                    RemovePending(slot);
                    slot.Error = new ObjectDisposedException(nameof(PoolSession), $"session {session.Id} was closed before its step was stepped");
                    slot.State = SlotState.Done;
                    slot.Closing = true;
                    signal = true;
                    break;
                default:
                    // In a batch or completed: the slot is freed once the waiter has taken the result.
                    slot.Closing = true;
                    break;
            }

            // One fewer session to wait for may complete a batch.
            if (_pendingCount > 0 && ReadyToFire())
            {
                Monitor.PulseAll(_gate);
            }
        }

        if (signal)
        {
            slot.Signal();
        }
    }

    // Apart from Step, so that the closure is allocated only when a step is cancelled.
    private void WithdrawCancelled(SessionSlot slot, OperationCanceledException e) =>
        Withdraw(slot, () => new OperationCanceledException("the step was cancelled before it was gathered into a batch", e, e.CancellationToken), signal: false);

    /// <summary>Withdraws a still-waiting step (cancellation); a step already in a batch is left to complete.</summary>
    private void Withdraw(SessionSlot slot, Func<Exception> error, bool signal)
    {
        lock (_gate)
        {
            if (slot.State != SlotState.Pending)
            {
                return;
            }

            RemovePending(slot);
            slot.Error = error();
            slot.State = SlotState.Done;
        }

        if (signal)
        {
            slot.Signal();
        }
        else
        {
            slot.Completed.Set();
        }
    }

    private short Submit(PoolSession session, ReadOnlySpan<float> x, bool isAsync)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var slot = session.Slot;
        if (session.ClosedFlag || slot.Generation != session.Generation)
        {
            throw new ObjectDisposedException(nameof(PoolSession), $"session {session.Id} is closed");
        }

        if (slot.State != SlotState.Idle)
        {
            throw new InvalidOperationException($"session {session.Id} already has a step outstanding: a session takes one step at a time");
        }

        short token = 0;
        if (isAsync)
        {
            token = slot.PrepareAsync();
        }
        else
        {
            slot.Completed.Reset();
        }

        x.CopyTo(slot.X);
        slot.IsAsync = isAsync;
        slot.Error = null;
        slot.State = SlotState.Pending;
        slot.SubmittedAt = Stopwatch.GetTimestamp();
        _pending[_pendingCount++] = slot.Index;
        if (_pendingCount == 1 || ReadyToFire())
        {
            Monitor.PulseAll(_gate);
        }

        return token;
    }

    private void Consume(SessionSlot slot)
    {
        lock (_gate)
        {
            slot.Error = null;
            slot.State = SlotState.Idle;
            if (slot.Closing)
            {
                Release(slot);
            }
        }
    }

    private void Release(SessionSlot slot)
    {
        slot.Generation++;
        slot.Closing = false;
        _free[_freeCount++] = slot.Index;
    }

    private void RemovePending(SessionSlot slot)
    {
        int i = Array.IndexOf(_pending, slot.Index, 0, _pendingCount);
        Debug.Assert(i >= 0, "a pending slot is in the queue");
        Array.Copy(_pending, i + 1, _pending, i, _pendingCount - i - 1);
        _pendingCount--;
    }

    private SessionSlot Owned(PoolSession session)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var slot = session.Slot;
        if (session.ClosedFlag || slot.Generation != session.Generation)
        {
            throw new ObjectDisposedException(nameof(PoolSession), $"session {session.Id} is closed");
        }

        if (slot.State != SlotState.Idle)
        {
            throw new InvalidOperationException($"session {session.Id} has a step outstanding");
        }

        return slot;
    }

    /// <summary>Under the lock: whether the waiting steps should be stepped now, without waiting out the window.</summary>
    private bool ReadyToFire() => _pendingCount >= _maxBatch || _pendingCount >= _open - _inBatch;

    private void Work(BatchStepper stepper)
    {
        var batch = new SessionSlot[_maxBatch];
        while (true)
        {
            int k;
            lock (_gate)
            {
                while (true)
                {
                    if (_disposed)
                    {
                        return;
                    }

                    if (_pendingCount == 0)
                    {
                        Monitor.Wait(_gate);
                        continue;
                    }

                    if (ReadyToFire())
                    {
                        break;
                    }

                    long wait = _slots[_pending[0]].SubmittedAt + _windowTicks - Stopwatch.GetTimestamp();
                    if (wait <= 0)
                    {
                        break;
                    }

                    // Monitor waits in whole milliseconds: round up, so the window is never cut short.
                    Monitor.Wait(_gate, (int)Math.Max(1, ((wait * 1000) + Stopwatch.Frequency - 1) / Stopwatch.Frequency));
                }

                k = Math.Min(_pendingCount, _maxBatch);
                for (int i = 0; i < k; i++)
                {
                    batch[i] = _slots[_pending[i]];
                    batch[i].State = SlotState.InBatch;
                }

                Array.Copy(_pending, k, _pending, 0, _pendingCount - k);
                _pendingCount -= k;
                _inBatch += k;
            }

            Exception? fault = null;
            try
            {
                stepper.Step(batch, k);
            }
            catch (Exception e)
            {
                // States are copied back only after a successful step, so a failed batch leaves every session as it was.
                fault = e;
            }

            lock (_gate)
            {
                _inBatch -= k;
                _steps += k;
                _batches++;
                for (int i = 0; i < k; i++)
                {
                    batch[i].State = SlotState.Done;
                    if (fault is not null)
                    {
                        batch[i].Error = new RecurrentCoreException($"the batched step failed: {fault.Message}", fault);
                    }
                }

                if (_pendingCount > 0 && ReadyToFire())
                {
                    Monitor.PulseAll(_gate);
                }
            }

            for (int i = 0; i < k; i++)
            {
                batch[i].Signal();
                batch[i] = null!;
            }
        }
    }

    private void CheckInput(ReadOnlySpan<float> x)
    {
        if (x.Length != _input)
        {
            throw new ArgumentException($"x has {x.Length} values, expected I = {_input}", nameof(x));
        }

        CheckFinite(x, nameof(x));
    }

    private static void CheckFinite(ReadOnlySpan<float> v, string name)
    {
        for (int i = 0; i < v.Length; i++)
        {
            if (!float.IsFinite(v[i]))
            {
                throw new ArgumentException($"{name}[{i}] is {v[i]}: every value must be finite", name);
            }
        }
    }

    private void CheckOutput(int length, string name)
    {
        if (length != _hidden)
        {
            throw new ArgumentException($"{name} has {length} values, expected H = {_hidden}", name);
        }
    }

    private void CheckState(int h, int c)
    {
        if (h != _stateLength)
        {
            throw new ArgumentException($"h has {h} values, expected L·H = {_stateLength}", nameof(h));
        }

        if (_hasCell && c != _stateLength)
        {
            throw new ArgumentException($"c has {c} values, expected L·H = {_stateLength}", nameof(c));
        }
    }
}
