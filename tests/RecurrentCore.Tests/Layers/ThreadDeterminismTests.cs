using RecurrentCore.Layers;
using RecurrentCore.Tests.Reference;
using Xunit;
using static RecurrentCore.Tests.Layers.FastPathHarness;

namespace RecurrentCore.Tests.Layers;

/// <summary>Forward and backward give the same bits with 1, 2, 3 and 4 threads, and threaded calls allocate nothing.</summary>
[Trait("Category", "Kernels")]
public class ThreadDeterminismTests
{
    /// <summary>
    /// One-row batches split only the input projection and input gradient (by rows of T·B, at least 64 each), so the B = 1
    /// case runs T = 130; every case asserts that some work was split.
    /// </summary>
    [Theory]
    [InlineData(CellKind.Lstm, 1, false, false, 130, true)]
    [InlineData(CellKind.Lstm, 8, true, true, 23, true)]
    [InlineData(CellKind.Gru, 5, false, true, 23, true)]
    [InlineData(CellKind.Gru, 17, true, false, 23, true)]
    [InlineData(CellKind.Gru, 6, false, false, 23, false)]
    [InlineData(CellKind.Gru, 1, true, true, 130, false)]
    [InlineData(CellKind.RnnTanh, 4, true, true, 23, true)]
    [InlineData(CellKind.RnnRelu, 9, false, false, 23, true)]
    public void Results_are_bitwise_identical_for_any_thread_count(CellKind cell, int batch, bool bidirectional, bool withLengths, int seqLen, bool linearBeforeReset)
    {
        var rng = new Random(21);
        var cfg = new RecurrentConfig(cell, 11, 24, numLayers: 2, bidirectional: bidirectional, batchFirst: withLengths) { LinearBeforeReset = linearBeforeReset };
        var layer = RecurrentLayer.FromParameters(Parameters(cfg, rng, 0.3));
        int T = seqLen;
        int states = cfg.NumLayers * cfg.NumDirections * batch * cfg.HiddenSize;
        var x = ToSingle(RandomData.Normal(rng, T * batch * cfg.InputSize));
        var dy = ToSingle(RandomData.Normal(rng, T * batch * cfg.OutputSize));
        var dhn = ToSingle(RandomData.Normal(rng, states));
        var lengths = withLengths ? Enumerable.Range(0, batch).Select(_ => 1 + rng.Next(T)).ToArray() : [];
        bool lstm = cell == CellKind.Lstm;

        (float[] Y, float[] Hn, float[] Dx, float[] Dh0, float[] Grads) Run(int threads)
        {
            using var ws = layer.CreateWorkspace(T, batch, training: true, threads: threads);
            long splitBefore = ws.Pool?.SplitRuns ?? 0;
            var y = new float[dy.Length];
            var hn = new float[states];
            var cn = lstm ? new float[states] : [];
            layer.Forward(ws, x, T, batch, y, hn, cn, lengths: lengths);
            var grads = new RecurrentGradients(cfg);
            var dx = new float[x.Length];
            var dh0 = new float[states];
            layer.Backward(ws, dy, dhn, lstm ? dhn : default, grads, dx, dh0);
            if (threads > 1)
            {
                Assert.True(ws.Pool!.SplitRuns > splitBefore, $"{threads} threads: no work was split across threads");
            }

            return (y, hn, dx, dh0, grads.Named().SelectMany(g => g.Data).ToArray());
        }

        var one = Run(1);
        foreach (int threads in new[] { 2, 3, 4 })
        {
            var many = Run(threads);
            Assert.Equal(one.Y, many.Y);
            Assert.Equal(one.Hn, many.Hn);
            Assert.Equal(one.Dx, many.Dx);
            Assert.Equal(one.Dh0, many.Dh0);
            Assert.Equal(one.Grads, many.Grads);
        }
    }

    [Fact]
    public void Threaded_forward_and_backward_allocate_nothing_on_any_thread()
    {
        var rng = new Random(22);
        var cfg = new RecurrentConfig(CellKind.Lstm, 16, 32, numLayers: 2, bidirectional: true);
        var layer = RecurrentLayer.FromParameters(Parameters(cfg, rng, 0.3));
        const int T = 40, B = 8;
        using var ws = layer.CreateWorkspace(T, B, training: true, threads: 2);
        var x = ToSingle(RandomData.Normal(rng, T * B * cfg.InputSize));
        var y = new float[T * B * cfg.OutputSize];
        var grads = new RecurrentGradients(cfg);
        var dx = new float[x.Length];
        void Run()
        {
            layer.Forward(ws, x, T, B, y);
            layer.Backward(ws, y, default, default, grads, dx);
        }

        // The caller's and the worker's bytes both count: tiering's one-off bookkeeping may land on either thread, a
        // per-call allocation on either fails every attempt.
        AllocationAssert.Zero(Run, () => ws.Pool!.WorkerAllocatedBytes, iterations: 5, warmup: 40);
    }
}
