using RecurrentCore.Kernels;
using RecurrentCore.Serving;
using Xunit;

namespace RecurrentCore.Tests.Serving;

/// <summary>Open, step, reset, close; bounds; bad input and misuse refused without touching other sessions; cancellation; disposal.</summary>
public class StreamPoolLifecycleTests
{
    private static PoolHarness Harness(int sessions = 3, int steps = 6) =>
        new(KernelCatalog.Active, CellKind.Lstm, input: 4, hidden: 9, layers: 2, sessions, steps, seed: 12);

    [Fact]
    public void Bad_input_is_refused_with_a_clear_error_and_disturbs_no_session()
    {
        var hx = Harness();
        int h = hx.Config.HiddenSize;
        using var pool = new StreamPool(hx.Layer, new StreamPoolOptions { MaxSessions = 3 });
        using var good = pool.Open();
        using var bad = pool.Open();
        var y = new float[h];
        var goodOut = new float[hx.Steps * h];
        var badOut = new float[hx.Steps * h];
        for (int t = 0; t < hx.Steps; t++)
        {
            var e1 = Assert.Throws<ArgumentException>(() => bad.Step(new float[3], y));
            Assert.Equal("x has 3 values, expected I = 4 (Parameter 'x')", e1.Message);
            var nan = hx.X(1, t).ToArray();
            nan[2] = float.NaN;
            var e2 = Assert.Throws<ArgumentException>(() => bad.Step(nan, y));
            Assert.StartsWith("x[2] is NaN: every value must be finite", e2.Message, StringComparison.Ordinal);
            nan[2] = float.NegativeInfinity;
            Assert.Throws<ArgumentException>(() => { _ = bad.StepAsync(nan, y).AsTask(); });
            var e3 = Assert.Throws<ArgumentException>(() => bad.Step(hx.X(1, t), new float[h + 1]));
            Assert.StartsWith("y has 10 values, expected H = 9", e3.Message, StringComparison.Ordinal);

            good.Step(hx.X(0, t), goodOut.AsSpan(t * h, h));
            bad.Step(hx.X(1, t), badOut.AsSpan(t * h, h));
        }

        // Both sessions' outputs are exactly those of clean runs: the refused steps changed nothing.
        Assert.Equal(hx.AloneBatched(0), goodOut);
        Assert.Equal(hx.AloneBatched(1), badOut);
    }

    [Fact]
    public void Sessions_are_bounded_and_a_closed_session_frees_its_place_and_refuses_use()
    {
        var hx = Harness();
        using var pool = new StreamPool(hx.Layer, new StreamPoolOptions { MaxSessions = 2 });
        var a = pool.Open();
        var b = pool.Open();
        Assert.Equal(2, pool.OpenSessions);
        Assert.False(pool.TryOpen(out _));
        var full = Assert.Throws<InvalidOperationException>(() => pool.Open());
        Assert.Equal("the stream pool is full: 2 sessions are open", full.Message);

        var y = new float[hx.Config.HiddenSize];
        a.Step(hx.X(0, 0), y);
        a.Close();
        a.Close();
        Assert.True(a.IsClosed);
        var closed = Assert.Throws<ObjectDisposedException>(() => a.Step(hx.X(0, 1), y));
        Assert.Contains($"session {a.Id} is closed", closed.Message, StringComparison.Ordinal);

        // The freed place goes to a new session with a zero state; the old handle cannot reach it.
        using var c = pool.Open();
        Assert.NotEqual(a.Id, c.Id);
        Assert.Throws<ObjectDisposedException>(() => a.Reset());
        Assert.Throws<ObjectDisposedException>(() => { _ = a.StepAsync(hx.Inputs[0].AsMemory(0, 4), y).AsTask(); });
        var fresh = new float[hx.Steps * y.Length];
        for (int t = 0; t < hx.Steps; t++)
        {
            c.Step(hx.X(0, t), fresh.AsSpan(t * y.Length, y.Length));
        }

        Assert.Equal(hx.AloneBatched(0), fresh);
        b.Dispose();
        Assert.Equal(1, pool.OpenSessions);
    }

    [Fact]
    public void Reset_returns_to_the_zero_state_and_state_round_trips()
    {
        var hx = Harness();
        int h = hx.Config.HiddenSize, n = hx.Config.NumLayers * h;
        using var pool = new StreamPool(hx.Layer, new StreamPoolOptions { MaxSessions = 2 });
        using var s = pool.Open();
        var first = new float[h];
        var y = new float[h];
        s.Step(hx.X(0, 0), first);
        s.Step(hx.X(0, 1), y);
        var hs = new float[n];
        var cs = new float[n];
        s.CopyState(hs, cs);
        Assert.Equal(y, hs.AsSpan(n - h).ToArray());

        s.Reset();
        s.Step(hx.X(0, 0), y);
        Assert.Equal(first, y);

        // Restoring the saved state continues the sequence exactly where it was.
        s.SetState(hs, cs);
        var continued = new float[h];
        s.Step(hx.X(0, 2), continued);
        Assert.Equal(hx.AloneBatched(0).AsSpan(2 * h, h).ToArray(), continued);
        Assert.Throws<ArgumentException>(() => s.SetState(new float[n - 1], cs));
        cs[0] = float.PositiveInfinity;
        Assert.Throws<ArgumentException>(() => s.SetState(hs, cs));
    }

    [Fact]
    public async Task A_session_takes_one_step_at_a_time()
    {
        var hx = Harness();
        using var pool = new StreamPool(hx.Layer, new StreamPoolOptions { MaxSessions = 2, GatherWindow = TimeSpan.FromSeconds(30) });
        using var a = pool.Open();
        using var idle = pool.Open();
        var y = new float[hx.Config.HiddenSize];
        var step = a.StepAsync(hx.Inputs[0].AsMemory(0, 4), y).AsTask();
        var e = Assert.Throws<InvalidOperationException>(() => a.Step(hx.X(0, 1), y));
        Assert.Contains("already has a step outstanding", e.Message, StringComparison.Ordinal);
        Assert.Throws<InvalidOperationException>(() => a.Reset());

        // Closing the idle session leaves every open session waiting: the batch fires without the window.
        idle.Close();
        await step;
        Assert.Equal(1, pool.Statistics.Steps);
    }

    [Fact]
    public async Task Cancelling_a_waiting_step_withdraws_it_and_leaves_the_state_unchanged()
    {
        var hx = Harness();
        int h = hx.Config.HiddenSize;
        using var pool = new StreamPool(hx.Layer, new StreamPoolOptions { MaxSessions = 2, GatherWindow = TimeSpan.FromSeconds(30) });
        using var a = pool.Open();
        using var other = pool.Open();
        var y = new float[h];

        using (var cts = new CancellationTokenSource())
        {
            var step = a.StepAsync(hx.Inputs[0].AsMemory(0, 4), y, cts.Token).AsTask();
            Assert.False(step.IsCompleted);
            await cts.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => step);
        }

        using (var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(50)))
        {
            Assert.ThrowsAny<OperationCanceledException>(() => a.Step(hx.X(0, 0), y, cts.Token));
        }

        using (var cancelled = new CancellationTokenSource())
        {
            await cancelled.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => a.StepAsync(hx.Inputs[0].AsMemory(0, 4), y, cancelled.Token).AsTask());
        }

        Assert.Equal(0, pool.Statistics.Steps);
        // The withdrawn steps left no trace: the sequence starts from the zero state.
        other.Close();
        var outputs = new float[hx.Steps * h];
        for (int t = 0; t < hx.Steps; t++)
        {
            await a.StepAsync(hx.Inputs[0].AsMemory(t * 4, 4), outputs.AsMemory(t * h, h));
        }

        Assert.Equal(hx.AloneBatched(0), outputs);
    }

    [Fact]
    public async Task Closing_a_session_fails_its_waiting_step()
    {
        var hx = Harness();
        using var pool = new StreamPool(hx.Layer, new StreamPoolOptions { MaxSessions = 3, GatherWindow = TimeSpan.FromSeconds(30) });
        var a = pool.Open();
        using var b = pool.Open();
        using var c = pool.Open();
        var y = new float[hx.Config.HiddenSize];
        var step = a.StepAsync(hx.Inputs[0].AsMemory(0, 4), y).AsTask();
        a.Close();
        var e = await Assert.ThrowsAsync<ObjectDisposedException>(() => step);
        Assert.Contains("was closed before its step was stepped", e.Message, StringComparison.Ordinal);
        // Its place is free again once the failure was delivered.
        using var d = pool.Open();
        Assert.Equal(3, pool.OpenSessions);
    }

    [Fact]
    public async Task Disposing_the_pool_fails_waiting_steps_and_refuses_new_work()
    {
        var hx = Harness();
        var pool = new StreamPool(hx.Layer, new StreamPoolOptions { MaxSessions = 2, GatherWindow = TimeSpan.FromSeconds(30) });
        var a = pool.Open();
        _ = pool.Open();
        var y = new float[hx.Config.HiddenSize];
        var step = a.StepAsync(hx.Inputs[0].AsMemory(0, 4), y).AsTask();
        pool.Dispose();
        pool.Dispose();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => step);
        Assert.True(a.IsClosed);
        Assert.Throws<ObjectDisposedException>(() => pool.Open());
        Assert.Throws<ObjectDisposedException>(() => a.Step(hx.X(0, 0), y));
    }

    [Fact]
    public void Options_out_of_range_and_bidirectional_layers_are_refused()
    {
        var hx = Harness();
        Assert.Throws<ArgumentOutOfRangeException>(() => new StreamPool(hx.Layer, new StreamPoolOptions { MaxSessions = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new StreamPool(hx.Layer, new StreamPoolOptions { MaxBatch = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new StreamPool(hx.Layer, new StreamPoolOptions { Workers = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new StreamPool(hx.Layer, new StreamPoolOptions { GatherWindow = TimeSpan.FromTicks(-1) }));
        var bi = RecurrentCore.Layers.RecurrentLayer.FromParameters(new RecurrentParameters(new RecurrentConfig(CellKind.Gru, 2, 3, bidirectional: true)));
        var e = Assert.Throws<InvalidOperationException>(() => new StreamPool(bi));
        Assert.Contains("bidirectional", e.Message, StringComparison.Ordinal);
    }
}
