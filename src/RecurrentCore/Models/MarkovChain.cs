using RecurrentCore.Training;

namespace RecurrentCore.Models;

/// <summary>
/// A first-order Markov chain over the symbols 0..K−1, estimated from transition counts with additive (Lidstone)
/// smoothing α (α = 1 is Laplace): <c>P(j | i) = (n_ij + α) / (n_i + Kα)</c>, where n_ij counts i→j transitions and
/// n_i = Σ_j n_ij. A row with no counts and α = 0 is uniform (1/K). Likelihoods condition on the first symbol.
/// </summary>
public sealed class MarkovChain
{
    private readonly long[] _counts; // (K, K) row-major: from, to
    private readonly long[] _rowTotals;

    /// <summary>Creates a chain with no observations.</summary>
    /// <param name="symbolCount">K ≥ 1.</param>
    /// <param name="smoothing">α ≥ 0, added to every count.</param>
    /// <exception cref="ArgumentOutOfRangeException">K &lt; 1, or α negative or not finite.</exception>
    public MarkovChain(int symbolCount, double smoothing = 1.0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(symbolCount, 1);
        if (!(smoothing >= 0) || double.IsInfinity(smoothing))
        {
            throw new ArgumentOutOfRangeException(nameof(smoothing), smoothing, "must be finite and non-negative");
        }

        SymbolCount = symbolCount;
        Smoothing = smoothing;
        _counts = new long[(long)symbolCount * symbolCount];
        _rowTotals = new long[symbolCount];
    }

    /// <summary>K, the alphabet size.</summary>
    public int SymbolCount { get; }

    /// <summary>α, the additive smoothing.</summary>
    public double Smoothing { get; }

    /// <summary>Creates a chain and observes <paramref name="sequence"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A symbol is outside [0, K).</exception>
    public static MarkovChain Fit(ReadOnlySpan<int> sequence, int symbolCount, double smoothing = 1.0)
    {
        var chain = new MarkovChain(symbolCount, smoothing);
        chain.Observe(sequence);
        return chain;
    }

    /// <summary>Adds the n − 1 transitions x_{t−1} → x_t of <paramref name="sequence"/> to the counts.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A symbol is outside [0, K) (nothing is counted then).</exception>
    public void Observe(ReadOnlySpan<int> sequence)
    {
        CheckSymbols(sequence);
        for (int t = 1; t < sequence.Length; t++)
        {
            _counts[((long)sequence[t - 1] * SymbolCount) + sequence[t]]++;
            _rowTotals[sequence[t - 1]]++;
        }
    }

    /// <summary>n_ij, the observed i→j transitions.</summary>
    public long Count(int from, int to)
    {
        CheckSymbol(from);
        CheckSymbol(to);
        return _counts[((long)from * SymbolCount) + to];
    }

    /// <summary><c>P(to | from) = (n_ij + α) / (n_i + Kα)</c>; 1/K for an unseen row when α = 0.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A symbol is outside [0, K).</exception>
    public double TransitionProbability(int from, int to)
    {
        CheckSymbol(from);
        CheckSymbol(to);
        double denominator = _rowTotals[from] + (SymbolCount * Smoothing);
        return denominator == 0 ? 1.0 / SymbolCount : (_counts[((long)from * SymbolCount) + to] + Smoothing) / denominator;
    }

    /// <summary>The (K, K) row-stochastic matrix P[i, j] = P(j | i), row-major.</summary>
    public double[] TransitionMatrix()
    {
        var p = new double[(long)SymbolCount * SymbolCount];
        for (int i = 0; i < SymbolCount; i++)
        {
            for (int j = 0; j < SymbolCount; j++)
            {
                p[((long)i * SymbolCount) + j] = TransitionProbability(i, j);
            }
        }

        return p;
    }

    /// <summary>
    /// <c>ln P(x_1..x_{n−1} | x_0) = Σ_{t=1}^{n−1} ln P(x_t | x_{t−1})</c>, in nats; 0 for n ≤ 1; −∞ if a transition has
    /// probability 0 (possible only with α = 0).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A symbol is outside [0, K).</exception>
    public double LogLikelihood(ReadOnlySpan<int> sequence)
    {
        CheckSymbols(sequence);
        double sum = 0;
        for (int t = 1; t < sequence.Length; t++)
        {
            sum += Math.Log(TransitionProbability(sequence[t - 1], sequence[t]));
        }

        return sum;
    }

    /// <summary>Cross-entropy per predicted symbol, <c>−LogLikelihood / (n − 1)</c>, in nats (divide by ln 2 for bits).</summary>
    /// <exception cref="ArgumentException">The sequence has fewer than two symbols.</exception>
    public double CrossEntropy(ReadOnlySpan<int> sequence)
    {
        if (sequence.Length < 2)
        {
            throw new ArgumentException("Cross-entropy needs at least two symbols (one transition).", nameof(sequence));
        }

        return -LogLikelihood(sequence) / (sequence.Length - 1);
    }

    /// <summary>
    /// Samples a path: <c>output[0] = start</c>, then each symbol from P(· | previous) by inverse-CDF on
    /// <paramref name="random"/>. Deterministic given the seed. Does not allocate.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="start"/> is outside [0, K).</exception>
    public void Sample(int start, Span<int> output, SeededRandom random)
    {
        ArgumentNullException.ThrowIfNull(random);
        CheckSymbol(start);
        if (output.IsEmpty)
        {
            return;
        }

        output[0] = start;
        for (int t = 1; t < output.Length; t++)
        {
            output[t] = Next(output[t - 1], random);
        }
    }

    /// <summary>Samples a path of <paramref name="length"/> symbols starting at <paramref name="start"/>.</summary>
    public int[] Sample(int start, int length, SeededRandom random)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        var output = new int[length];
        Sample(start, output, random);
        return output;
    }

    private int Next(int from, SeededRandom random)
    {
        double u = random.NextDouble();
        double cumulative = 0;
        for (int j = 0; j < SymbolCount - 1; j++)
        {
            cumulative += TransitionProbability(from, j);
            if (u < cumulative)
            {
                return j;
            }
        }

        // Rounding can leave the running sum just under 1; the last symbol with mass takes the rest.
        for (int j = SymbolCount - 1; j > 0; j--)
        {
            if (TransitionProbability(from, j) > 0)
            {
                return j;
            }
        }

        return 0;
    }

    private void CheckSymbols(ReadOnlySpan<int> sequence)
    {
        foreach (int s in sequence)
        {
            CheckSymbol(s);
        }
    }

    private void CheckSymbol(int symbol)
    {
        if ((uint)symbol >= (uint)SymbolCount)
        {
            throw new ArgumentOutOfRangeException(nameof(symbol), symbol, $"symbols must lie in [0, {SymbolCount})");
        }
    }
}
