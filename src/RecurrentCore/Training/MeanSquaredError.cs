using System.Numerics.Tensors;

namespace RecurrentCore.Training;

/// <summary>
/// Mean squared error with a per-row mask, PyTorch <c>F.mse_loss(pred[m], target[m], reduction='mean')</c>:
/// <c>L = Σ_{r∈M} Σ_j (p[r,j] − t[r,j])² / (|M|·F)</c> over the unmasked rows M, and
/// <c>∂L/∂p[r,j] = 2(p[r,j] − t[r,j]) / (|M|·F)</c> for r ∈ M, 0 for masked rows.
/// </summary>
public static class MeanSquaredError
{
    /// <summary>Computes the loss and writes its gradient. Never allocates.</summary>
    /// <param name="predictions">p, (rows, features).</param>
    /// <param name="targets">t, (rows, features).</param>
    /// <param name="gradient">∂L/∂p, (rows, features); overwritten. May alias neither input.</param>
    /// <param name="rows">Number of rows (e.g. T·B time steps).</param>
    /// <param name="rowMask">Per row, whether it counts (e.g. <c>t &lt; length[b]</c>); empty: every row counts.</param>
    /// <returns>The loss; NaN when no row counts (as PyTorch's mean over nothing), with a zero gradient.</returns>
    /// <exception cref="ArgumentException">A length differs from its shape.</exception>
    public static float Compute(ReadOnlySpan<float> predictions, ReadOnlySpan<float> targets, Span<float> gradient, int rows, ReadOnlySpan<bool> rowMask = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rows, 1);
        int features = predictions.Length / rows;
        Linear.Check(predictions.Length, rows, features, nameof(predictions));
        Linear.Check(targets.Length, rows, features, nameof(targets));
        Linear.Check(gradient.Length, rows, features, nameof(gradient));
        if (!rowMask.IsEmpty && rowMask.Length != rows)
        {
            throw new ArgumentException($"rowMask has {rowMask.Length} entries for {rows} rows.", nameof(rowMask));
        }

        int counted = 0;
        double sum = 0;
        for (int r = 0; r < rows; r++)
        {
            if (!rowMask.IsEmpty && !rowMask[r])
            {
                continue;
            }

            counted++;
            for (int j = r * features; j < (r + 1) * features; j++)
            {
                double d = (double)predictions[j] - targets[j];
                sum += d * d;
            }
        }

        gradient.Clear();
        if (counted == 0)
        {
            return float.NaN;
        }

        double n = (double)counted * features;
        float scale = (float)(2.0 / n);
        for (int r = 0; r < rows; r++)
        {
            if (!rowMask.IsEmpty && !rowMask[r])
            {
                continue;
            }

            var g = gradient.Slice(r * features, features);
            TensorPrimitives.Subtract(predictions.Slice(r * features, features), targets.Slice(r * features, features), g);
            TensorPrimitives.Multiply(g, scale, g);
        }

        return (float)(sum / n);
    }
}
