using RecurrentCore.Kernels;
using RecurrentCore.Layers;
using RecurrentCore.Reference;
using RecurrentCore.Tests.Layers;
using RecurrentCore.Tests.Reference;
using Xunit;
using Xunit.Abstractions;
using static RecurrentCore.Tests.Layers.FastPathHarness;

namespace RecurrentCore.Tests.Reliability;

/// <summary>
/// Repeated runs are bitwise identical (same workspace, fresh workspace, fresh layer, streaming), and every kernel
/// variant this machine runs stays within the documented tolerance of the double reference (outputs 1e-5, gradients
/// 1e-4, tensor-wise relative) on larger configurations than the property tests use (H = 64..128, T = 20..50).
/// </summary>
[Trait("Category", "Reliability")]
public class DeterminismTests(ITestOutputHelper log)
{
    public static TheoryData<int> LargeConfigs() => new(0, 1, 2, 3);

    [Theory]
    [MemberData(nameof(LargeConfigs))]
    public void Every_variant_is_within_tolerance_of_the_reference_on_large_configurations(int which)
    {
        var (cfg, seqLen, batch) = which switch
        {
            0 => (new RecurrentConfig(CellKind.Lstm, 32, 128, numLayers: 2, bidirectional: true), 20, 3),
            1 => (new RecurrentConfig(CellKind.Gru, 64, 96, numLayers: 2, batchFirst: true), 30, 4),
            2 => (new RecurrentConfig(CellKind.RnnTanh, 48, 64, numLayers: 3, bidirectional: true), 50, 2),
            _ => (new RecurrentConfig(CellKind.RnnRelu, 40, 80, numLayers: 2), 40, 3),
        };
        var rng = new Random(61 + which);
        var p = Parameters(cfg, rng, 1.0 / Math.Sqrt(cfg.HiddenSize));
        bool lstm = cfg.Cell == CellKind.Lstm;
        int states = cfg.NumLayers * cfg.NumDirections * batch * cfg.HiddenSize;
        var x = Round(RandomData.Normal(rng, seqLen * batch * cfg.InputSize));
        var h0 = Round(RandomData.Normal(rng, states, 0.5));
        var c0 = lstm ? Round(RandomData.Normal(rng, states, 0.5)) : null;
        int[] lengths = [.. Enumerable.Range(0, batch).Select(b => seqLen - (b * 3))];
        var dy = Round(RandomData.Normal(rng, seqLen * batch * cfg.OutputSize));
        var dhn = Round(RandomData.Normal(rng, states));
        var (refOut, refGrads) = ReferenceRnn.Backward(p, new SequenceInputs(seqLen, batch, x, h0, c0, lengths), new UpstreamGradients(dy, dhn, null));

        foreach (var variant in KernelCatalog.Supported)
        {
            var layer = RecurrentLayer.FromParameters(p, variant);
            var ws = layer.CreateWorkspace(seqLen, batch, training: true);
            var y = new float[refOut.Output.Length];
            var hn = new float[states];
            layer.Forward(ws, ToSingle(x), seqLen, batch, y, hn, default, ToSingle(h0), c0 is null ? default : ToSingle(c0), lengths);
            var grads = new RecurrentGradients(cfg);
            var dx = new float[x.Length];
            var dh0 = new float[states];
            layer.Backward(ws, ToSingle(dy), ToSingle(dhn), default, grads, dx, dh0);
            string what = $"{cfg} T={seqLen} B={batch} {KernelCatalog.Name(variant)}";
            double worstGrad = Math.Max(RelativeError(dx, refGrads.Input), RelativeError(dh0, refGrads.H0));
            foreach (var ((name, _, fast), (_, _, reference)) in grads.Named().Zip(refGrads.Parameters.Named()))
            {
                double err = RelativeError(fast, reference);
                worstGrad = Math.Max(worstGrad, err);
                Assert.True(err <= FastPathPropertyTests.GradientTolerance, $"{name}: {err:0.0e+0} {what}");
            }

            double outErr = Math.Max(RelativeError(y, refOut.Output), RelativeError(hn, refOut.HN));
            log.WriteLine($"{what}: output {outErr:0.0e+0}, gradients {worstGrad:0.0e+0}");
            Assert.True(outErr <= FastPathPropertyTests.OutputTolerance, $"output: {outErr:0.0e+0} {what}");
            Assert.True(worstGrad <= FastPathPropertyTests.GradientTolerance, $"gradients: {worstGrad:0.0e+0} {what}");
        }
    }

    [Theory]
    [InlineData(CellKind.Lstm)]
    [InlineData(CellKind.Gru)]
    [InlineData(CellKind.RnnTanh)]
    [InlineData(CellKind.RnnRelu)]
    public void Repeated_runs_are_bitwise_identical(CellKind cell)
    {
        var cfg = new RecurrentConfig(cell, 9, 33, numLayers: 2, bidirectional: true);
        var p = Parameters(cfg, new Random(71), 0.3);
        const int T = 15, B = 4;
        var rng = new Random(72);
        var x = ToSingle(RandomData.Normal(rng, T * B * cfg.InputSize));
        var dy = ToSingle(RandomData.Normal(rng, T * B * cfg.OutputSize));
        int[] lengths = [15, 7, 1, 12];
        foreach (var variant in KernelCatalog.Supported)
        {
            var layer = RecurrentLayer.FromParameters(p, variant);
            var ws = layer.CreateWorkspace(T, B, training: true);
            float[] Once(RecurrentLayer l, RecurrentWorkspace w)
            {
                var y = new float[T * B * cfg.OutputSize];
                l.Forward(w, x, T, B, y, lengths: lengths);
                var g = new RecurrentGradients(cfg);
                var dx = new float[x.Length];
                l.Backward(w, dy, default, default, g, dx);
                return [.. y, .. dx, .. g.Named().SelectMany(t => t.Data)];
            }

            var first = Once(layer, ws);
            Assert.Equal(first, Once(layer, ws));
            Assert.Equal(first, Once(layer, layer.CreateWorkspace(T, B, training: true)));
            var other = RecurrentLayer.FromParameters(p, variant);
            Assert.Equal(first, Once(other, other.CreateWorkspace(T + 3, B + 1, training: true)));
        }

        var uni = RecurrentLayer.FromParameters(Parameters(cfg with { Bidirectional = false }, new Random(73), 0.3));
        float[] Streamed()
        {
            var s = uni.CreateStream(2);
            var y = new float[T * 2 * cfg.HiddenSize];
            s.Step(x.AsSpan(0, T * 2 * cfg.InputSize), T, y);
            return y;
        }

        Assert.Equal(Streamed(), Streamed());
    }

    [Theory]
    [InlineData(CellKind.Lstm)]
    [InlineData(CellKind.Gru)]
    [InlineData(CellKind.RnnTanh)]
    public void Thread_counts_1_2_and_4_give_identical_bits(CellKind cell)
    {
        var rng = new Random(77);
        var cfg = new RecurrentConfig(cell, 48, 96, numLayers: 2, bidirectional: true);
        var layer = RecurrentLayer.FromParameters(Parameters(cfg, rng, 0.15));
        const int T = 30, B = 12;
        int states = cfg.NumLayers * cfg.NumDirections * B * cfg.HiddenSize;
        var x = ToSingle(RandomData.Normal(rng, T * B * cfg.InputSize));
        var dy = ToSingle(RandomData.Normal(rng, T * B * cfg.OutputSize));
        var lengths = Enumerable.Range(0, B).Select(_ => 1 + rng.Next(T)).ToArray();

        float[] Run(int threads)
        {
            using var ws = layer.CreateWorkspace(T, B, training: true, threads: threads);
            var y = new float[dy.Length];
            var hn = new float[states];
            layer.Forward(ws, x, T, B, y, hn, lengths: lengths);
            var grads = new RecurrentGradients(cfg);
            var dx = new float[x.Length];
            var dh0 = new float[states];
            layer.Backward(ws, dy, hn, default, grads, dx, dh0);
            return [.. y, .. hn, .. dx, .. dh0, .. grads.Named().SelectMany(g => g.Data)];
        }

        var one = Run(1);
        Assert.Equal(one, Run(2));
        Assert.Equal(one, Run(4));
        log.WriteLine($"{cell}: {one.Length} values identical for 1, 2 and 4 threads");
    }
}
