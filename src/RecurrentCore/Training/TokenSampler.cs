namespace RecurrentCore.Training;

/// <summary>
/// Draws a token from logits z: with temperature τ &gt; 0 and top-k, <c>P(i) ∝ exp((z_i − max z)/τ)</c> over the
/// tokens whose logit is at least the k-th largest (ties at the threshold are all kept), else 0; τ = 0 is greedy
/// (argmax, lowest index on ties). Allocation-free given a scratch span.
/// </summary>
public static class TokenSampler
{
    /// <summary>Samples one index.</summary>
    /// <param name="logits">z, (V).</param>
    /// <param name="temperature">τ ≥ 0; 0 picks the argmax.</param>
    /// <param name="topK">Keep the k most likely tokens; 0 (or ≥ V) keeps all.</param>
    /// <param name="random">The random stream (one NextDouble per call when τ &gt; 0).</param>
    /// <param name="scratch">At least V floats; overwritten.</param>
    /// <exception cref="ArgumentOutOfRangeException">τ or k is negative, or the logits are empty.</exception>
    public static int Sample(ReadOnlySpan<float> logits, double temperature, int topK, SeededRandom random, Span<float> scratch)
    {
        ArgumentNullException.ThrowIfNull(random);
        ArgumentOutOfRangeException.ThrowIfZero(logits.Length);
        ArgumentOutOfRangeException.ThrowIfNegative(temperature);
        ArgumentOutOfRangeException.ThrowIfNegative(topK);
        int v = logits.Length;
        int best = 0;
        for (int i = 1; i < v; i++)
        {
            if (logits[i] > logits[best])
            {
                best = i;
            }
        }

        if (temperature == 0 || double.IsNaN(logits[best]))
        {
            return best;
        }

        float threshold = float.NegativeInfinity;
        if (topK > 0 && topK < v)
        {
            var s = scratch[..v];
            logits.CopyTo(s);
            s.Sort();
            threshold = s[v - topK];
        }

        double max = logits[best];
        double total = 0;
        for (int i = 0; i < v; i++)
        {
            if (logits[i] >= threshold)
            {
                total += Math.Exp((logits[i] - max) / temperature);
            }
        }

        double u = random.NextDouble() * total;
        double acc = 0;
        int last = best;
        for (int i = 0; i < v; i++)
        {
            if (logits[i] >= threshold)
            {
                acc += Math.Exp((logits[i] - max) / temperature);
                last = i;
                if (u < acc)
                {
                    return i;
                }
            }
        }

        return last;
    }
}
