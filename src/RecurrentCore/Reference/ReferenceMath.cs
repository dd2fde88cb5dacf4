namespace RecurrentCore.Reference;

/// <summary>
/// The weights of one layer and direction as the reference cells see them: W_ih (G·H × In), W_hh (G·H × H) and
/// the biases (G·H, or empty when absent), all row-major, double precision.
/// </summary>
internal readonly record struct CellWeights(double[] WeightIh, double[] WeightHh, double[] BiasIh, double[] BiasHh, int InputSize, int HiddenSize)
{
    /// <summary>LSTM projection W_hr (P × H), or empty.</summary>
    public double[] WeightHr { get; init; } = [];

    /// <summary>Features of h: P with a projection, else H (W_hh's columns).</summary>
    public int StateSize => WeightHr.Length == 0 ? HiddenSize : WeightHr.Length / HiddenSize;

    public static CellWeights Of(RecurrentParameters p, int layer, int direction) => new(
        p[layer, direction, ParameterKind.WeightIh],
        p[layer, direction, ParameterKind.WeightHh],
        p[layer, direction, ParameterKind.BiasIh],
        p[layer, direction, ParameterKind.BiasHh],
        p.Config.LayerInputSize(layer),
        p.Config.HiddenSize)
    {
        WeightHr = p[layer, direction, ParameterKind.WeightHr],
    };

    public bool HasBias => BiasIh.Length != 0;
}

/// <summary>Plain double-precision loops shared by the reference cells: no SIMD, no blocking, no cleverness.</summary>
internal static class ReferenceMath
{
    /// <summary>y[r] = Σ_k W[rowOffset + r, k]·x[k] for r in [0, y.Length); W has <paramref name="cols"/> columns.</summary>
    public static void MatVec(double[] w, int rowOffset, int cols, ReadOnlySpan<double> x, Span<double> y)
    {
        for (int r = 0; r < y.Length; r++)
        {
            double sum = 0;
            int row = (rowOffset + r) * cols;
            for (int k = 0; k < cols; k++)
            {
                sum += w[row + k] * x[k];
            }

            y[r] = sum;
        }
    }

    /// <summary>dx[k] += Σ_r W[r, k]·dy[r] over all rows of W (dy has one value per row).</summary>
    public static void AddTransposedMatVec(double[] w, int cols, ReadOnlySpan<double> dy, Span<double> dx)
    {
        for (int r = 0; r < dy.Length; r++)
        {
            double g = dy[r];
            int row = r * cols;
            for (int k = 0; k < cols; k++)
            {
                dx[k] += w[row + k] * g;
            }
        }
    }

    /// <summary>dW[r, k] += dy[r]·x[k] (rank-one update of a matrix with x.Length columns).</summary>
    public static void AddOuter(double[] dw, ReadOnlySpan<double> dy, ReadOnlySpan<double> x)
    {
        int cols = x.Length;
        for (int r = 0; r < dy.Length; r++)
        {
            double g = dy[r];
            int row = r * cols;
            for (int k = 0; k < cols; k++)
            {
                dw[row + k] += g * x[k];
            }
        }
    }

    /// <summary>dst[i] += src[i].</summary>
    public static void Add(Span<double> dst, ReadOnlySpan<double> src)
    {
        for (int i = 0; i < dst.Length; i++)
        {
            dst[i] += src[i];
        }
    }

    public static double Sigmoid(double x) => 1.0 / (1.0 + Math.Exp(-x));
}
