namespace RecurrentCore.Models;

/// <summary>
/// Dense least squares in double: minimise <c>‖Xβ − y‖² + λ Σ_{j penalised} β_j²</c> for a row-major design X (n, p).
/// Column 0 may be left unpenalised (an intercept). Both solvers refuse a rank-deficient problem instead of
/// returning garbage.
/// </summary>
internal static class LeastSquares
{
    public static double[] Solve(double[] x, double[] y, int n, int p, double ridge, bool penalizeFirstColumn, LeastSquaresSolver solver) => solver switch
    {
        LeastSquaresSolver.Cholesky => SolveCholesky(x, y, n, p, ridge, penalizeFirstColumn),
        LeastSquaresSolver.HouseholderQR => SolveQR(x, y, n, p, ridge, penalizeFirstColumn),
        _ => throw new ArgumentOutOfRangeException(nameof(solver)),
    };

    /// <summary>A = XᵀX + λD, b = Xᵀy; A = LLᵀ; solve Lz = b, Lᵀβ = z.</summary>
    public static double[] SolveCholesky(double[] x, double[] y, int n, int p, double ridge, bool penalizeFirstColumn)
    {
        var a = new double[p * p];
        var b = new double[p];
        for (int r = 0; r < n; r++)
        {
            for (int i = 0; i < p; i++)
            {
                double xi = x[(r * p) + i];
                b[i] += xi * y[r];
                for (int j = 0; j <= i; j++)
                {
                    a[(i * p) + j] += xi * x[(r * p) + j];
                }
            }
        }

        for (int i = penalizeFirstColumn ? 0 : 1; i < p; i++)
        {
            a[(i * p) + i] += ridge;
        }

        double scale = 0;
        for (int i = 0; i < p; i++)
        {
            scale = Math.Max(scale, a[(i * p) + i]);
        }

        // In-place lower Cholesky factor.
        for (int j = 0; j < p; j++)
        {
            double d = a[(j * p) + j];
            for (int k = 0; k < j; k++)
            {
                d -= a[(j * p) + k] * a[(j * p) + k];
            }

            if (!(d > scale * 1e-13))
            {
                throw new ArgumentException("The least-squares problem is rank-deficient (e.g. a constant series); add a ridge penalty.");
            }

            double l = Math.Sqrt(d);
            a[(j * p) + j] = l;
            for (int i = j + 1; i < p; i++)
            {
                double s = a[(i * p) + j];
                for (int k = 0; k < j; k++)
                {
                    s -= a[(i * p) + k] * a[(j * p) + k];
                }

                a[(i * p) + j] = s / l;
            }
        }

        for (int i = 0; i < p; i++)
        {
            double s = b[i];
            for (int k = 0; k < i; k++)
            {
                s -= a[(i * p) + k] * b[k];
            }

            b[i] = s / a[(i * p) + i];
        }

        for (int i = p - 1; i >= 0; i--)
        {
            double s = b[i];
            for (int k = i + 1; k < p; k++)
            {
                s -= a[(k * p) + i] * b[k];
            }

            b[i] = s / a[(i * p) + i];
        }

        return b;
    }

    /// <summary>Householder QR of [X; √λD] (m = n + p rows), applied to [y; 0] as it goes; then back substitution.</summary>
    public static double[] SolveQR(double[] x, double[] y, int n, int p, double ridge, bool penalizeFirstColumn)
    {
        int m = n + p;
        var a = new double[m * p];
        var c = new double[m];
        Array.Copy(x, a, n * p);
        Array.Copy(y, c, n);
        double root = Math.Sqrt(ridge);
        for (int i = penalizeFirstColumn ? 0 : 1; i < p; i++)
        {
            a[((n + i) * p) + i] = root;
        }

        double maxNorm = 0;
        var v = new double[m];
        for (int j = 0; j < p; j++)
        {
            double norm = 0;
            for (int i = j; i < m; i++)
            {
                norm += a[(i * p) + j] * a[(i * p) + j];
            }

            norm = Math.Sqrt(norm);
            maxNorm = Math.Max(maxNorm, norm);
            if (!(norm > maxNorm * 1e-12))
            {
                throw new ArgumentException("The least-squares problem is rank-deficient (e.g. a constant series); add a ridge penalty.");
            }

            // v = a_j + sign(a_jj)‖a_j‖e_j avoids cancellation; H = I − 2vvᵀ/vᵀv.
            double alpha = a[(j * p) + j] >= 0 ? -norm : norm;
            double vv = 0;
            for (int i = j; i < m; i++)
            {
                v[i] = a[(i * p) + j];
            }

            v[j] -= alpha;
            for (int i = j; i < m; i++)
            {
                vv += v[i] * v[i];
            }

            for (int k = j; k < p; k++)
            {
                double s = 0;
                for (int i = j; i < m; i++)
                {
                    s += v[i] * a[(i * p) + k];
                }

                s = 2 * s / vv;
                for (int i = j; i < m; i++)
                {
                    a[(i * p) + k] -= s * v[i];
                }
            }

            double t = 0;
            for (int i = j; i < m; i++)
            {
                t += v[i] * c[i];
            }

            t = 2 * t / vv;
            for (int i = j; i < m; i++)
            {
                c[i] -= t * v[i];
            }
        }

        var beta = new double[p];
        for (int i = p - 1; i >= 0; i--)
        {
            double s = c[i];
            for (int k = i + 1; k < p; k++)
            {
                s -= a[(i * p) + k] * beta[k];
            }

            beta[i] = s / a[(i * p) + i];
        }

        return beta;
    }
}
