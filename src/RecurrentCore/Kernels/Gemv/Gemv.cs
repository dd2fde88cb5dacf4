using System.Runtime.CompilerServices;
using RecurrentCore.Kernels.Simd;

namespace RecurrentCore.Kernels;

/// <summary>
/// Matrix–vector products on a row-major float32 matrix <c>W</c> (<c>rows × cols</c>): the recurrent
/// projection <c>y (+)= W·x</c> and its backward <c>y (+)= Wᵀ·x</c>. Spans and dimensions only: callers never pad
/// or align, and no element past a logical end is read or written.
/// </summary>
/// <remarks>
/// Deterministic: the order in which a given output element is summed depends only on the shapes and the
/// variant, never on alignment, on the row/column block an element falls into, or on earlier calls.
/// <c>y</c> must not overlap <c>w</c> or <c>x</c>. Spans may be longer than needed; only their prefixes are used.
/// No call allocates.
/// </remarks>
internal static class Gemv
{
    /// <summary>
    /// <c>y[r] = (accumulate ? y[r] : 0) + Σ_c w[r·cols + c]·x[c]</c> for <c>r &lt; rows</c>, using <see cref="KernelCatalog.Active"/>.
    /// </summary>
    /// <param name="w">The matrix, row-major, at least <c>rows·cols</c> elements.</param>
    /// <param name="rows">Rows of <paramref name="w"/> (outputs).</param>
    /// <param name="cols">Columns of <paramref name="w"/> (inputs).</param>
    /// <param name="x">The input vector, at least <paramref name="cols"/> elements.</param>
    /// <param name="y">The output vector, at least <paramref name="rows"/> elements.</param>
    /// <param name="accumulate">Add to <paramref name="y"/> instead of overwriting it.</param>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is negative.</exception>
    /// <exception cref="ArgumentException">A span is shorter than its shape requires (the exception names it).</exception>
    public static void Multiply(ReadOnlySpan<float> w, int rows, int cols, ReadOnlySpan<float> x, Span<float> y, bool accumulate)
        => Multiply(w, rows, cols, x, y, accumulate, KernelCatalog.Active);

    /// <summary>
    /// <c>y[r] = (accumulate ? y[r] : 0) + Σ_c w[r·cols + c]·x[c]</c> for <c>r &lt; rows</c>, with the given variant.
    /// </summary>
    /// <param name="w">The matrix, row-major, at least <c>rows·cols</c> elements.</param>
    /// <param name="rows">Rows of <paramref name="w"/> (outputs).</param>
    /// <param name="cols">Columns of <paramref name="w"/> (inputs).</param>
    /// <param name="x">The input vector, at least <paramref name="cols"/> elements.</param>
    /// <param name="y">The output vector, at least <paramref name="rows"/> elements.</param>
    /// <param name="accumulate">Add to <paramref name="y"/> instead of overwriting it.</param>
    /// <param name="variant">The kernel variant; it must be in <see cref="KernelCatalog.Supported"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is negative.</exception>
    /// <exception cref="ArgumentException">A span is too short, or <paramref name="variant"/> is not supported here.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe void Multiply(ReadOnlySpan<float> w, int rows, int cols, ReadOnlySpan<float> x, Span<float> y, bool accumulate, KernelVariant variant)
    {
        Check(w, rows, cols, x, cols, nameof(x), y, rows, nameof(y), variant);
        if (rows == 0)
        {
            return;
        }

        if (cols == 0)
        {
            if (!accumulate)
            {
                y[..rows].Clear();
            }

            return;
        }

        fixed (float* pw = w)
        fixed (float* px = x)
        fixed (float* py = y)
        {
            var call = new Call { W = pw, Rows = rows, Cols = cols, X = px, Y = py, Accumulate = accumulate, Transposed = false };
            KernelCatalog.Visit<Call, bool>(variant, ref call);
        }
    }

    /// <summary>
    /// <c>y[c] = (accumulate ? y[c] : 0) + Σ_r w[r·cols + c]·x[r]</c> for <c>c &lt; cols</c> (that is <c>y (+)= Wᵀ·x</c>),
    /// using <see cref="KernelCatalog.Active"/>.
    /// </summary>
    /// <param name="w">The matrix, row-major, at least <c>rows·cols</c> elements.</param>
    /// <param name="rows">Rows of <paramref name="w"/> (inputs of this product).</param>
    /// <param name="cols">Columns of <paramref name="w"/> (outputs of this product).</param>
    /// <param name="x">The input vector, at least <paramref name="rows"/> elements.</param>
    /// <param name="y">The output vector, at least <paramref name="cols"/> elements.</param>
    /// <param name="accumulate">Add to <paramref name="y"/> instead of overwriting it.</param>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is negative.</exception>
    /// <exception cref="ArgumentException">A span is shorter than its shape requires (the exception names it).</exception>
    public static void MultiplyTransposed(ReadOnlySpan<float> w, int rows, int cols, ReadOnlySpan<float> x, Span<float> y, bool accumulate)
        => MultiplyTransposed(w, rows, cols, x, y, accumulate, KernelCatalog.Active);

    /// <summary>
    /// <c>y[c] = (accumulate ? y[c] : 0) + Σ_r w[r·cols + c]·x[r]</c> for <c>c &lt; cols</c> (that is <c>y (+)= Wᵀ·x</c>),
    /// with the given variant. Each output sums its rows in an order fixed by the shape and variant (one chain over
    /// <c>r</c> in order; AVX-512: four interleaved chains over <c>r mod 4</c>, then <c>(s0 + s1) + (s2 + s3)</c>).
    /// </summary>
    /// <param name="w">The matrix, row-major, at least <c>rows·cols</c> elements.</param>
    /// <param name="rows">Rows of <paramref name="w"/> (inputs of this product).</param>
    /// <param name="cols">Columns of <paramref name="w"/> (outputs of this product).</param>
    /// <param name="x">The input vector, at least <paramref name="rows"/> elements.</param>
    /// <param name="y">The output vector, at least <paramref name="cols"/> elements.</param>
    /// <param name="accumulate">Add to <paramref name="y"/> instead of overwriting it.</param>
    /// <param name="variant">The kernel variant; it must be in <see cref="KernelCatalog.Supported"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is negative.</exception>
    /// <exception cref="ArgumentException">A span is too short, or <paramref name="variant"/> is not supported here.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe void MultiplyTransposed(ReadOnlySpan<float> w, int rows, int cols, ReadOnlySpan<float> x, Span<float> y, bool accumulate, KernelVariant variant)
    {
        Check(w, rows, cols, x, rows, nameof(x), y, cols, nameof(y), variant);
        if (cols == 0)
        {
            return;
        }

        if (rows == 0)
        {
            if (!accumulate)
            {
                y[..cols].Clear();
            }

            return;
        }

        fixed (float* pw = w)
        fixed (float* px = x)
        fixed (float* py = y)
        {
            var call = new Call { W = pw, Rows = rows, Cols = cols, X = px, Y = py, Accumulate = accumulate, Transposed = true };
            KernelCatalog.Visit<Call, bool>(variant, ref call);
        }
    }

    private static void Check(ReadOnlySpan<float> w, int rows, int cols, ReadOnlySpan<float> x, int xNeed, string xName, Span<float> y, int yNeed, string yName, KernelVariant variant)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegative(cols);
        if (w.Length < (long)rows * cols)
        {
            throw new ArgumentException($"w has {w.Length} elements; rows·cols = {(long)rows * cols} are needed", nameof(w));
        }

        if (x.Length < xNeed)
        {
            throw new ArgumentException($"x has {x.Length} elements; {xNeed} are needed", xName);
        }

        if (y.Length < yNeed)
        {
            throw new ArgumentException($"y has {y.Length} elements; {yNeed} are needed", yName);
        }

        if (!KernelCatalog.IsSupported(variant))
        {
            throw new ArgumentException($"kernel variant {variant} is not supported by this process", nameof(variant));
        }
    }

    /// <summary>One product with the visited width's <see cref="GemvKernel{TS, TV}"/>.</summary>
    private unsafe struct Call : ISimdVisitor<bool>
    {
        public float* W;
        public int Rows;
        public int Cols;
        public float* X;
        public float* Y;
        public bool Accumulate;
        public bool Transposed;

        public readonly bool Visit<TS, TV>()
            where TS : struct, ISimd<TV>
            where TV : unmanaged
        {
            if (Transposed)
            {
                GemvKernel<TS, TV>.MultiplyTransposed(W, Rows, Cols, X, Y, Accumulate);
            }
            else
            {
                GemvKernel<TS, TV>.Multiply(W, Rows, Cols, X, Y, Accumulate);
            }

            return true;
        }
    }
}
