using RecurrentCore.Layers;
using RecurrentCore.Tests.Reference;
using Xunit;

namespace RecurrentCore.Tests.Layers;

/// <summary>Steady-state forward, backward and streaming steps allocate zero managed bytes (exact).</summary>
[Trait("Category", "Kernels")]
public class AllocationTests
{
    [Theory]
    [InlineData(CellKind.Lstm, 1, false, false)]
    [InlineData(CellKind.Lstm, 4, true, true)]
    [InlineData(CellKind.Gru, 1, true, false)]
    [InlineData(CellKind.Gru, 3, false, true)]
    [InlineData(CellKind.RnnTanh, 2, true, true)]
    [InlineData(CellKind.RnnRelu, 1, false, false)]
    public void Forward_and_backward_allocate_nothing(CellKind cell, int batch, bool bidirectional, bool withLengths)
    {
        var rng = new Random(5);
        var cfg = new RecurrentConfig(cell, 7, 16, numLayers: 2, bidirectional: bidirectional);
        var layer = RecurrentLayer.FromParameters(FastPathHarness.Parameters(cfg, rng, 0.3));
        const int T = 6;
        int states = cfg.NumLayers * cfg.NumDirections * batch * cfg.HiddenSize;
        var x = FastPathHarness.ToSingle(RandomData.Normal(rng, T * batch * cfg.InputSize));
        var y = new float[T * batch * cfg.OutputSize];
        var hn = new float[states];
        var cn = cell == CellKind.Lstm ? new float[states] : [];
        var lengths = withLengths ? Enumerable.Range(0, batch).Select(b => T - (b % T)).ToArray() : [];
        var dx = new float[x.Length];
        var dh0 = new float[states];
        var grads = new RecurrentGradients(cfg);
        var inference = layer.CreateWorkspace(T, batch);
        var training = layer.CreateWorkspace(T, batch, training: true);

        void Run()
        {
            layer.Forward(inference, x, T, batch, y, hn, cn, lengths: lengths);
            layer.Forward(training, x, T, batch, y, hn, cn, lengths: lengths);
            layer.Backward(training, y, hn, cn, grads, dx, dh0);
        }

        AllocationAssert.Zero(Run, iterations: 3, warmup: 40);
    }

    [Theory]
    [InlineData(CellKind.Lstm, 1)]
    [InlineData(CellKind.Gru, 1)]
    [InlineData(CellKind.RnnTanh, 3)]
    [InlineData(CellKind.Lstm, 4)]
    public void Streaming_step_allocates_nothing(CellKind cell, int batch)
    {
        var rng = new Random(6);
        var cfg = new RecurrentConfig(cell, 5, 16, numLayers: 2);
        var layer = RecurrentLayer.FromParameters(FastPathHarness.Parameters(cfg, rng, 0.3));
        var stream = layer.CreateStream(batch);
        var x = FastPathHarness.ToSingle(RandomData.Normal(rng, batch * cfg.InputSize));
        var y = new float[batch * cfg.HiddenSize];
        AllocationAssert.Zero(() => stream.Step(x, y), iterations: 100);
    }
}
