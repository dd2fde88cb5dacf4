using RecurrentCore.Layers;
using RecurrentCore.Memory;
using RecurrentCore.Reference;
using RecurrentCore.Tests.Layers;
using RecurrentCore.Tests.Reference;
using Xunit;

namespace RecurrentCore.Tests.Training;

/// <summary>
/// Dropout between stacked layers (<see cref="RecurrentWorkspace.SetDropout"/>, nn.LSTM(dropout = p) in training):
/// p = 0 is bitwise no dropout; with the masks fixed, the fast gradients match double finite differences of a
/// reference built layer by layer with the masks between; the fraction dropped is p; masks are reproducible for a seed,
/// new on each forward and independent of the thread count; inference never drops.
/// </summary>
public class DropoutTests
{
    [Theory]
    [InlineData(CellKind.Lstm, true)]
    [InlineData(CellKind.Gru, false)]
    [InlineData(CellKind.RnnTanh, true)]
    public void Zero_probability_is_bitwise_no_dropout(CellKind cell, bool bidirectional)
    {
        var cfg = new RecurrentConfig(cell, 4, 6, numLayers: 3, bidirectional: bidirectional);
        var layer = RecurrentLayer.FromParameters(FastPathHarness.Parameters(cfg, new Random(1), 0.5));
        var plain = Run(layer, 5, 3, dropout: null, seed: 0, threads: 1);
        var zero = Run(layer, 5, 3, dropout: 0, seed: 7, threads: 1);
        Assert.Equal(plain.Output, zero.Output);
        Assert.Equal(plain.Grads, zero.Grads);
        Assert.Equal(plain.GradInput, zero.GradInput);
    }

    [Theory]
    [InlineData(CellKind.Lstm, false, 0)]
    [InlineData(CellKind.Gru, true, 0)]
    [InlineData(CellKind.RnnRelu, false, 0)]
    [InlineData(CellKind.Lstm, true, 3)]
    public void Gradients_with_fixed_masks_match_finite_differences(CellKind cell, bool bidirectional, int proj)
    {
        const double p = 0.4;
        const ulong seed = 12345;
        var cfg = new RecurrentConfig(cell, 3, 4, numLayers: 3, bidirectional: bidirectional) { ProjSize = proj };
        var rng = new Random(3);
        var parameters = FastPathHarness.Parameters(cfg, rng, 0.7);
        int t = 4, batch = 2, d = cfg.NumDirections;
        var x = FastPathHarness.Round(RandomData.Normal(rng, t * batch * 3));
        var dy = FastPathHarness.Round(RandomData.Normal(rng, t * batch * cfg.OutputSize));
        var layer = RecurrentLayer.FromParameters(parameters);
        var fast = Run(layer, t, batch, p, seed, threads: 1, x: FastPathHarness.ToSingle(x), dy: FastPathHarness.ToSingle(dy));

        // The masks of the workspace's first forward, then a reference composed of one-layer references with them.
        var masks = new LayerDropout(p, seed);
        masks.BeginForward(training: true);
        double Loss()
        {
            double[] input = x;
            for (int l = 0; l < cfg.NumLayers; l++)
            {
                var one = new RecurrentConfig(cell, cfg.LayerInputSize(l), 4, numLayers: 1, bidirectional: bidirectional) { ProjSize = proj };
                var lp = new RecurrentParameters(one);
                for (int dir = 0; dir < d; dir++)
                {
                    foreach (var kind in RecurrentParameters.Kinds.Append(ParameterKind.WeightHr))
                    {
                        parameters[l, dir, kind].CopyTo(lp[0, dir, kind], 0);
                    }
                }

                var o = ReferenceRnn.Forward(lp, new SequenceInputs(t, batch, input)).Output;
                if (l < cfg.NumLayers - 1)
                {
                    for (int i = 0; i < o.Length; i++)
                    {
                        o[i] = masks.Keep(l, i) ? o[i] / (1 - p) : 0;
                    }
                }

                input = o;
            }

            double sum = 0;
            for (int i = 0; i < input.Length; i++)
            {
                sum += input[i] * dy[i];
            }

            return sum;
        }

        int at = 0;
        foreach (var (name, _, data) in parameters.Named())
        {
            var analytic = fast.Grads.AsSpan(at, data.Length).ToArray();
            FiniteDifference.AssertGradient(name, data, Array.ConvertAll(analytic, v => (double)v), Loss, eps: 1e-6, relativeTolerance: 2e-4);
            at += data.Length;
        }

        FiniteDifference.AssertGradient("input", x, Array.ConvertAll(fast.GradInput, v => (double)v), Loss, eps: 1e-6, relativeTolerance: 2e-4);
    }

    [Fact]
    public void The_dropped_fraction_is_p_and_kept_values_are_scaled()
    {
        const double p = 0.3;
        var cfg = new RecurrentConfig(CellKind.Lstm, 8, 64, numLayers: 2);
        var layer = RecurrentLayer.FromParameters(FastPathHarness.Parameters(cfg, new Random(2), 0.3));
        int t = 20, batch = 8, n = t * batch * 64;
        using var ws = layer.CreateWorkspace(t, batch, training: true);
        ws.SetDropout(p, seed: 99);
        var x = FastPathHarness.ToSingle(RandomData.Normal(new Random(4), t * batch * 8));
        layer.Forward(ws, x, t, batch, new float[n]);
        var outputs = ws.LayerOut(0, n).ToArray();
        var dropped = ws.Buffers.Dropout!.Dropped(0, n).ToArray();
        int zeros = 0;
        for (int i = 0; i < n; i++)
        {
            if (dropped[i] == 0 && outputs[i] != 0)
            {
                zeros++;
            }
            else
            {
                Assert.Equal(outputs[i] * (float)(1 / (1 - p)), dropped[i]);
            }
        }

        // Binomial(n, p): within 5 standard deviations.
        double sd = Math.Sqrt(n * p * (1 - p));
        Assert.InRange(zeros, (n * p) - (5 * sd), (n * p) + (5 * sd));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    public void Masks_are_reproducible_new_per_forward_and_independent_of_threads(int proj)
    {
        var cfg = proj > 0 ? new RecurrentConfig(CellKind.Lstm, 4, 8, numLayers: 3, bidirectional: true) { ProjSize = proj } : new RecurrentConfig(CellKind.Gru, 4, 8, numLayers: 3, bidirectional: true);
        var layer = RecurrentLayer.FromParameters(FastPathHarness.Parameters(cfg, new Random(5), 0.5));
        var a = Run(layer, 6, 8, 0.5, seed: 1, threads: 1);
        var b = Run(layer, 6, 8, 0.5, seed: 1, threads: 3);
        var c = Run(layer, 6, 8, 0.5, seed: 2, threads: 1);
        Assert.Equal(a.Output, b.Output);
        Assert.Equal(a.Grads, b.Grads);
        Assert.NotEqual(a.Output, c.Output);

        // A second forward in the same workspace draws new masks.
        using var ws = layer.CreateWorkspace(6, 8, training: true);
        ws.SetDropout(0.5, seed: 1);
        var x = FastPathHarness.ToSingle(RandomData.Normal(new Random(21), 6 * 8 * 4)); // Run's input
        var y1 = new float[6 * 8 * cfg.OutputSize];
        var y2 = new float[y1.Length];
        layer.Forward(ws, x, 6, 8, y1);
        layer.Forward(ws, x, 6, 8, y2);
        Assert.NotEqual(y1, y2);
        Assert.Equal(a.Output, y1);
    }

    [Fact]
    public void Inference_never_drops_and_bad_settings_are_refused()
    {
        var cfg = new RecurrentConfig(CellKind.Lstm, 4, 6, numLayers: 2);
        var layer = RecurrentLayer.FromParameters(FastPathHarness.Parameters(cfg, new Random(6), 0.5));
        using var inference = layer.CreateWorkspace(5, 2);
        Assert.Throws<InvalidOperationException>(() => inference.SetDropout(0.5));
        using var training = layer.CreateWorkspace(5, 2, training: true);
        Assert.Throws<ArgumentOutOfRangeException>(() => training.SetDropout(1.0));
        Assert.Throws<ArgumentOutOfRangeException>(() => training.SetDropout(-0.1));
        Assert.Throws<ArgumentOutOfRangeException>(() => training.SetDropout(double.NaN));
        var x = FastPathHarness.ToSingle(RandomData.Normal(new Random(8), 5 * 2 * 4));
        var plain = new float[5 * 2 * 6];
        layer.Forward(inference, x, 5, 2, plain);
        training.SetDropout(0.5, seed: 3);
        Assert.Equal(0.5, training.Dropout);
        var dropped = new float[plain.Length];
        layer.Forward(training, x, 5, 2, dropped);
        Assert.NotEqual(plain, dropped);
        var again = new float[plain.Length];
        layer.Forward(inference, x, 5, 2, again);
        Assert.Equal(plain, again);
    }

    [Fact]
    public void Trainable_recurrent_hands_its_dropout_to_training_workspaces()
    {
        var model = RecurrentCore.Training.TrainableRecurrent.Create(new RecurrentConfig(CellKind.Lstm, 3, 5, numLayers: 2), new RecurrentCore.Training.SeededRandom(1));
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Dropout = 1);
        using (var none = model.CreateTrainingWorkspace(4, 2))
        {
            Assert.Equal(0, none.Dropout);
        }

        model.Dropout = 0.25;
        model.DropoutSeed = 9;
        using var ws = model.CreateTrainingWorkspace(4, 2);
        Assert.Equal(0.25, ws.Dropout);
        Assert.Equal(9UL, ws.Buffers.Dropout!.Seed);
        using var bptt = new RecurrentCore.Training.TruncatedBptt(model, 4, 2);
        Assert.NotNull(bptt);
    }

    private static (float[] Output, float[] Grads, float[] GradInput) Run(
        RecurrentLayer layer, int t, int batch, double? dropout, ulong seed, int threads, float[]? x = null, float[]? dy = null)
    {
        var cfg = layer.Config;
        x ??= FastPathHarness.ToSingle(RandomData.Normal(new Random(21), t * batch * cfg.InputSize));
        dy ??= FastPathHarness.ToSingle(RandomData.Normal(new Random(22), t * batch * cfg.OutputSize));
        using var ws = layer.CreateWorkspace(t, batch, training: true, threads: threads);
        if (dropout is double p)
        {
            ws.SetDropout(p, seed);
        }

        var y = new float[dy.Length];
        layer.Forward(ws, x, t, batch, y);
        var grads = new RecurrentGradients(cfg);
        var dx = new float[x.Length];
        layer.Backward(ws, dy, default, default, grads, dx);
        return (y, [.. grads.Named().SelectMany(e => e.Data)], dx);
    }
}
