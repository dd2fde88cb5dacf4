using System.Runtime.CompilerServices;

namespace RecurrentCore.Kernels;

/// <summary>Scalar GEMV: one float chain per output in index order (the reference shape of every variant).</summary>
internal static unsafe class GemvScalar
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Multiply(float* w, int rows, int cols, float* x, float* y, bool accumulate)
    {
        for (int r = 0; r < rows; r++)
        {
            float* wr = w + ((nint)r * cols);
            float s = 0;
            for (int c = 0; c < cols; c++)
            {
                s += wr[c] * x[c];
            }

            y[r] = accumulate ? y[r] + s : s;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MultiplyTransposed(float* w, int rows, int cols, float* x, float* y, bool accumulate)
    {
        if (!accumulate)
        {
            new Span<float>(y, cols).Clear();
        }

        // Row-major sweep: each y[c] still sums r = 0, 1, … in order.
        for (int r = 0; r < rows; r++)
        {
            float* wr = w + ((nint)r * cols);
            float xr = x[r];
            for (int c = 0; c < cols; c++)
            {
                y[c] += wr[c] * xr;
            }
        }
    }
}
