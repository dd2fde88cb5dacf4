using System.Numerics;
using System.Numerics.Tensors;

namespace RecurrentCore.Training;

/// <summary>Gradient clipping with PyTorch <c>torch.nn.utils.clip_grad_norm_</c> / <c>clip_grad_value_</c> semantics. Never allocates.</summary>
public static class GradientClipping
{
    /// <summary>
    /// Rescales all gradients together so their global 2-norm is at most <paramref name="maxNorm"/>:
    /// <c>N = √(Σ_p Σ_k g²)</c> (summed in double), <c>c = maxNorm / (N + 1e-6)</c>, and every gradient is multiplied
    /// by c only when c &lt; 1.
    /// </summary>
    /// <returns>N, the norm before clipping (PyTorch's return value); NaN or ∞ when a gradient is not finite
    /// (gradients are then left as they are).</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxNorm"/> is negative or NaN.</exception>
    public static double ClipByGlobalNorm(ParameterSet parameters, double maxNorm)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (!(maxNorm >= 0))
        {
            throw new ArgumentOutOfRangeException(nameof(maxNorm), maxNorm, "must be non-negative");
        }

        double sum = 0;
        foreach (var p in parameters)
        {
            sum += SumOfSquares(p.Grad.Span);
        }

        double norm = Math.Sqrt(sum);
        double coefficient = maxNorm / (norm + 1e-6);
        if (coefficient < 1)
        {
            float c = (float)coefficient;
            foreach (var p in parameters)
            {
                Span<float> g = p.Grad.Span;
                TensorPrimitives.Multiply(g, c, g);
            }
        }

        return norm;
    }

    /// <summary>Σ g² in double: the lanes of a vector of doubles, then the tail, in a fixed order for a given vector width.</summary>
    private static double SumOfSquares(ReadOnlySpan<float> g)
    {
        int k = 0;
        double sum = 0;
        if (Vector.IsHardwareAccelerated && g.Length >= Vector<float>.Count)
        {
            var acc = Vector<double>.Zero;
            for (; k <= g.Length - Vector<float>.Count; k += Vector<float>.Count)
            {
                Vector.Widen(new Vector<float>(g[k..]), out var lo, out var hi);
                acc += (lo * lo) + (hi * hi);
            }

            sum = Vector.Sum(acc);
        }

        for (; k < g.Length; k++)
        {
            sum += (double)g[k] * g[k];
        }

        return sum;
    }

    /// <summary>Clamps every gradient element to [−<paramref name="clipValue"/>, <paramref name="clipValue"/>].</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="clipValue"/> is negative or NaN.</exception>
    public static void ClipByValue(ParameterSet parameters, float clipValue)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (!(clipValue >= 0))
        {
            throw new ArgumentOutOfRangeException(nameof(clipValue), clipValue, "must be non-negative");
        }

        foreach (var p in parameters)
        {
            Span<float> g = p.Grad.Span;
            for (int k = 0; k < g.Length; k++)
            {
                g[k] = Math.Clamp(g[k], -clipValue, clipValue);
            }
        }
    }
}
