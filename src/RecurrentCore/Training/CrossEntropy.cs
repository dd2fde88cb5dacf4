using System.Numerics.Tensors;
using RecurrentCore.Kernels.Operators;

namespace RecurrentCore.Training;

/// <summary>
/// Softmax cross-entropy over logits with class-index targets, PyTorch
/// <c>F.cross_entropy(z, t, ignore_index=-100, reduction='mean')</c>. Over the counted rows M (unmasked and
/// <c>t[r] ≠ ignoreIndex</c>):
/// <c>L = Σ_{r∈M} (logsumexp(z[r,·]) − z[r, t[r]]) / |M|</c> and
/// <c>∂L/∂z[r,c] = (softmax(z[r,·])[c] − [c = t[r]]) / |M|</c>; other rows get a zero gradient.
/// Vectorised float32 per row: <c>e = exp(z − max z)</c> (so large logits do not overflow), <c>s = Σ e</c>,
/// <c>p = e / s</c>; the target's <c>p_t − 1 = −Σ_{c≠t} e_c / s</c> is formed from the other terms, so it does not
/// cancel when <c>p_t ≈ 1</c>. Per-row losses <c>max + ln s − z_t</c> are summed in double in row order. Error bound vs
/// exact arithmetic: docs/training.md.
/// </summary>
public static class CrossEntropy
{
    /// <summary>PyTorch's default <c>ignore_index</c>.</summary>
    public const int DefaultIgnoreIndex = -100;

    /// <summary>Computes the loss and writes its gradient. Never allocates.</summary>
    /// <param name="logits">z, (rows, classes).</param>
    /// <param name="targets">t, (rows); each in [0, classes) or equal to <paramref name="ignoreIndex"/>.</param>
    /// <param name="gradient">∂L/∂z, (rows, classes); overwritten. May not alias <paramref name="logits"/>.</param>
    /// <param name="classes">Number of classes C.</param>
    /// <param name="rowMask">Per row, whether it counts; empty: every row counts.</param>
    /// <param name="ignoreIndex">A target value that marks a row as not counted.</param>
    /// <returns>The mean loss; NaN when no row counts (as PyTorch), with a zero gradient.</returns>
    /// <exception cref="ArgumentException">A length differs from its shape.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A counted target is outside [0, classes).</exception>
    public static float Compute(
        ReadOnlySpan<float> logits,
        ReadOnlySpan<int> targets,
        Span<float> gradient,
        int classes,
        ReadOnlySpan<bool> rowMask = default,
        int ignoreIndex = DefaultIgnoreIndex)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(classes, 1);
        int rows = targets.Length;
        Linear.Check(logits.Length, rows, classes, nameof(logits));
        Linear.Check(gradient.Length, rows, classes, nameof(gradient));
        if (!rowMask.IsEmpty && rowMask.Length != rows)
        {
            throw new ArgumentException($"rowMask has {rowMask.Length} entries for {rows} rows.", nameof(rowMask));
        }

        int counted = 0;
        for (int r = 0; r < rows; r++)
        {
            if (Counts(targets[r], r, rowMask, ignoreIndex, classes))
            {
                counted++;
            }
        }

        gradient.Clear();
        if (counted == 0)
        {
            return float.NaN;
        }

        double total = 0;
        float inv = (float)(1.0 / counted);
        for (int r = 0; r < rows; r++)
        {
            if (!Counts(targets[r], r, rowMask, ignoreIndex, classes))
            {
                continue;
            }

            var z = logits.Slice(r * classes, classes);
            var g = gradient.Slice(r * classes, classes);
            int t = targets[r];
            float max = TensorPrimitives.Max(z);

            // e = exp(z − max) ∈ (0, 1], e_t aside: 1 − p_t = Σ_{c≠t} e_c / s is then formed without cancellation.
            TensorPrimitives.Subtract(z, max, g);
            Activations.Exp(g, g);
            float et = g[t];
            g[t] = 0;
            float others = TensorPrimitives.Sum(g);
            float s = others + et;
            total += (double)max + Math.Log(s) - z[t];
            float scale = inv / s;
            TensorPrimitives.Multiply(g, scale, g);
            g[t] = -others * scale;
        }

        return (float)(total / counted);
    }

    private static bool Counts(int target, int row, ReadOnlySpan<bool> rowMask, int ignoreIndex, int classes)
    {
        if ((!rowMask.IsEmpty && !rowMask[row]) || target == ignoreIndex)
        {
            return false;
        }

        if ((uint)target >= (uint)classes)
        {
            throw new ArgumentOutOfRangeException(nameof(target), target, $"target of row {row} must lie in [0, {classes}) or equal ignoreIndex {ignoreIndex}");
        }

        return true;
    }
}
