using RecurrentCore.Models;
using RecurrentCore.Training;
using Xunit;

namespace RecurrentCore.Tests.Models;

public class MarkovChainTests
{
    [Fact]
    public void Likelihood_equals_a_hand_computed_value()
    {
        // 0 1 1 0 1 over K = 2: transitions 0→1, 1→1, 1→0, 0→1; counts n00=0 n01=2 n10=1 n11=1.
        int[] seq = [0, 1, 1, 0, 1];
        var chain = MarkovChain.Fit(seq, 2, smoothing: 0.5);
        Assert.Equal(2, chain.Count(0, 1));
        Assert.Equal(0, chain.Count(0, 0));
        // Lidstone α = 0.5: P(1|0) = (2 + .5)/(2 + 1) = 5/6, P(0|0) = 1/6, P(1|1) = P(0|1) = (1 + .5)/(2 + 1) = 1/2.
        Assert.Equal(5.0 / 6, chain.TransitionProbability(0, 1), 1e-15);
        double expected = Math.Log(5.0 / 6) + Math.Log(0.5) + Math.Log(0.5) + Math.Log(5.0 / 6);
        Assert.Equal(expected, chain.LogLikelihood(seq), 1e-12);
        Assert.Equal(-expected / 4, chain.CrossEntropy(seq), 1e-12);

        // an unseen sequence under Laplace smoothing: 0 0 → P(0|0) = (0 + 1)/(2 + 2)
        var laplace = MarkovChain.Fit(seq, 2);
        Assert.Equal(Math.Log(0.25), laplace.LogLikelihood([0, 0]), 1e-15);
        Assert.Equal(0.0, laplace.LogLikelihood([1]));

        // no smoothing: an unseen transition has probability 0, an unseen row is uniform
        var mle = MarkovChain.Fit(seq, 3, smoothing: 0);
        Assert.Equal(double.NegativeInfinity, mle.LogLikelihood([0, 0]));
        Assert.Equal(1.0 / 3, mle.TransitionProbability(2, 1));
    }

    [Fact]
    public void Char_chain_matches_its_counts()
    {
        var chain = CharMarkovChain.Fit("abab a");
        Assert.Equal(" ab", chain.Alphabet);
        // K = 3, α = 1. Transitions: a→b ×2, b→a, b→' ', ' '→a.
        double pab = (2 + 1) / (2 + 3.0);
        double pba = (1 + 1) / (2 + 3.0);
        Assert.Equal(Math.Log(pab) + Math.Log(pba), chain.LogLikelihood("aba"), 1e-12);
        Assert.Throws<ArgumentException>(() => chain.LogLikelihood("abc"));
        string sample = chain.Sample('a', 50, new SeededRandom(1));
        Assert.Equal(50, sample.Length);
        Assert.StartsWith("a", sample, StringComparison.Ordinal);
        Assert.Equal(sample, chain.Sample('a', 50, new SeededRandom(1)));
        Assert.All(sample, ch => Assert.Contains(ch, chain.Alphabet));
    }

    [Fact]
    public void Sampling_frequencies_converge_to_the_transition_matrix()
    {
        // a chain with a known, uneven matrix (counts picked so P rows are e.g. 0.1/0.6/0.3)
        var chain = new MarkovChain(3, smoothing: 0);
        chain.Observe([0, 0, 1, 1, 1, 1, 1, 1, 2, 2, 2, 0, 1, 0, 2, 1, 2, 0]);
        double[] p = chain.TransitionMatrix();
        int[] path = chain.Sample(0, 200_000, new SeededRandom(77));
        var counts = new double[9];
        var rows = new double[3];
        for (int t = 1; t < path.Length; t++)
        {
            counts[(path[t - 1] * 3) + path[t]]++;
            rows[path[t - 1]]++;
        }

        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(1.0, p[(i * 3)..((i * 3) + 3)].Sum(), 1e-12);
            for (int j = 0; j < 3; j++)
            {
                Assert.Equal(p[(i * 3) + j], counts[(i * 3) + j] / rows[i], 0.01);
            }
        }
    }

    [Fact]
    public void Span_sampling_and_forecasting_do_not_allocate()
    {
        var chain = MarkovChain.Fit([0, 1, 2, 1, 0, 2, 2], 3);
        var random = new SeededRandom(2);
        int[] path = new int[64];
        var ar = new ArModel(0.1, [0.5, 0.2]);
        double[] history = [1, 2];
        double[] forecast = new double[16];
        double[] simulated = new double[32];
        var ar1 = new Ar1Process(0, 0.5, 1);
        Assert.Equal(0, Training.TrainingFixtures.Allocated(() =>
        {
            chain.Sample(1, path, random);
            ar.Forecast(history, forecast);
            ar1.Simulate(0, simulated, random);
        }));
    }

    [Fact]
    public void Rejects_out_of_range_symbols()
    {
        var chain = new MarkovChain(2);
        Assert.Throws<ArgumentOutOfRangeException>(() => chain.Observe([0, 2]));
        Assert.Equal(0, chain.Count(0, 1)); // nothing was counted
        Assert.Throws<ArgumentOutOfRangeException>(() => chain.LogLikelihood([-1, 0]));
        Assert.Throws<ArgumentException>(() => chain.CrossEntropy([0]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new MarkovChain(2, -0.1));
    }

    [Fact]
    public void Ar1_recovers_phi_and_stationary_moments()
    {
        var truth = new Ar1Process(intercept: 1.0, phi: 0.8, noiseVariance: 0.25);
        Assert.Equal(5.0, truth.StationaryMean, 1e-12);
        Assert.Equal(0.25 / 0.36, truth.StationaryVariance, 1e-12);
        double[] x = new double[50_000];
        truth.Simulate(truth.StationaryMean, x, new SeededRandom(4));
        var fit = Ar1Process.Fit(x);
        Assert.Equal(0.8, fit.Phi, 0.01);
        Assert.Equal(1.0, fit.Intercept, 0.05);
        Assert.Equal(0.25, fit.NoiseVariance, 0.01);
        Assert.Equal(5.0, fit.StationaryMean, 0.1);
        Assert.Equal(x.Average(), fit.StationaryMean, 0.05);

        // the closed form equals the AR(1) least-squares fit
        var ls = ArModel.FitLeastSquares(x, 1);
        Assert.Equal(ls.Coefficients[0], fit.Phi, 1e-9);
        Assert.Equal(ls.Intercept, fit.Intercept, 1e-9);

        var explosive = new Ar1Process(0, 1.5, 1);
        Assert.False(explosive.IsStationary);
        Assert.Throws<InvalidOperationException>(() => explosive.StationaryMean);
        Assert.Throws<ArgumentException>(() => Ar1Process.Fit([1, 1, 1, 1]));
        Assert.Throws<ArgumentException>(() => Ar1Process.Fit([1, 2]));
    }
}
