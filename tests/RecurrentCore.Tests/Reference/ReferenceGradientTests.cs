using RecurrentCore.Reference;
using Xunit;

namespace RecurrentCore.Tests.Reference;

/// <summary>
/// Every gradient of the reference backward against double-precision central finite differences of the reference
/// forward, for every cell and option, on small shapes.
/// </summary>
public class ReferenceGradientTests
{
    public static TheoryData<string, int, bool, bool, bool, bool, bool> Cases()
    {
        var data = new TheoryData<string, int, bool, bool, bool, bool, bool>();
        foreach (var cell in new[] { "lstm", "gru", "rnn-tanh", "rnn-relu" })
        {
            // cell, layers, bidirectional, bias, batchFirst, lengths, initial state
            data.Add(cell, 1, false, true, false, false, true);
            data.Add(cell, 1, false, false, false, false, false);
            data.Add(cell, 2, false, true, true, false, true);
            data.Add(cell, 1, true, true, false, true, true);
            data.Add(cell, 2, true, true, true, true, false);
            data.Add(cell, 2, true, false, false, true, true);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Backward_matches_finite_differences(string cellName, int layers, bool bidirectional, bool bias, bool batchFirst, bool varLengths, bool initialState)
    {
        var cell = CellKinds.Parse(cellName);
        var cfg = new RecurrentConfig(cell, inputSize: 3, hiddenSize: 4, numLayers: layers, bias: bias, batchFirst: batchFirst, bidirectional: bidirectional);
        var rng = new Random(TestSeed.Of(cellName, layers, bidirectional, bias, batchFirst, varLengths, initialState));
        const int T = 4, B = 3;
        var p = RandomData.Parameters(cfg, rng, scale: 0.8);
        int states = layers * cfg.NumDirections * B * cfg.HiddenSize;
        var inputs = new SequenceInputs(
            T,
            B,
            RandomData.Normal(rng, T * B * cfg.InputSize),
            initialState ? RandomData.Normal(rng, states, 0.5) : null,
            initialState && cell == CellKind.Lstm ? RandomData.Normal(rng, states, 0.5) : null,
            varLengths ? [2, T, 1] : null);
        var up = new UpstreamGradients(
            RandomData.Normal(rng, T * B * cfg.OutputSize),
            RandomData.Normal(rng, states),
            cell == CellKind.Lstm ? RandomData.Normal(rng, states) : null);

        var (_, grads) = ReferenceRnn.Backward(p, inputs, up);

        double Loss() => RandomData.Loss(ReferenceRnn.Forward(p, inputs), up);

        foreach (var (name, _, data) in p.Named())
        {
            var analytic = grads.Parameters.Named().Single(t => t.Name == name).Data;
            FiniteDifference.AssertGradient(name, data, analytic, Loss);
        }

        FiniteDifference.AssertGradient("input", inputs.Input, grads.Input, Loss);

        // The gradient at the initial state exists whether or not one was given: compare at explicit zeros.
        var h0 = inputs.H0 ?? new double[states];
        var c0 = inputs.C0 ?? (cell == CellKind.Lstm ? new double[states] : null);
        var explicitInputs = inputs with { H0 = h0, C0 = c0 };
        double LossExplicit() => RandomData.Loss(ReferenceRnn.Forward(p, explicitInputs), up);
        FiniteDifference.AssertGradient("h0", h0, grads.H0, LossExplicit);
        if (c0 is not null)
        {
            FiniteDifference.AssertGradient("c0", c0, grads.C0!, LossExplicit);
        }
        else
        {
            Assert.Null(grads.C0);
        }
    }
}

internal static class FiniteDifference
{
    /// <summary>Central differences in double: truncation O(ε²) ≈ 1e-10, rounding ≈ 1e-16/ε ≈ 1e-11.</summary>
    /// <param name="name">Names the tensor in a failure.</param>
    /// <param name="x">The values differentiated (changed and restored in place).</param>
    /// <param name="analytic">The gradient under test.</param>
    /// <param name="loss">The loss, read after each change of <paramref name="x"/>.</param>
    /// <param name="eps">The step.</param>
    /// <param name="relativeTolerance">|analytic − numeric| ≤ this·max(1, |numeric|): 1e-7 for double gradients, looser for float32 ones.</param>
    public static void AssertGradient(string name, double[] x, double[] analytic, Func<double> loss, double eps = 1e-5, double relativeTolerance = 1e-7)
    {
        Assert.Equal(x.Length, analytic.Length);
        for (int i = 0; i < x.Length; i++)
        {
            double saved = x[i];
            x[i] = saved + eps;
            double plus = loss();
            x[i] = saved - eps;
            double minus = loss();
            x[i] = saved;
            double numeric = (plus - minus) / (2 * eps);
            double tol = relativeTolerance * Math.Max(1.0, Math.Abs(numeric));
            Assert.True(
                Math.Abs(numeric - analytic[i]) <= tol,
                $"{name}[{i}]: analytic {analytic[i]:R} vs finite difference {numeric:R}");
        }
    }
}

internal static class RandomData
{
    public static double[] Normal(Random rng, int n, double scale = 1.0)
    {
        var a = new double[n];
        for (int i = 0; i < n; i++)
        {
            // Box-Muller: independent of any code under test.
            double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
            a[i] = scale * Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
        }

        return a;
    }

    public static RecurrentParameters Parameters(RecurrentConfig cfg, Random rng, double scale)
    {
        var p = new RecurrentParameters(cfg);
        foreach (var (_, _, data) in p.Named())
        {
            for (int i = 0; i < data.Length; i++)
            {
                data[i] = scale * ((2 * rng.NextDouble()) - 1);
            }
        }

        return p;
    }

    public static double Loss(SequenceOutputs o, UpstreamGradients up)
    {
        double sum = Dot(o.Output, up.Output);
        if (up.HN is not null)
        {
            sum += Dot(o.HN, up.HN);
        }

        if (up.CN is not null)
        {
            sum += Dot(o.CN!, up.CN);
        }

        return sum;
    }

    private static double Dot(double[] a, double[] b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++)
        {
            s += a[i] * b[i];
        }

        return s;
    }
}
