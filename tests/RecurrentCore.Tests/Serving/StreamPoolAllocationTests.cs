using RecurrentCore.Kernels;
using RecurrentCore.Serving;
using Xunit;

namespace RecurrentCore.Tests.Serving;

/// <summary>
/// Steady-state steps allocate nothing in any thread of the process: the caller's, the worker's, or the thread-pool
/// thread an async completion runs on. GC.GetTotalAllocatedBytes is process-wide, so these run alone.
/// </summary>
[Collection(IsolatedAllocationGroup.Name)]
public class StreamPoolAllocationTests
{
    [Fact]
    public void Synchronous_steps_allocate_nothing_anywhere()
    {
        var hx = new PoolHarness(KernelCatalog.Active, CellKind.Lstm, input: 16, hidden: 32, layers: 2, sessions: 1, steps: 4, seed: 2);
        using var pool = new StreamPool(hx.Layer, new StreamPoolOptions { MaxSessions = 1 });
        using var s = pool.Open();
        var x = hx.Inputs[0].AsMemory(0, 16);
        var y = new float[32];
        AllocationAssert.ZeroInProcess(() => s.Step(x.Span, y), "sync step");
    }

    [Fact]
    public async Task Async_batched_steps_allocate_nothing_anywhere()
    {
        const int Sessions = 8;

        // The continuations run on pool threads: none may be created or run its first item while the bytes are counted.
        using var threads = new SteadyThreadPool(Sessions);
        var hx = new PoolHarness(KernelCatalog.Active, CellKind.Gru, input: 16, hidden: 32, layers: 1, Sessions, steps: 4, seed: 2);
        using var pool = new StreamPool(hx.Layer, new StreamPoolOptions { MaxSessions = Sessions, MaxBatch = Sessions, GatherWindow = TimeSpan.FromSeconds(30) });
        using var stop = new CancellationTokenSource();
        var loops = new Task[Sessions];
        for (int s = 0; s < Sessions; s++)
        {
            // Long-lived loops, as a service's sessions: each allocates its state machine once, at its first wait.
            loops[s] = Loop(pool.Open(), hx.Inputs[s].AsMemory(0, 16), new float[32], stop.Token);
        }

        void WaitSteps(long n)
        {
            long target = pool.Statistics.Steps + n;
            while (pool.Statistics.Steps < target)
            {
                Thread.Sleep(1);
            }
        }

        AllocationAssert.ZeroInProcess(() => WaitSteps(Sessions * 50), "async steps of 8 sessions", iterations: 4, warmup: 6);
        await stop.CancelAsync();
        await Task.WhenAll(loops);
    }

    private static async Task Loop(PoolSession session, ReadOnlyMemory<float> x, Memory<float> y, CancellationToken stop)
    {
        using (session)
        {
            while (!stop.IsCancellationRequested)
            {
                await session.StepAsync(x, y, CancellationToken.None).ConfigureAwait(false);
            }
        }
    }
}

/// <summary>Runs its classes alone: process-wide allocation counts mean something only while no other test runs.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class IsolatedAllocationGroup
{
    public const string Name = "Serving: isolated allocation measurements";
}
