namespace RecurrentCore.Serving;

/// <summary>The bounds of a <see cref="StreamPool"/>: how many sessions it holds and how it gathers their steps.</summary>
public sealed record StreamPoolOptions
{
    /// <summary>
    /// The most sessions open at once (default 64). Each holds its own state, so memory is bounded by
    /// <c>MaxSessions · <see cref="StreamPool.BytesPerSession"/></c> plus the workers' batch buffers.
    /// </summary>
    public int MaxSessions { get; init; } = 64;

    /// <summary>The most steps stepped as one batched product (default 64).</summary>
    public int MaxBatch { get; init; } = 64;

    /// <summary>
    /// How long the oldest waiting step may wait for others before its batch is stepped (default 1 ms). A batch is
    /// stepped earlier when it is full (<see cref="MaxBatch"/>) or when every open session not already in a batch has
    /// a step waiting, so a closed loop of clients never waits for the window.
    /// </summary>
    public TimeSpan GatherWindow { get; init; } = TimeSpan.FromMilliseconds(1);

    /// <summary>Threads that step batches, each its own batch at a time (default 1).</summary>
    public int Workers { get; init; } = 1;

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxSessions, 1, nameof(MaxSessions));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxBatch, 1, nameof(MaxBatch));
        ArgumentOutOfRangeException.ThrowIfLessThan(Workers, 1, nameof(Workers));
        ArgumentOutOfRangeException.ThrowIfLessThan(GatherWindow, TimeSpan.Zero, nameof(GatherWindow));
    }
}
