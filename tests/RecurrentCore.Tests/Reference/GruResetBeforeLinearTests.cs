using RecurrentCore.Reference;
using Xunit;

namespace RecurrentCore.Tests.Reference;

/// <summary>
/// The GRU variant with the reset gate applied before the recurrent map (ONNX linear_before_reset=0,
/// <see cref="RecurrentConfig.LinearBeforeReset"/> false): its backward against finite differences, and its forward
/// against the formula written out.
/// </summary>
public class GruResetBeforeLinearTests
{
    [Theory]
    [InlineData(1, false, true, false, false, true)]
    [InlineData(1, false, false, false, false, false)]
    [InlineData(2, true, true, true, true, true)]
    [InlineData(2, true, false, false, true, false)]
    public void Backward_matches_finite_differences(int layers, bool bidirectional, bool bias, bool batchFirst, bool varLengths, bool initialState)
    {
        var cfg = new RecurrentConfig(CellKind.Gru, inputSize: 3, hiddenSize: 4, numLayers: layers, bias: bias, batchFirst: batchFirst, bidirectional: bidirectional)
        {
            LinearBeforeReset = false,
        };
        var rng = new Random(TestSeed.Of(layers, bidirectional, bias, batchFirst, varLengths, initialState));
        const int T = 4, B = 3;
        var p = RandomData.Parameters(cfg, rng, scale: 0.8);
        int states = layers * cfg.NumDirections * B * cfg.HiddenSize;
        var h0 = initialState ? RandomData.Normal(rng, states, 0.5) : new double[states];
        var inputs = new SequenceInputs(T, B, RandomData.Normal(rng, T * B * cfg.InputSize), h0, null, varLengths ? [2, T, 1] : null);
        var up = new UpstreamGradients(RandomData.Normal(rng, T * B * cfg.OutputSize), RandomData.Normal(rng, states));

        var (_, grads) = ReferenceRnn.Backward(p, inputs, up);

        double Loss() => RandomData.Loss(ReferenceRnn.Forward(p, inputs), up);
        foreach (var (name, _, data) in p.Named())
        {
            FiniteDifference.AssertGradient(name, data, grads.Parameters.Named().Single(t => t.Name == name).Data, Loss);
        }

        FiniteDifference.AssertGradient("input", inputs.Input, grads.Input, Loss);
        FiniteDifference.AssertGradient("h0", h0, grads.H0, Loss);
    }

    [Fact]
    public void Forward_applies_the_reset_gate_to_the_state()
    {
        var cfg = new RecurrentConfig(CellKind.Gru, inputSize: 2, hiddenSize: 3) { LinearBeforeReset = false };
        var rng = new Random(7);
        var p = RandomData.Parameters(cfg, rng, scale: 0.9);
        double[] x = RandomData.Normal(rng, 2), h = RandomData.Normal(rng, 3);
        var o = ReferenceRnn.Forward(p, new SequenceInputs(1, 1, x, h));

        double[] wi = p[0, 0, ParameterKind.WeightIh], wh = p[0, 0, ParameterKind.WeightHh], bi = p[0, 0, ParameterKind.BiasIh], bh = p[0, 0, ParameterKind.BiasHh];
        double Gi(int row) => bi[row] + (wi[row * 2] * x[0]) + (wi[(row * 2) + 1] * x[1]);
        double Gh(int row, double[] v) => bh[row] + (wh[row * 3] * v[0]) + (wh[(row * 3) + 1] * v[1]) + (wh[(row * 3) + 2] * v[2]);
        double Sig(double v) => 1 / (1 + Math.Exp(-v));
        var r = Enumerable.Range(0, 3).Select(j => Sig(Gi(j) + Gh(j, h))).ToArray();
        var rh = Enumerable.Range(0, 3).Select(j => r[j] * h[j]).ToArray();
        for (int j = 0; j < 3; j++)
        {
            double z = Sig(Gi(3 + j) + Gh(3 + j, h));
            double n = Math.Tanh(Gi(6 + j) + Gh(6 + j, rh));
            Assert.Equal(((1 - z) * n) + (z * h[j]), o.Output[j], 14);
        }

        // The default (linear before reset) differs on the same weights.
        Assert.NotEqual(o.Output[0], ReferenceRnn.Forward(new RecurrentParametersCopy(p, cfg with { LinearBeforeReset = true }).Value, new SequenceInputs(1, 1, x, h)).Output[0]);
    }

    [Fact]
    public void Is_refused_for_other_cells()
    {
        var cfg = new RecurrentConfig(CellKind.Lstm, 2, 3) { LinearBeforeReset = false };
        Assert.Throws<ArgumentException>(() => ReferenceRnn.Forward(new RecurrentParameters(cfg), new SequenceInputs(1, 1, new double[2])));
    }

    private readonly record struct RecurrentParametersCopy(RecurrentParameters Source, RecurrentConfig Config)
    {
        public RecurrentParameters Value
        {
            get
            {
                var copy = new RecurrentParameters(Config);
                foreach (var (name, _, data) in Source.Named())
                {
                    data.CopyTo(copy.Named().Single(t => t.Name == name).Data, 0);
                }

                return copy;
            }
        }
    }
}
