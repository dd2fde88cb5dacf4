using System.Runtime.CompilerServices;

namespace RecurrentCore.Kernels;

/// <summary>Scalar GEMM: one float chain per output element, from its base, over the reduction index in order.</summary>
internal static unsafe class GemmScalar
{
    /// <summary><c>C[i, j] = base + Σ_r A[i, r]·W[j, r]</c>; a packed scalar matrix is the row-major <c>W</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MultiplyPacked(float* a, int m, int k, float* w, int n, float* bias, float* c, bool accumulate)
    {
        for (int i = 0; i < m; i++)
        {
            float* ai = a + ((nint)i * k);
            float* ci = c + ((nint)i * n);
            for (int j = 0; j < n; j++)
            {
                float* wj = w + ((nint)j * k);
                float s = accumulate ? ci[j] : 0;
                if (bias != null)
                {
                    s += bias[j];
                }

                for (int r = 0; r < k; r++)
                {
                    s += ai[r] * wj[r];
                }

                ci[j] = s;
            }
        }
    }

    /// <summary><c>C[i, j] = base + Σ_r A(i, r)·B[r, j]</c> with <c>A(i, r) = a[i·aRow + r·aStep]</c>, swept row-wise.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Multiply(float* a, nint aRow, nint aStep, int rows, float* b, nint bStride, int cols, int depth, float* c, bool accumulate)
    {
        for (int i = 0; i < rows; i++)
        {
            float* ci = c + ((nint)i * cols);
            if (!accumulate)
            {
                new Span<float>(ci, cols).Clear();
            }

            for (int r = 0; r < depth; r++)
            {
                float air = a[(i * aRow) + (r * aStep)];
                float* br = b + (r * bStride);
                for (int j = 0; j < cols; j++)
                {
                    ci[j] += air * br[j];
                }
            }
        }
    }
}
