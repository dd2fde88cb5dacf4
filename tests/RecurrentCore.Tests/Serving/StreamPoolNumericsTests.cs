using RecurrentCore.Kernels;
using RecurrentCore.Serving;
using Xunit;
using static RecurrentCore.Tests.Layers.FastPathHarness;

namespace RecurrentCore.Tests.Serving;

/// <summary>
/// Sessions stepped concurrently through a pool, in whatever batches the timing makes, against each session stepped
/// alone: bitwise against the batched product, within the fast-path bound against a one-row stream and the reference.
/// </summary>
[Trait("Category", "Kernels")]
public class StreamPoolNumericsTests
{
    public static TheoryData<KernelVariant, CellKind, int> Cases()
    {
        var data = new TheoryData<KernelVariant, CellKind, int>();
        foreach (var v in KernelCatalog.Supported)
        {
            data.Add(v, CellKind.Lstm, 1);
            data.Add(v, CellKind.Lstm, 2);
            data.Add(v, CellKind.Gru, 2);
            data.Add(v, CellKind.RnnTanh, 1);
            data.Add(v, CellKind.RnnRelu, 1);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Concurrent_sessions_match_each_session_stepped_alone(KernelVariant variant, CellKind cell, int layers)
    {
        const int Sessions = 7, T = 24;
        var hx = new PoolHarness(variant, cell, input: 5, hidden: 19, layers, Sessions, T, seed: 31);
        // Small batches, two workers and a short window: batches of every size from 1 to 3, mixed by the timing.
        using var pool = new StreamPool(hx.Layer, new StreamPoolOptions { MaxSessions = Sessions, MaxBatch = 3, Workers = 2, GatherWindow = TimeSpan.FromMicroseconds(200) });
        var outputs = RunConcurrently(pool, hx, Sessions, jitterSeed: 5);

        for (int s = 0; s < Sessions; s++)
        {
            var alone = hx.AloneBatched(s, companion: (s + 1) % Sessions);
            Assert.True(alone.AsSpan().SequenceEqual(outputs[s]), $"session {s}: pool differs from the batched product stepped alone");
            Assert.True(RelativeError(outputs[s], hx.Reference(s)) <= 1e-5, $"session {s}: reference {RelativeError(outputs[s], hx.Reference(s)):0.0e+0}");
            var oneRow = hx.AloneOneRow(s);
            Assert.True(RelativeError(outputs[s], Array.ConvertAll(oneRow, v => (double)v)) <= 1e-5, $"session {s}: one-row stream");
        }

        Assert.Equal(Sessions * T, pool.Statistics.Steps);
    }

    [Fact]
    public void Large_batches_pad_to_buckets_without_changing_bits()
    {
        // 20 sessions in batches of up to 20 rows: buckets of 16 and 24 rows with padding rows of stale data.
        const int Sessions = 20, T = 6;
        var hx = new PoolHarness(KernelCatalog.Active, CellKind.Lstm, input: 64, hidden: 40, layers: 1, Sessions, T, seed: 8);
        using var pool = new StreamPool(hx.Layer, new StreamPoolOptions { MaxSessions = Sessions, MaxBatch = 20, GatherWindow = TimeSpan.FromMilliseconds(2) });
        var outputs = RunConcurrently(pool, hx, Sessions, jitterSeed: 9);
        for (int s = 0; s < Sessions; s++)
        {
            Assert.True(hx.AloneBatched(s).AsSpan().SequenceEqual(outputs[s]), $"session {s}");
        }
    }

    [Fact]
    public async Task Gathering_steps_every_waiting_session_as_one_batch()
    {
        const int Sessions = 16, T = 5;
        var hx = new PoolHarness(KernelCatalog.Active, CellKind.Lstm, input: 8, hidden: 24, layers: 1, Sessions, T, seed: 3);
        // A window far longer than the test: a batch can only fire because every open session is waiting.
        using var pool = new StreamPool(hx.Layer, new StreamPoolOptions { MaxSessions = Sessions, MaxBatch = Sessions, GatherWindow = TimeSpan.FromSeconds(30) });
        var sessions = new PoolSession[Sessions];
        var y = new float[Sessions][];
        for (int s = 0; s < Sessions; s++)
        {
            sessions[s] = pool.Open();
            y[s] = new float[hx.Config.HiddenSize];
        }

        var pending = new Task[Sessions];
        for (int t = 0; t < T; t++)
        {
            for (int s = 0; s < Sessions; s++)
            {
                pending[s] = sessions[s].StepAsync(hx.Inputs[s].AsMemory(t * hx.Config.InputSize, hx.Config.InputSize), y[s]).AsTask();
            }

            await Task.WhenAll(pending);

            Assert.Equal(new StreamPoolStatistics(Sessions * (t + 1), t + 1, Sessions, 0), pool.Statistics);
        }

        // Fewer ready than open: the window decides (here a short one), and the lone step still completes.
        using var quick = new StreamPool(hx.Layer, new StreamPoolOptions { MaxSessions = 2, GatherWindow = TimeSpan.FromMilliseconds(5) });
        using var a = quick.Open();
        using var b = quick.Open();
        a.Step(hx.X(0, 0), y[0]);
        Assert.Equal(1, quick.Statistics.Batches);
    }

    /// <summary>Every session on its own thread, stepping its sequence with random pauses (sync and async steps mixed).</summary>
    internal static float[][] RunConcurrently(StreamPool pool, PoolHarness hx, int sessions, int jitterSeed)
    {
        int h = hx.Config.HiddenSize, inSize = hx.Config.InputSize;
        var outputs = new float[sessions][];
        var threads = new Thread[sessions];
        var errors = new Exception?[sessions];
        for (int s = 0; s < sessions; s++)
        {
            int session = s;
            outputs[s] = new float[hx.Steps * h];
            threads[s] = new Thread(() =>
            {
                try
                {
                    var rng = new Random(jitterSeed + session);
                    using var ps = pool.Open();
                    for (int t = 0; t < hx.Steps; t++)
                    {
                        if (rng.Next(3) == 0)
                        {
                            Thread.Sleep(rng.Next(2));
                        }

                        if ((t + session) % 2 == 0)
                        {
                            ps.Step(hx.X(session, t), outputs[session].AsSpan(t * h, h));
                        }
                        else
                        {
                            ps.StepAsync(hx.Inputs[session].AsMemory(t * inSize, inSize), outputs[session].AsMemory(t * h, h)).AsTask().Wait();
                        }
                    }
                }
                catch (Exception e)
                {
                    errors[session] = e;
                }
            });
            threads[s].Start();
        }

        foreach (var t in threads)
        {
            t.Join();
        }

        foreach (var e in errors)
        {
            Assert.Null(e);
        }

        return outputs;
    }
}
