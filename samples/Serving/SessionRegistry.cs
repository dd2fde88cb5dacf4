using System.Collections.Concurrent;
using System.Security.Cryptography;
using RecurrentCore.Serving;

namespace RecurrentCore.Samples.Serving;

/// <summary>A session as the service sees it: the pool's session, when it was last used, and a token that eviction cancels.</summary>
internal sealed class SessionEntry(string id, PoolSession session) : IDisposable
{
    private readonly CancellationTokenSource _lifetime = new();
    private long _lastUsed = Environment.TickCount64;

    public string Id { get; } = id;

    public PoolSession Session { get; } = session;

    /// <summary>Cancelled when the session is evicted or closed (ends a WebSocket waiting for its next frame).</summary>
    public CancellationToken Lifetime => _lifetime.Token;

    public long LastUsed => Volatile.Read(ref _lastUsed);

    public void Touch() => Volatile.Write(ref _lastUsed, Environment.TickCount64);

    public void Dispose()
    {
        Session.Close();
        _lifetime.Cancel();
        _lifetime.Dispose();
    }
}

/// <summary>
/// Sessions by id, bounded by the pool's session count; sessions unused for the idle timeout are evicted (their pool
/// place freed), checked every quarter of the timeout.
/// </summary>
internal sealed class SessionRegistry : IDisposable
{
    private readonly ConcurrentDictionary<string, SessionEntry> _sessions = new(StringComparer.Ordinal);
    private readonly StreamPool _pool;
    private readonly TimeSpan _idle;
    private readonly Timer _evictor;
    private long _evicted;

    public SessionRegistry(StreamPool pool, TimeSpan idle)
    {
        _pool = pool;
        _idle = idle;
        var period = TimeSpan.FromTicks(Math.Max(idle.Ticks / 4, TimeSpan.TicksPerMillisecond * 100));
        _evictor = new Timer(_ => EvictIdle(), null, period, period);
    }

    public long Evicted => Interlocked.Read(ref _evicted);

    public SessionEntry? Open()
    {
        if (!_pool.TryOpen(out var session))
        {
            return null;
        }

        var entry = new SessionEntry(Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8)), session);
        _sessions[entry.Id] = entry;
        return entry;
    }

    public SessionEntry? Find(string id)
    {
        if (_sessions.TryGetValue(id, out var entry) && !entry.Session.IsClosed)
        {
            entry.Touch();
            return entry;
        }

        return null;
    }

    public bool Close(string id)
    {
        if (_sessions.TryRemove(id, out var entry))
        {
            entry.Dispose();
            return true;
        }

        return false;
    }

    public void EvictIdle()
    {
        long now = Environment.TickCount64;
        foreach (var (id, entry) in _sessions)
        {
            if (now - entry.LastUsed > _idle.TotalMilliseconds && Close(id))
            {
                Interlocked.Increment(ref _evicted);
            }
        }
    }

    public void Dispose()
    {
        _evictor.Dispose();
        foreach (var id in _sessions.Keys)
        {
            Close(id);
        }
    }
}
