using System.Runtime.CompilerServices;
using RecurrentCore.Kernels.Simd;

namespace RecurrentCore.Kernels;

/// <summary>
/// Matrix–matrix products on row-major float32 matrices, in the three shapes a recurrent layer needs:
/// the input projection <c>C (+)= A·Bᵀ (+ bias)</c> against a pre-packed weight <see cref="PackedMatrix"/>
/// (<c>B</c> is <c>N×K</c> as PyTorch stores <c>W_ih</c>), the weight gradient <c>C (+)= Aᵀ·B</c>
/// (<c>dW += dGᵀ·X</c>) and the input gradient <c>C (+)= A·B</c> (<c>dX = dG·W</c>).
/// </summary>
/// <remarks>
/// <para>Spans and dimensions only; no padding or alignment is asked of callers and nothing outside the logical
/// extents is read or written. Spans may be longer than their shapes need. <c>c</c> must not overlap the inputs.</para>
/// <para>Deterministic: every output element is <c>base</c> followed by its reduction in blocks of
/// <see cref="DepthBlock"/> consecutive terms, each block summed as one chain in index order and then added to the
/// element. That order depends on the shapes and the variant only, never on how rows or columns are tiled or split,
/// so splitting a product over rows or columns (for threads) gives the same bits. The scalar variant sums one chain
/// per element without blocks. No call allocates.</para>
/// </remarks>
internal static class Gemm
{
    /// <summary>The reduction block: terms are summed in chains of this length before being added to the output.</summary>
    public const int DepthBlock = 256;

    /// <summary>
    /// <c>C[i, j] = (accumulate ? C[i, j] : 0) + bias[j] + Σ_k A[i, k]·B[j, k]</c>: <c>C[M×N] (+)= A[M×K]·Bᵀ</c>
    /// with <c>B</c> the packed <c>N×K</c> weight, in the variant it was packed for. One call projects a whole sequence
    /// (<c>M = T·batch</c> rows).
    /// </summary>
    /// <param name="a">The left matrix <c>A</c>, <c>M×K</c> row-major (<c>K = b.Columns</c>).</param>
    /// <param name="m">Rows of <paramref name="a"/> and <paramref name="c"/>.</param>
    /// <param name="b">The packed weight (<c>N = b.Rows</c>, <c>K = b.Columns</c>).</param>
    /// <param name="bias">Empty, or <c>N</c> values added to every row of <c>C</c>.</param>
    /// <param name="c">The output <c>C</c>, <c>M×N</c> row-major.</param>
    /// <param name="accumulate">Add to <paramref name="c"/> instead of overwriting it.</param>
    /// <exception cref="ArgumentNullException"><paramref name="b"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="m"/> is negative.</exception>
    /// <exception cref="ArgumentException">A span is too short (the exception names it), or the packed variant is not supported here.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe void Multiply(ReadOnlySpan<float> a, int m, PackedMatrix b, ReadOnlySpan<float> bias, Span<float> c, bool accumulate)
    {
        ArgumentNullException.ThrowIfNull(b);
        ArgumentOutOfRangeException.ThrowIfNegative(m);
        int n = b.Rows, k = b.Columns;
        Need(a.Length, (long)m * k, nameof(a));
        Need(c.Length, (long)m * n, nameof(c));
        if (!bias.IsEmpty)
        {
            Need(bias.Length, n, nameof(bias));
        }

        CheckVariant(b.Variant, nameof(b));
        if (m == 0 || n == 0)
        {
            return;
        }

        if (k == 0)
        {
            FillBase(c, m, n, bias, accumulate);
            return;
        }

        fixed (float* pa = a)
        fixed (float* pc = c)
        fixed (float* pbias = bias)
        fixed (float* pbStore = b.Store)
        {
            float* pb = pbStore + b.Offset;
            float* pbi = bias.IsEmpty ? null : pbias;
            nint panel = (nint)k * b.PanelWidth;
            if (b.Variant == KernelVariant.Scalar)
            {
                GemmScalar.MultiplyPacked(pa, m, k, pb, n, pbi, pc, accumulate);
            }
            else
            {
                var run = new DriverCall(pa, k, 1, m, pb, b.PanelWidth, panel, true, n, k, pc, n, accumulate, pbi);
                KernelCatalog.Visit<DriverCall, bool>(b.Variant, ref run);
            }
        }
    }

    /// <summary>
    /// <c>C[j, l] = (accumulate ? C[j, l] : 0) + Σ_i A[i, j]·B[i, l]</c>: <c>C[N×K] (+)= Aᵀ·B</c> with <c>A</c> <c>M×N</c>
    /// and <c>B</c> <c>M×K</c>; the weight gradient <c>dW += dGᵀ·X</c> summed over all steps, using <see cref="KernelCatalog.Active"/>.
    /// </summary>
    /// <param name="a">The matrix <c>A</c> (<c>dG</c>), <c>M×N</c> row-major.</param>
    /// <param name="b">The matrix <c>B</c> (<c>X</c>), <c>M×K</c> row-major.</param>
    /// <param name="m">The reduction length (rows of both inputs).</param>
    /// <param name="n">Columns of <paramref name="a"/>, rows of <paramref name="c"/>.</param>
    /// <param name="k">Columns of <paramref name="b"/> and <paramref name="c"/>.</param>
    /// <param name="c">The output <c>C</c> (<c>dW</c>), <c>N×K</c> row-major.</param>
    /// <param name="accumulate">Add to <paramref name="c"/> instead of overwriting it.</param>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is negative.</exception>
    /// <exception cref="ArgumentException">A span is too short (the exception names it).</exception>
    public static void MultiplyTransposedA(ReadOnlySpan<float> a, ReadOnlySpan<float> b, int m, int n, int k, Span<float> c, bool accumulate)
        => MultiplyTransposedA(a, b, m, n, k, c, accumulate, KernelCatalog.Active);

    /// <summary>
    /// <c>C[N×K] (+)= Aᵀ·B</c> as <see cref="MultiplyTransposedA(ReadOnlySpan{float}, ReadOnlySpan{float}, int, int, int, Span{float}, bool)"/>, with the given variant.
    /// </summary>
    /// <param name="a">The matrix <c>A</c> (<c>dG</c>), <c>M×N</c> row-major.</param>
    /// <param name="b">The matrix <c>B</c> (<c>X</c>), <c>M×K</c> row-major.</param>
    /// <param name="m">The reduction length (rows of both inputs).</param>
    /// <param name="n">Columns of <paramref name="a"/>, rows of <paramref name="c"/>.</param>
    /// <param name="k">Columns of <paramref name="b"/> and <paramref name="c"/>.</param>
    /// <param name="c">The output <c>C</c> (<c>dW</c>), <c>N×K</c> row-major.</param>
    /// <param name="accumulate">Add to <paramref name="c"/> instead of overwriting it.</param>
    /// <param name="variant">The kernel variant; it must be in <see cref="KernelCatalog.Supported"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is negative.</exception>
    /// <exception cref="ArgumentException">A span is too short, or <paramref name="variant"/> is not supported here.</exception>
    public static void MultiplyTransposedA(ReadOnlySpan<float> a, ReadOnlySpan<float> b, int m, int n, int k, Span<float> c, bool accumulate, KernelVariant variant)
        => MultiplyTransposedA(a, n, b, m, n, k, c, accumulate, variant);

    /// <summary>
    /// <c>C[j, l] = (accumulate ? C[j, l] : 0) + Σ_i A[i, j]·B[i, l]</c> with <c>A</c> <c>M×N</c> inside rows
    /// <paramref name="aStride"/> apart: a block of columns of a wider <c>dG</c>, so that output rows <c>j0..j1</c> of
    /// <c>dW = dGᵀ·X</c> are the product of <c>dG</c>'s columns <c>j0..j1</c>. Every element gets the same bits as in the whole
    /// product (the reduction order depends on <c>M</c> only), which is what lets threads split a weight gradient by output rows.
    /// </summary>
    /// <param name="a">The matrix <c>A</c>: element <c>(i, j)</c> at <c>a[i·aStride + j]</c>.</param>
    /// <param name="aStride">The row stride of <paramref name="a"/>, at least <paramref name="n"/>.</param>
    /// <param name="b">The matrix <c>B</c> (<c>X</c>), <c>M×K</c> row-major.</param>
    /// <param name="m">The reduction length (rows of both inputs).</param>
    /// <param name="n">Columns of <paramref name="a"/> used, rows of <paramref name="c"/>.</param>
    /// <param name="k">Columns of <paramref name="b"/> and <paramref name="c"/>.</param>
    /// <param name="c">The output <c>C</c>, <c>N×K</c> row-major.</param>
    /// <param name="accumulate">Add to <paramref name="c"/> instead of overwriting it.</param>
    /// <param name="variant">The kernel variant; it must be in <see cref="KernelCatalog.Supported"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is negative, or <paramref name="aStride"/> is below <paramref name="n"/>.</exception>
    /// <exception cref="ArgumentException">A span is too short, or <paramref name="variant"/> is not supported here.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe void MultiplyTransposedA(ReadOnlySpan<float> a, int aStride, ReadOnlySpan<float> b, int m, int n, int k, Span<float> c, bool accumulate, KernelVariant variant)
    {
        CheckDims(m, n, k);
        ArgumentOutOfRangeException.ThrowIfLessThan(aStride, n);
        Need(a.Length, m == 0 ? 0 : ((long)(m - 1) * aStride) + n, nameof(a));
        Need(b.Length, (long)m * k, nameof(b));
        Need(c.Length, (long)n * k, nameof(c));
        CheckVariant(variant, nameof(variant));
        if (n == 0 || k == 0)
        {
            return;
        }

        if (m == 0)
        {
            FillBase(c, n, k, default, accumulate);
            return;
        }

        fixed (float* pa = a)
        fixed (float* pb = b)
        fixed (float* pc = c)
        {
            // Output rows are columns of A: A(j, i) = a[i·aStride + j].
            if (variant == KernelVariant.Scalar)
            {
                GemmScalar.Multiply(pa, 1, aStride, n, pb, k, k, m, pc, accumulate);
            }
            else
            {
                var run = new DriverCall(pa, 1, aStride, n, pb, k, 0, false, k, m, pc, k, accumulate, null);
                KernelCatalog.Visit<DriverCall, bool>(variant, ref run);
            }
        }
    }

    /// <summary>
    /// <c>C[i, l] = (accumulate ? C[i, l] : 0) + Σ_j A[i, j]·B[j, l]</c>: <c>C[M×K] (+)= A·B</c> with <c>A</c> <c>M×N</c>
    /// and <c>B</c> <c>N×K</c>; the input gradient <c>dX = dG·W</c>, using <see cref="KernelCatalog.Active"/>.
    /// </summary>
    /// <param name="a">The matrix <c>A</c> (<c>dG</c>), <c>M×N</c> row-major.</param>
    /// <param name="b">The matrix <c>B</c> (<c>W</c>), <c>N×K</c> row-major.</param>
    /// <param name="m">Rows of <paramref name="a"/> and <paramref name="c"/>.</param>
    /// <param name="n">The reduction length (columns of <paramref name="a"/>, rows of <paramref name="b"/>).</param>
    /// <param name="k">Columns of <paramref name="b"/> and <paramref name="c"/>.</param>
    /// <param name="c">The output <c>C</c> (<c>dX</c>), <c>M×K</c> row-major.</param>
    /// <param name="accumulate">Add to <paramref name="c"/> instead of overwriting it.</param>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is negative.</exception>
    /// <exception cref="ArgumentException">A span is too short (the exception names it).</exception>
    public static void MultiplyNotTransposed(ReadOnlySpan<float> a, ReadOnlySpan<float> b, int m, int n, int k, Span<float> c, bool accumulate)
        => MultiplyNotTransposed(a, b, m, n, k, c, accumulate, KernelCatalog.Active);

    /// <summary>
    /// <c>C[M×K] (+)= A·B</c> as <see cref="MultiplyNotTransposed(ReadOnlySpan{float}, ReadOnlySpan{float}, int, int, int, Span{float}, bool)"/>, with the given variant.
    /// </summary>
    /// <param name="a">The matrix <c>A</c> (<c>dG</c>), <c>M×N</c> row-major.</param>
    /// <param name="b">The matrix <c>B</c> (<c>W</c>), <c>N×K</c> row-major.</param>
    /// <param name="m">Rows of <paramref name="a"/> and <paramref name="c"/>.</param>
    /// <param name="n">The reduction length (columns of <paramref name="a"/>, rows of <paramref name="b"/>).</param>
    /// <param name="k">Columns of <paramref name="b"/> and <paramref name="c"/>.</param>
    /// <param name="c">The output <c>C</c> (<c>dX</c>), <c>M×K</c> row-major.</param>
    /// <param name="accumulate">Add to <paramref name="c"/> instead of overwriting it.</param>
    /// <param name="variant">The kernel variant; it must be in <see cref="KernelCatalog.Supported"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is negative.</exception>
    /// <exception cref="ArgumentException">A span is too short, or <paramref name="variant"/> is not supported here.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe void MultiplyNotTransposed(ReadOnlySpan<float> a, ReadOnlySpan<float> b, int m, int n, int k, Span<float> c, bool accumulate, KernelVariant variant)
    {
        CheckDims(m, n, k);
        Need(a.Length, (long)m * n, nameof(a));
        Need(b.Length, (long)n * k, nameof(b));
        Need(c.Length, (long)m * k, nameof(c));
        CheckVariant(variant, nameof(variant));
        if (m == 0 || k == 0)
        {
            return;
        }

        if (n == 0)
        {
            FillBase(c, m, k, default, accumulate);
            return;
        }

        fixed (float* pa = a)
        fixed (float* pb = b)
        fixed (float* pc = c)
        {
            if (variant == KernelVariant.Scalar)
            {
                GemmScalar.Multiply(pa, n, 1, m, pb, k, k, n, pc, accumulate);
            }
            else
            {
                var run = new DriverCall(pa, n, 1, m, pb, k, 0, false, k, n, pc, k, accumulate, null);
                KernelCatalog.Visit<DriverCall, bool>(variant, ref run);
            }
        }
    }

    private static void CheckDims(int m, int n, int k)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(m);
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        ArgumentOutOfRangeException.ThrowIfNegative(k);
    }

    internal static void Need(int length, long needed, string name)
    {
        if (length < needed)
        {
            throw new ArgumentException($"{name} has {length} elements; {needed} are needed", name);
        }
    }

    internal static void CheckVariant(KernelVariant variant, string name)
    {
        if (!KernelCatalog.IsSupported(variant))
        {
            throw new ArgumentException($"kernel variant {variant} is not supported by this process", name);
        }
    }

    /// <summary>An empty reduction: <c>C = (accumulate ? C : 0) + bias</c>.</summary>
    private static void FillBase(Span<float> c, int rows, int cols, ReadOnlySpan<float> bias, bool accumulate)
    {
        for (int i = 0; i < rows; i++)
        {
            var row = c.Slice(i * cols, cols);
            if (!accumulate)
            {
                row.Clear();
            }

            if (!bias.IsEmpty)
            {
                for (int j = 0; j < cols; j++)
                {
                    row[j] += bias[j];
                }
            }
        }
    }

    /// <summary>The tile width of <paramref name="variant"/>'s micro-kernel: the packed panel width (1 for scalar).</summary>
    internal static int PanelWidth(KernelVariant variant)
    {
        var width = default(TileWidth);
        return KernelCatalog.Visit<TileWidth, int>(variant, ref width);
    }

    /// <summary>One <see cref="GemmDriver.Run{TK}"/> call with the visited width's <see cref="GemmTile{TS, TV}"/>.</summary>
    private readonly unsafe struct DriverCall(float* a, nint aRow, nint aStep, int rows, float* b, nint bStride, nint panelStride, bool packed,
        int cols, int depth, float* c, nint cStride, bool accumulate, float* bias) : ISimdVisitor<bool>
    {
        public bool Visit<TS, TV>()
            where TS : struct, ISimd<TV>
            where TV : unmanaged
        {
            GemmDriver.Run<GemmTile<TS, TV>>(a, aRow, aStep, rows, b, bStride, panelStride, packed, cols, depth, c, cStride, accumulate, bias);
            return true;
        }
    }

    private readonly struct TileWidth : ISimdVisitor<int>
    {
        public int Visit<TS, TV>()
            where TS : struct, ISimd<TV>
            where TV : unmanaged
            => TS.Count == 1 ? 1 : GemmTile<TS, TV>.ColumnsPerTile;
    }
}
