using System.Runtime.CompilerServices;
using RecurrentCore.Kernels.Simd;

namespace RecurrentCore.Kernels;

/// <summary>
/// GEMV written once for every width <typeparamref name="TS"/>, without checks: the hot path's entry once a caller has
/// picked its instantiation (<see cref="KernelCatalog.Visit{TVisitor, TResult}"/>); <see cref="Gemv"/> validates and
/// dispatches to it. <c>w</c> is row-major <c>rows × cols</c>; <c>y</c> must not overlap <c>w</c> or <c>x</c>; no read
/// passes a row's end or <c>x</c>'s.
/// </summary>
/// <remarks>
/// <para><see cref="Multiply"/>: rows in blocks of 4 share each load of x; two accumulators per row (even and odd
/// registers of the row); the four rows' horizontal sums (<see cref="ISimd{TV}.Sum"/>) share their last steps; the
/// column tail re-reads the last full register with the already-counted lanes masked to zero. A row left over from the
/// blocks of 4 takes the same operations, so its result never depends on <c>rows % 4</c>. Rows shorter than one register
/// are one fused chain in index order.</para>
/// <para><see cref="MultiplyTransposed"/>: with 16 lanes, each output lane sums four interleaved chains over
/// <c>r mod 4</c>, then <c>(s0 + s1) + (s2 + s3)</c>, in blocks of 4 registers (4 column registers alone would be too
/// few chains to hide the FMA latency); narrower widths sum one chain over <c>r</c> in order, in blocks of 8, 4 and 1
/// registers. The column tail overlaps the last full register and stores only the new lanes.</para>
/// <para>Scalar (<c>Count == 1</c>): one unfused chain per output in index order, the reference shape.</para>
/// </remarks>
internal static unsafe class GemvKernel<TS, TV>
    where TS : struct, ISimd<TV>
    where TV : unmanaged
{
    /// <summary><c>y[r] = (accumulate ? y[r] : 0) + Σ_c w[r·cols + c]·x[c]</c> for <c>r &lt; rows</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Multiply(float* w, int rows, int cols, float* x, float* y, bool accumulate)
    {
        int n = TS.Count;
        if (n == 1)
        {
            MultiplyScalar(w, rows, cols, x, y, accumulate);
            return;
        }

        if (cols < n)
        {
            MultiplyNarrow(w, rows, cols, x, y, accumulate);
            return;
        }

        int rem = cols % n;
        int tail = cols - n;
        TV mask = TS.TailMask(rem);
        TV xTail = TS.Select(mask, TS.Load(x + tail), TS.Zero);
        int r = 0;
        for (; r <= rows - 4; r += 4)
        {
            float* w0 = w + ((nint)r * cols);
            float* w1 = w0 + cols;
            float* w2 = w1 + cols;
            float* w3 = w2 + cols;
            TV a0 = TS.Zero, a1 = TS.Zero, a2 = TS.Zero, a3 = TS.Zero;
            TV b0 = TS.Zero, b1 = TS.Zero, b2 = TS.Zero, b3 = TS.Zero;
            int c = 0;
            for (; c <= cols - (2 * n); c += 2 * n)
            {
                TV xa = TS.Load(x + c);
                TV xb = TS.Load(x + c + n);
                a0 = TS.MultiplyAdd(TS.Load(w0 + c), xa, a0);
                a1 = TS.MultiplyAdd(TS.Load(w1 + c), xa, a1);
                a2 = TS.MultiplyAdd(TS.Load(w2 + c), xa, a2);
                a3 = TS.MultiplyAdd(TS.Load(w3 + c), xa, a3);
                b0 = TS.MultiplyAdd(TS.Load(w0 + c + n), xb, b0);
                b1 = TS.MultiplyAdd(TS.Load(w1 + c + n), xb, b1);
                b2 = TS.MultiplyAdd(TS.Load(w2 + c + n), xb, b2);
                b3 = TS.MultiplyAdd(TS.Load(w3 + c + n), xb, b3);
            }

            if (c <= cols - n)
            {
                TV xa = TS.Load(x + c);
                a0 = TS.MultiplyAdd(TS.Load(w0 + c), xa, a0);
                a1 = TS.MultiplyAdd(TS.Load(w1 + c), xa, a1);
                a2 = TS.MultiplyAdd(TS.Load(w2 + c), xa, a2);
                a3 = TS.MultiplyAdd(TS.Load(w3 + c), xa, a3);
            }

            if (rem != 0)
            {
                b0 = TS.MultiplyAdd(TS.Select(mask, TS.Load(w0 + tail), TS.Zero), xTail, b0);
                b1 = TS.MultiplyAdd(TS.Select(mask, TS.Load(w1 + tail), TS.Zero), xTail, b1);
                b2 = TS.MultiplyAdd(TS.Select(mask, TS.Load(w2 + tail), TS.Zero), xTail, b2);
                b3 = TS.MultiplyAdd(TS.Select(mask, TS.Load(w3 + tail), TS.Zero), xTail, b3);
            }

            TS.StoreSums4(TS.Add(a0, b0), TS.Add(a1, b1), TS.Add(a2, b2), TS.Add(a3, b3), y + r, accumulate);
        }

        for (; r < rows; r++)
        {
            float* w0 = w + ((nint)r * cols);
            TV a0 = TS.Zero, b0 = TS.Zero;
            int c = 0;
            for (; c <= cols - (2 * n); c += 2 * n)
            {
                a0 = TS.MultiplyAdd(TS.Load(w0 + c), TS.Load(x + c), a0);
                b0 = TS.MultiplyAdd(TS.Load(w0 + c + n), TS.Load(x + c + n), b0);
            }

            if (c <= cols - n)
            {
                a0 = TS.MultiplyAdd(TS.Load(w0 + c), TS.Load(x + c), a0);
            }

            if (rem != 0)
            {
                b0 = TS.MultiplyAdd(TS.Select(mask, TS.Load(w0 + tail), TS.Zero), xTail, b0);
            }

            float s = TS.Sum(TS.Add(a0, b0));
            y[r] = accumulate ? y[r] + s : s;
        }
    }

    /// <summary><c>y[c] = (accumulate ? y[c] : 0) + Σ_r w[r·cols + c]·x[r]</c> for <c>c &lt; cols</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MultiplyTransposed(float* w, int rows, int cols, float* x, float* y, bool accumulate)
    {
        if (TS.Count == 1)
        {
            MultiplyTransposedScalar(w, rows, cols, x, y, accumulate);
        }
        else if (TS.Count >= 16)
        {
            MultiplyTransposedInterleaved(w, rows, cols, x, y, accumulate);
        }
        else
        {
            MultiplyTransposedInOrder(w, rows, cols, x, y, accumulate);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MultiplyTransposedInterleaved(float* w, int rows, int cols, float* x, float* y, bool accumulate)
    {
        int n = TS.Count;
        if (cols < n)
        {
            MultiplyTransposedNarrowInterleaved(w, rows, cols, x, y, accumulate);
            return;
        }

        int c = 0;
        nint ld = cols;
        for (; c <= cols - (4 * n); c += 4 * n)
        {
            float* yc = y + c;
            TV s00 = TS.Zero, s01 = TS.Zero, s02 = TS.Zero, s03 = TS.Zero;
            TV s10 = TS.Zero, s11 = TS.Zero, s12 = TS.Zero, s13 = TS.Zero;
            TV s20 = TS.Zero, s21 = TS.Zero, s22 = TS.Zero, s23 = TS.Zero;
            TV s30 = TS.Zero, s31 = TS.Zero, s32 = TS.Zero, s33 = TS.Zero;
            float* p = w + c;
            int r = 0;
            for (; r <= rows - 4; r += 4, p += 4 * ld)
            {
                Row4(p, TS.Create(x[r]), n, ref s00, ref s01, ref s02, ref s03);
                Row4(p + ld, TS.Create(x[r + 1]), n, ref s10, ref s11, ref s12, ref s13);
                Row4(p + (2 * ld), TS.Create(x[r + 2]), n, ref s20, ref s21, ref s22, ref s23);
                Row4(p + (3 * ld), TS.Create(x[r + 3]), n, ref s30, ref s31, ref s32, ref s33);
            }

            if (r < rows)
            {
                Row4(p, TS.Create(x[r]), n, ref s00, ref s01, ref s02, ref s03);
            }

            if (r + 1 < rows)
            {
                Row4(p + ld, TS.Create(x[r + 1]), n, ref s10, ref s11, ref s12, ref s13);
            }

            if (r + 2 < rows)
            {
                Row4(p + (2 * ld), TS.Create(x[r + 2]), n, ref s20, ref s21, ref s22, ref s23);
            }

            Put(yc, TS.Add(TS.Add(s00, s10), TS.Add(s20, s30)), accumulate);
            Put(yc + n, TS.Add(TS.Add(s01, s11), TS.Add(s21, s31)), accumulate);
            Put(yc + (2 * n), TS.Add(TS.Add(s02, s12), TS.Add(s22, s32)), accumulate);
            Put(yc + (3 * n), TS.Add(TS.Add(s03, s13), TS.Add(s23, s33)), accumulate);
        }

        for (; c <= cols - n; c += n)
        {
            Column1(w, rows, cols, x, y + c, c, accumulate, TS.Zero, false);
        }

        if (c < cols)
        {
            // Overlap the last full register; lanes before c already hold final values and are written back unchanged.
            int t = cols - n;
            Column1(w, rows, cols, x, y + t, t, accumulate, TS.TailMask(cols - c), true);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Row4(float* p, TV xr, int n, ref TV s0, ref TV s1, ref TV s2, ref TV s3)
    {
        s0 = TS.MultiplyAdd(TS.Load(p), xr, s0);
        s1 = TS.MultiplyAdd(TS.Load(p + n), xr, s1);
        s2 = TS.MultiplyAdd(TS.Load(p + (2 * n)), xr, s2);
        s3 = TS.MultiplyAdd(TS.Load(p + (3 * n)), xr, s3);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Put(float* y, TV sum, bool accumulate) => TS.Store(accumulate ? TS.Add(TS.Load(y), sum) : sum, y);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Column1(float* w, int rows, int cols, float* x, float* y, int c, bool accumulate, TV mask, bool masked)
    {
        TV s0 = TS.Zero, s1 = TS.Zero, s2 = TS.Zero, s3 = TS.Zero;
        float* p = w + c;
        nint ld = cols;
        int r = 0;
        for (; r <= rows - 4; r += 4, p += 4 * ld)
        {
            s0 = TS.MultiplyAdd(TS.Load(p), TS.Create(x[r]), s0);
            s1 = TS.MultiplyAdd(TS.Load(p + ld), TS.Create(x[r + 1]), s1);
            s2 = TS.MultiplyAdd(TS.Load(p + (2 * ld)), TS.Create(x[r + 2]), s2);
            s3 = TS.MultiplyAdd(TS.Load(p + (3 * ld)), TS.Create(x[r + 3]), s3);
        }

        if (r < rows)
        {
            s0 = TS.MultiplyAdd(TS.Load(p), TS.Create(x[r]), s0);
        }

        if (r + 1 < rows)
        {
            s1 = TS.MultiplyAdd(TS.Load(p + ld), TS.Create(x[r + 1]), s1);
        }

        if (r + 2 < rows)
        {
            s2 = TS.MultiplyAdd(TS.Load(p + (2 * ld)), TS.Create(x[r + 2]), s2);
        }

        TV current = TS.Load(y);
        TV sum = TS.Add(TS.Add(s0, s1), TS.Add(s2, s3));
        TV result = accumulate ? TS.Add(current, sum) : sum;
        TS.Store(masked ? TS.Select(mask, result, current) : result, y);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MultiplyTransposedInOrder(float* w, int rows, int cols, float* x, float* y, bool accumulate)
    {
        int n = TS.Count;
        if (cols < n)
        {
            MultiplyTransposedNarrow(w, rows, cols, x, y, accumulate);
            return;
        }

        int c = 0;
        for (; c <= cols - (8 * n); c += 8 * n)
        {
            float* yc = y + c;
            TV s0 = Init(yc, accumulate), s1 = Init(yc + n, accumulate), s2 = Init(yc + (2 * n), accumulate), s3 = Init(yc + (3 * n), accumulate);
            TV s4 = Init(yc + (4 * n), accumulate), s5 = Init(yc + (5 * n), accumulate), s6 = Init(yc + (6 * n), accumulate), s7 = Init(yc + (7 * n), accumulate);
            float* p = w + c;
            for (int r = 0; r < rows; r++, p += cols)
            {
                TV xr = TS.Create(x[r]);
                Row4(p, xr, n, ref s0, ref s1, ref s2, ref s3);
                Row4(p + (4 * n), xr, n, ref s4, ref s5, ref s6, ref s7);
            }

            TS.Store(s0, yc);
            TS.Store(s1, yc + n);
            TS.Store(s2, yc + (2 * n));
            TS.Store(s3, yc + (3 * n));
            TS.Store(s4, yc + (4 * n));
            TS.Store(s5, yc + (5 * n));
            TS.Store(s6, yc + (6 * n));
            TS.Store(s7, yc + (7 * n));
        }

        for (; c <= cols - (4 * n); c += 4 * n)
        {
            float* yc = y + c;
            TV s0 = Init(yc, accumulate), s1 = Init(yc + n, accumulate), s2 = Init(yc + (2 * n), accumulate), s3 = Init(yc + (3 * n), accumulate);
            float* p = w + c;
            for (int r = 0; r < rows; r++, p += cols)
            {
                Row4(p, TS.Create(x[r]), n, ref s0, ref s1, ref s2, ref s3);
            }

            TS.Store(s0, yc);
            TS.Store(s1, yc + n);
            TS.Store(s2, yc + (2 * n));
            TS.Store(s3, yc + (3 * n));
        }

        for (; c <= cols - n; c += n)
        {
            TV s0 = Init(y + c, accumulate);
            float* p = w + c;
            for (int r = 0; r < rows; r++, p += cols)
            {
                s0 = TS.MultiplyAdd(TS.Load(p), TS.Create(x[r]), s0);
            }

            TS.Store(s0, y + c);
        }

        if (c < cols)
        {
            // Overlap the last full register; lanes before c already hold final values and are written back unchanged.
            int t = cols - n;
            TV mask = TS.TailMask(cols - c);
            TV current = TS.Load(y + t);
            TV s0 = accumulate ? current : TS.Zero;
            float* p = w + t;
            for (int r = 0; r < rows; r++, p += cols)
            {
                s0 = TS.MultiplyAdd(TS.Load(p), TS.Create(x[r]), s0);
            }

            TS.Store(TS.Select(mask, s0, current), y + t);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV Init(float* y, bool accumulate) => accumulate ? TS.Load(y) : TS.Zero;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MultiplyNarrow(float* w, int rows, int cols, float* x, float* y, bool accumulate)
    {
        for (int r = 0; r < rows; r++)
        {
            float* wr = w + ((nint)r * cols);
            float s = 0;
            for (int c = 0; c < cols; c++)
            {
                s = TS.MultiplyAddScalar(wr[c], x[c], s);
            }

            y[r] = accumulate ? y[r] + s : s;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MultiplyTransposedNarrow(float* w, int rows, int cols, float* x, float* y, bool accumulate)
    {
        for (int c = 0; c < cols; c++)
        {
            float s = accumulate ? y[c] : 0;
            float* p = w + c;
            for (int r = 0; r < rows; r++, p += cols)
            {
                s = TS.MultiplyAddScalar(*p, x[r], s);
            }

            y[c] = s;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MultiplyTransposedNarrowInterleaved(float* w, int rows, int cols, float* x, float* y, bool accumulate)
    {
        for (int c = 0; c < cols; c++)
        {
            // The same four interleaved chains as one register lane.
            float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
            float* p = w + c;
            int r = 0;
            for (; r <= rows - 4; r += 4, p += 4 * cols)
            {
                s0 = TS.MultiplyAddScalar(p[0], x[r], s0);
                s1 = TS.MultiplyAddScalar(p[cols], x[r + 1], s1);
                s2 = TS.MultiplyAddScalar(p[2 * cols], x[r + 2], s2);
                s3 = TS.MultiplyAddScalar(p[3 * cols], x[r + 3], s3);
            }

            if (r < rows)
            {
                s0 = TS.MultiplyAddScalar(p[0], x[r], s0);
            }

            if (r + 1 < rows)
            {
                s1 = TS.MultiplyAddScalar(p[cols], x[r + 1], s1);
            }

            if (r + 2 < rows)
            {
                s2 = TS.MultiplyAddScalar(p[2 * cols], x[r + 2], s2);
            }

            float sum = (s0 + s1) + (s2 + s3);
            y[c] = accumulate ? y[c] + sum : sum;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MultiplyScalar(float* w, int rows, int cols, float* x, float* y, bool accumulate)
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
    private static void MultiplyTransposedScalar(float* w, int rows, int cols, float* x, float* y, bool accumulate)
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
