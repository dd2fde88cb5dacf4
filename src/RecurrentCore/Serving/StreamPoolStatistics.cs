namespace RecurrentCore.Serving;

/// <summary>A snapshot of a <see cref="StreamPool"/>'s counters.</summary>
/// <param name="Steps">Session steps completed since the pool was created.</param>
/// <param name="Batches">Batched products stepped (<c>Steps / Batches</c> is the mean batch).</param>
/// <param name="OpenSessions">Sessions open now.</param>
/// <param name="Pending">Steps waiting to be gathered now.</param>
public readonly record struct StreamPoolStatistics(long Steps, long Batches, int OpenSessions, int Pending);
