namespace RecurrentCore.Serving;

/// <summary>
/// One stream of a <see cref="StreamPool"/>: its own recurrent state, stepped one sample at a time together with the
/// other sessions' steps. One step at a time per session (a stream's next step needs this one's state); any thread
/// may submit it. Closing (or disposing) frees the session's place in the pool.
/// </summary>
public sealed class PoolSession : IDisposable
{
    private readonly StreamPool _pool;
    private volatile bool _closed;

    internal PoolSession(StreamPool pool, SessionSlot slot, long id)
    {
        _pool = pool;
        Slot = slot;
        Generation = slot.Generation;
        Id = id;
    }

    /// <summary>The pool's running number for this session (unique for the pool's lifetime).</summary>
    public long Id { get; }

    /// <summary>The pool this session steps in.</summary>
    public StreamPool Pool => _pool;

    /// <summary>Whether <see cref="Close"/> has been called (or the pool disposed).</summary>
    public bool IsClosed => _closed || _pool.IsDisposed;

    internal SessionSlot Slot { get; }

    internal int Generation { get; }

    /// <summary>
    /// One time step, waiting for it: <c>x</c> (I) is gathered with the other sessions' waiting steps, stepped as one
    /// batched product from this session's state, and the new top-layer hidden state is written to <c>y</c> (H).
    /// </summary>
    /// <param name="x">The input, I values, all finite. Copied before the call waits.</param>
    /// <param name="y">Receives the output, H values.</param>
    /// <param name="cancellationToken">Withdraws the step while it is still waiting to be gathered (the state is then
    /// unchanged and <see cref="OperationCanceledException"/> is thrown); once gathered, the step completes.</param>
    /// <exception cref="ArgumentException">x is not I values, y is not H values, or x holds a non-finite value.</exception>
    /// <exception cref="ObjectDisposedException">The session is closed or the pool disposed.</exception>
    /// <exception cref="InvalidOperationException">A step of this session is already outstanding.</exception>
    /// <exception cref="OperationCanceledException">Cancelled before the step was gathered.</exception>
    public void Step(ReadOnlySpan<float> x, Span<float> y, CancellationToken cancellationToken = default)
        => _pool.Step(this, x, y, cancellationToken);

    /// <summary>
    /// One time step, asynchronously: as <see cref="Step"/>, completing when the step's batch has been stepped. The
    /// returned task must be awaited (once) before the next step; it allocates nothing.
    /// </summary>
    /// <param name="x">The input, I values, all finite. Copied before the call returns.</param>
    /// <param name="y">Receives the output, H values, when the task completes.</param>
    /// <param name="cancellationToken">Withdraws the step while it is still waiting to be gathered.</param>
    /// <returns>A task that completes when <paramref name="y"/> holds the output.</returns>
    /// <exception cref="ArgumentException">x is not I values, y is not H values, or x holds a non-finite value (thrown
    /// by the call itself, before anything is submitted).</exception>
    /// <exception cref="ObjectDisposedException">The session is closed or the pool disposed.</exception>
    /// <exception cref="InvalidOperationException">A step of this session is already outstanding.</exception>
    public ValueTask StepAsync(ReadOnlyMemory<float> x, Memory<float> y, CancellationToken cancellationToken = default)
        => _pool.StepAsync(this, x, y, cancellationToken);

    /// <summary>Sets this session's state (every layer's h and, for LSTM, c) to zero.</summary>
    /// <exception cref="ObjectDisposedException">The session is closed.</exception>
    /// <exception cref="InvalidOperationException">A step is outstanding.</exception>
    public void Reset() => _pool.Reset(this);

    /// <summary>Copies this session's hidden state (L, H) into <paramref name="h"/> and, for LSTM, its cell state into <paramref name="c"/>.</summary>
    /// <param name="h">L·H values.</param>
    /// <param name="c">L·H values for LSTM; ignored (may be empty) otherwise.</param>
    /// <exception cref="ArgumentException">A span has the wrong length.</exception>
    /// <exception cref="ObjectDisposedException">The session is closed.</exception>
    /// <exception cref="InvalidOperationException">A step is outstanding.</exception>
    public void CopyState(Span<float> h, Span<float> c) => _pool.CopyState(this, h, c);

    /// <summary>Sets this session's state from <paramref name="h"/> (L, H) and, for LSTM, <paramref name="c"/>.</summary>
    /// <param name="h">L·H finite values.</param>
    /// <param name="c">L·H finite values for LSTM; ignored (may be empty) otherwise.</param>
    /// <exception cref="ArgumentException">A span has the wrong length or holds a non-finite value.</exception>
    /// <exception cref="ObjectDisposedException">The session is closed.</exception>
    /// <exception cref="InvalidOperationException">A step is outstanding.</exception>
    public void SetState(ReadOnlySpan<float> h, ReadOnlySpan<float> c) => _pool.SetState(this, h, c);

    /// <summary>
    /// Closes the session and frees its place. A step still waiting to be gathered is withdrawn and fails with
    /// <see cref="ObjectDisposedException"/>; one already in a batch completes first. Idempotent.
    /// </summary>
    public void Close()
    {
        if (!_closed)
        {
            _pool.Close(this);
        }
    }

    /// <summary>Same as <see cref="Close"/>.</summary>
    public void Dispose() => Close();

    internal void MarkClosed() => _closed = true;

    internal bool ClosedFlag => _closed;
}
