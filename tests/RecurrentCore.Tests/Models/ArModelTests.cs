using RecurrentCore.Models;
using RecurrentCore.Training;
using Xunit;

namespace RecurrentCore.Tests.Models;

public class ArModelTests
{
    /// <summary>x_t = c + Σ φ_j x_{t−j} + σz from x_0..x_{τ−1} = <paramref name="start"/> (zeros if null), dropping <paramref name="burnIn"/> values.</summary>
    internal static double[] Simulate(double c, double[] phi, double sigma, int n, ulong seed, int burnIn = 100, double[]? start = null)
    {
        var random = new SeededRandom(seed);
        var x = new double[n + burnIn];
        start?.CopyTo(x, 0);
        for (int t = phi.Length; t < x.Length; t++)
        {
            double s = c + (sigma * random.NextNormal());
            for (int j = 0; j < phi.Length; j++)
            {
                s += phi[j] * x[t - 1 - j];
            }

            x[t] = s;
        }

        return x[burnIn..];
    }

    public static TheoryData<double, double[], LeastSquaresSolver> KnownModels() => new()
    {
        { 0.5, new[] { 0.6, -0.3 }, LeastSquaresSolver.Cholesky },
        { 0.5, new[] { 0.6, -0.3 }, LeastSquaresSolver.HouseholderQR },
        { -1.0, new[] { 0.5, 0.2, -0.4 }, LeastSquaresSolver.Cholesky },
        { -1.0, new[] { 0.5, 0.2, -0.4 }, LeastSquaresSolver.HouseholderQR },
    };

    [Theory]
    [MemberData(nameof(KnownModels))]
    public void Least_squares_recovers_known_coefficients(double c, double[] phi, LeastSquaresSolver solver)
    {
        // Small noise around a transient from a far-off start: the error scales like σ/‖x‖, so it is tiny.
        double[] x = Simulate(c, phi, sigma: 0.01, n: 300, seed: 5, burnIn: 0, start: [8, -6, 4]);
        var model = ArModel.FitLeastSquares(x, phi.Length, solver: solver);
        Assert.Equal(phi.Length, model.Order);
        for (int j = 0; j < phi.Length; j++)
        {
            Assert.InRange(model.Coefficients[j], phi[j] - 0.005, phi[j] + 0.005);
        }

        Assert.InRange(model.Intercept, c - 0.005, c + 0.005);

        // Stationary data: the noise drives the signal, so the error is O(1/√n) whatever σ is (here ≈ 0.005).
        x = Simulate(c, phi, sigma: 0.05, n: 40_000, seed: 6);
        model = ArModel.FitLeastSquares(x, phi.Length, solver: solver);
        for (int j = 0; j < phi.Length; j++)
        {
            Assert.InRange(model.Coefficients[j], phi[j] - 0.02, phi[j] + 0.02);
        }
    }

    [Fact]
    public void Cholesky_and_QR_agree_with_and_without_ridge()
    {
        double[] x = Simulate(0.2, [0.4, 0.3, -0.2, 0.1], 1.0, 300, seed: 9);
        foreach (double ridge in new[] { 0.0, 0.5, 50.0 })
        {
            var a = ArModel.FitLeastSquares(x, 4, ridge, LeastSquaresSolver.Cholesky);
            var b = ArModel.FitLeastSquares(x, 4, ridge, LeastSquaresSolver.HouseholderQR);
            Assert.Equal(a.Intercept, b.Intercept, 1e-9);
            for (int j = 0; j < 4; j++)
            {
                Assert.Equal(a.Coefficients[j], b.Coefficients[j], 1e-9);
            }
        }
    }

    [Fact]
    public void Ridge_shrinks_coefficients_but_not_the_intercept()
    {
        double[] x = Simulate(2.0, [0.7, -0.2], 0.3, 400, seed: 3);
        double Norm(ArModel m) => Math.Sqrt(m.Coefficients.Sum(v => v * v));
        var plain = ArModel.FitLeastSquares(x, 2);
        var some = ArModel.FitLeastSquares(x, 2, ridge: 100);
        var huge = ArModel.FitLeastSquares(x, 2, ridge: 1e12);
        Assert.True(Norm(some) < Norm(plain));
        Assert.True(Norm(huge) < 1e-6);
        Assert.Equal(x[2..].Average(), huge.Intercept, 1e-4); // all weight on the unpenalised intercept
    }

    [Fact]
    public void Refuses_too_short_or_degenerate_series()
    {
        var e = Assert.Throws<ArgumentException>(() => ArModel.FitLeastSquares([1, 2, 3, 4, 5, 6], 3));
        Assert.Contains("too short", e.Message, StringComparison.Ordinal);
        Assert.Contains("AR(3)", e.Message, StringComparison.Ordinal);
        ArModel.FitLeastSquares([1, 2, 4, 3, 5, 7, 2], 3);
        Assert.Throws<ArgumentException>(() => ArModel.FitGradientDescent([1, 2], 1, p => new Sgd(p), 1));
        Assert.Throws<ArgumentException>(() => ArModel.FitLeastSquares(Enumerable.Repeat(3.0, 20).ToArray(), 2));
        Assert.Throws<ArgumentException>(() => ArModel.FitLeastSquares([1, 2, double.NaN, 4, 5], 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => ArModel.FitLeastSquares([1, 2, 3, 4, 5], 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => ArModel.FitLeastSquares([1, 2, 3, 4, 5], 1, ridge: -1));
    }

    [Fact]
    public void Gradient_descent_reaches_the_least_squares_fit()
    {
        double[] x = Simulate(0.5, [0.6, -0.3], 0.2, 300, seed: 21);
        var exact = ArModel.FitLeastSquares(x, 2);
        var sgd = ArModel.FitGradientDescent(x, 2, p => new Sgd(p, new SgdOptions { LearningRate = 0.05, Momentum = 0.9 }), epochs: 600);
        var adam = ArModel.FitGradientDescent(
            x, 2, p => new Adam(p, new AdamOptions { LearningRate = 0.05 }), epochs: 1500, schedule: new CosineAnnealingLR(1500));
        foreach (var fit in new[] { sgd, adam })
        {
            Assert.Equal(exact.Intercept, fit.Intercept, 2e-3);
            Assert.Equal(exact.Coefficients[0], fit.Coefficients[0], 2e-3);
            Assert.Equal(exact.Coefficients[1], fit.Coefficients[1], 2e-3);
        }
    }

    [Fact]
    public void Predicts_and_forecasts_recursively()
    {
        var model = new ArModel(1.0, [0.5, -0.25]);
        double[] history = [100, 4, 2]; // only the last two matter
        Assert.Equal(1 + (0.5 * 2) - (0.25 * 4), model.Predict(history));
        double[] f = model.Forecast(history, 4);
        double[] expected = new double[4];
        var window = new List<double>(history);
        for (int k = 0; k < 4; k++)
        {
            expected[k] = 1 + (0.5 * window[^1]) - (0.25 * window[^2]);
            window.Add(expected[k]);
        }

        Assert.Equal(expected, f);
        Assert.Throws<ArgumentException>(() => model.Predict([1.0]));

        // a stationary AR forecast converges to its mean c / (1 − Σφ)
        double[] far = model.Forecast(history, 200);
        Assert.Equal(1.0 / (1 - 0.5 + 0.25), far[^1], 1e-9);
    }
}
