using RecurrentCore.Training;

namespace RecurrentCore.Models;

/// <summary>
/// The continuous first-order Markov chain, an AR(1) process <c>x_t = c + φ·x_{t−1} + ε_t</c>, ε_t ~ N(0, σ²).
/// When |φ| &lt; 1 it is stationary with mean <c>μ = c / (1 − φ)</c> and variance <c>σ² / (1 − φ²)</c>.
/// </summary>
public sealed class Ar1Process
{
    /// <summary>Creates a process from its parameters.</summary>
    /// <exception cref="ArgumentOutOfRangeException">σ² is negative or a value is not finite.</exception>
    public Ar1Process(double intercept, double phi, double noiseVariance)
    {
        if (!double.IsFinite(intercept) || !double.IsFinite(phi))
        {
            throw new ArgumentOutOfRangeException(nameof(phi), "intercept and φ must be finite");
        }

        if (!(noiseVariance >= 0) || double.IsInfinity(noiseVariance))
        {
            throw new ArgumentOutOfRangeException(nameof(noiseVariance), noiseVariance, "must be finite and non-negative");
        }

        Intercept = intercept;
        Phi = phi;
        NoiseVariance = noiseVariance;
    }

    /// <summary>c.</summary>
    public double Intercept { get; }

    /// <summary>φ.</summary>
    public double Phi { get; }

    /// <summary>σ², the innovation variance.</summary>
    public double NoiseVariance { get; }

    /// <summary>Whether |φ| &lt; 1.</summary>
    public bool IsStationary => Math.Abs(Phi) < 1;

    /// <summary>μ = c / (1 − φ).</summary>
    /// <exception cref="InvalidOperationException">The process is not stationary.</exception>
    public double StationaryMean => IsStationary ? Intercept / (1 - Phi) : throw new InvalidOperationException($"AR(1) with φ = {Phi} is not stationary.");

    /// <summary>σ² / (1 − φ²).</summary>
    /// <exception cref="InvalidOperationException">The process is not stationary.</exception>
    public double StationaryVariance => IsStationary ? NoiseVariance / (1 - (Phi * Phi)) : throw new InvalidOperationException($"AR(1) with φ = {Phi} is not stationary.");

    /// <summary>
    /// Closed-form least squares (the conditional maximum-likelihood estimate) over the n − 1 pairs (x_{t−1}, x_t):
    /// <c>φ = Σ(x_{t−1} − ā)(x_t − b̄) / Σ(x_{t−1} − ā)²</c>, <c>c = b̄ − φā</c> with ā, b̄ the means of the
    /// predecessors and successors, and σ² the mean squared residual.
    /// </summary>
    /// <exception cref="ArgumentException">Fewer than three values, a non-finite value, or constant predecessors.</exception>
    public static Ar1Process Fit(ReadOnlySpan<double> series)
    {
        if (series.Length < 3)
        {
            throw new ArgumentException($"A series of {series.Length} values is too short to fit AR(1): it needs at least 3.", nameof(series));
        }

        int pairs = series.Length - 1;
        double meanA = 0;
        double meanB = 0;
        for (int t = 1; t < series.Length; t++)
        {
            if (!double.IsFinite(series[t]) || !double.IsFinite(series[t - 1]))
            {
                throw new ArgumentException("The series holds a NaN or infinite value.", nameof(series));
            }

            meanA += series[t - 1];
            meanB += series[t];
        }

        meanA /= pairs;
        meanB /= pairs;
        double sxy = 0;
        double sxx = 0;
        for (int t = 1; t < series.Length; t++)
        {
            double a = series[t - 1] - meanA;
            sxy += a * (series[t] - meanB);
            sxx += a * a;
        }

        if (!(sxx > 0))
        {
            throw new ArgumentException("The series is constant; φ is not identifiable.", nameof(series));
        }

        double phi = sxy / sxx;
        double c = meanB - (phi * meanA);
        double rss = 0;
        for (int t = 1; t < series.Length; t++)
        {
            double e = series[t] - c - (phi * series[t - 1]);
            rss += e * e;
        }

        return new Ar1Process(c, phi, rss / pairs);
    }

    /// <summary>The conditional mean of the next value, <c>c + φx</c>.</summary>
    public double Predict(double previous) => Intercept + (Phi * previous);

    /// <summary>Simulates <c>output[0] = x0</c>, then <c>x_t = c + φx_{t−1} + σ·z</c> with z ~ N(0, 1) from <paramref name="random"/>.</summary>
    public void Simulate(double x0, Span<double> output, SeededRandom random)
    {
        ArgumentNullException.ThrowIfNull(random);
        if (output.IsEmpty)
        {
            return;
        }

        double sigma = Math.Sqrt(NoiseVariance);
        output[0] = x0;
        for (int t = 1; t < output.Length; t++)
        {
            output[t] = Predict(output[t - 1]) + (sigma * random.NextNormal());
        }
    }

    /// <summary>This process as an <see cref="ArModel"/> of order 1 (for multi-step forecasting).</summary>
    public ArModel ToArModel() => new(Intercept, [Phi]);
}
