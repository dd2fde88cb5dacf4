namespace RecurrentCore.Training;

/// <summary>
/// Softmax cross-entropy over logits with class-index targets, PyTorch
/// <c>F.cross_entropy(z, t, ignore_index=-100, reduction='mean')</c>. Over the counted rows M (unmasked and
/// <c>t[r] ≠ ignoreIndex</c>):
/// <c>L = Σ_{r∈M} (logsumexp(z[r,·]) − z[r, t[r]]) / |M|</c> and
/// <c>∂L/∂z[r,c] = (softmax(z[r,·])[c] − [c = t[r]]) / |M|</c>; other rows get a zero gradient.
/// logsumexp subtracts the row maximum first and sums in double, so large logits do not overflow.
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
        double inv = 1.0 / counted;
        for (int r = 0; r < rows; r++)
        {
            if (!Counts(targets[r], r, rowMask, ignoreIndex, classes))
            {
                continue;
            }

            var z = logits.Slice(r * classes, classes);
            var g = gradient.Slice(r * classes, classes);
            float max = z[0];
            for (int c = 1; c < classes; c++)
            {
                max = MathF.Max(max, z[c]);
            }

            double sum = 0;
            for (int c = 0; c < classes; c++)
            {
                sum += Math.Exp((double)z[c] - max);
            }

            double lse = max + Math.Log(sum);
            total += lse - z[targets[r]];
            for (int c = 0; c < classes; c++)
            {
                // softmax − one-hot in double: p_t − 1 would cancel in float when p_t ≈ 1.
                g[c] = (float)((Math.Exp(z[c] - lse) - (c == targets[r] ? 1.0 : 0.0)) * inv);
            }
        }

        return (float)(total * inv);
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
