using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Vec = System.Runtime.Intrinsics.Vector512<float>;

namespace RecurrentCore.Kernels;

/// <summary>AVX-512 (Vector512, FMA) GEMV: rows in blocks of 4 share each load of x; two accumulators per row; the four rows' horizontal sums share their last steps; the column tail
/// re-reads the last full vector with the already-counted lanes masked to zero, so no read passes a row's end.</summary>
internal static unsafe class GemvAvx512
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Multiply(float* w, int rows, int cols, float* x, float* y, bool accumulate)
    {
        const int N = 16;
        if (cols < N)
        {
            MultiplyNarrow(w, rows, cols, x, y, accumulate);
            return;
        }

        int rem = cols % N;
        int tail = cols - N;
        Vec mask = TailMask(rem);
        Vec xTail = Vector512.ConditionalSelect(mask, Vector512.Load(x + tail), Vec.Zero);
        int r = 0;
        for (; r <= rows - 4; r += 4)
        {
            float* w0 = w + ((nint)r * cols);
            float* w1 = w0 + cols;
            float* w2 = w1 + cols;
            float* w3 = w2 + cols;
            Vec a0 = Vec.Zero, a1 = Vec.Zero, a2 = Vec.Zero, a3 = Vec.Zero;
            Vec b0 = Vec.Zero, b1 = Vec.Zero, b2 = Vec.Zero, b3 = Vec.Zero;
            int c = 0;
            for (; c <= cols - (2 * N); c += 2 * N)
            {
                Vec xa = Vector512.Load(x + c);
                Vec xb = Vector512.Load(x + c + N);
                a0 = Fma(Vector512.Load(w0 + c), xa, a0);
                a1 = Fma(Vector512.Load(w1 + c), xa, a1);
                a2 = Fma(Vector512.Load(w2 + c), xa, a2);
                a3 = Fma(Vector512.Load(w3 + c), xa, a3);
                b0 = Fma(Vector512.Load(w0 + c + N), xb, b0);
                b1 = Fma(Vector512.Load(w1 + c + N), xb, b1);
                b2 = Fma(Vector512.Load(w2 + c + N), xb, b2);
                b3 = Fma(Vector512.Load(w3 + c + N), xb, b3);
            }

            if (c <= cols - N)
            {
                Vec xa = Vector512.Load(x + c);
                a0 = Fma(Vector512.Load(w0 + c), xa, a0);
                a1 = Fma(Vector512.Load(w1 + c), xa, a1);
                a2 = Fma(Vector512.Load(w2 + c), xa, a2);
                a3 = Fma(Vector512.Load(w3 + c), xa, a3);
            }

            if (rem != 0)
            {
                b0 = Fma(Vector512.ConditionalSelect(mask, Vector512.Load(w0 + tail), Vec.Zero), xTail, b0);
                b1 = Fma(Vector512.ConditionalSelect(mask, Vector512.Load(w1 + tail), Vec.Zero), xTail, b1);
                b2 = Fma(Vector512.ConditionalSelect(mask, Vector512.Load(w2 + tail), Vec.Zero), xTail, b2);
                b3 = Fma(Vector512.ConditionalSelect(mask, Vector512.Load(w3 + tail), Vec.Zero), xTail, b3);
            }

            Finish4(a0 + b0, a1 + b1, a2 + b2, a3 + b3, y + r, accumulate);
        }

        for (; r < rows; r++)
        {
            // The same operations as one row of the block above, so a row's result never depends on rows % 4.
            float* w0 = w + ((nint)r * cols);
            Vec a0 = Vec.Zero, b0 = Vec.Zero;
            int c = 0;
            for (; c <= cols - (2 * N); c += 2 * N)
            {
                a0 = Fma(Vector512.Load(w0 + c), Vector512.Load(x + c), a0);
                b0 = Fma(Vector512.Load(w0 + c + N), Vector512.Load(x + c + N), b0);
            }

            if (c <= cols - N)
            {
                a0 = Fma(Vector512.Load(w0 + c), Vector512.Load(x + c), a0);
            }

            if (rem != 0)
            {
                b0 = Fma(Vector512.ConditionalSelect(mask, Vector512.Load(w0 + tail), Vec.Zero), xTail, b0);
            }

            y[r] = Finish(Reduce(a0 + b0), y[r], accumulate);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MultiplyTransposed(float* w, int rows, int cols, float* x, float* y, bool accumulate)
    {
        const int N = 16;
        if (cols < N)
        {
            MultiplyTransposedNarrow(w, rows, cols, x, y, accumulate);
            return;
        }

        // Every output lane sums four interleaved partial chains (rows r ≡ 0, 1, 2, 3 mod 4), whatever block computes
        // it, so even a single-vector block has four independent FMA chains.
        int c = 0;
        for (; c <= cols - (4 * N); c += 4 * N)
        {
            float* yc = y + c;
            Vec s00 = Vec.Zero, s01 = Vec.Zero, s02 = Vec.Zero, s03 = Vec.Zero;
            Vec s10 = Vec.Zero, s11 = Vec.Zero, s12 = Vec.Zero, s13 = Vec.Zero;
            Vec s20 = Vec.Zero, s21 = Vec.Zero, s22 = Vec.Zero, s23 = Vec.Zero;
            Vec s30 = Vec.Zero, s31 = Vec.Zero, s32 = Vec.Zero, s33 = Vec.Zero;
            float* p = w + c;
            nint ld = cols;
            int r = 0;
            for (; r <= rows - 4; r += 4, p += 4 * ld)
            {
                Vec x0 = Vector512.Create(x[r]);
                float* p0 = p;
                s00 = Fma(Vector512.Load(p0), x0, s00);
                s01 = Fma(Vector512.Load(p0 + N), x0, s01);
                s02 = Fma(Vector512.Load(p0 + (2 * N)), x0, s02);
                s03 = Fma(Vector512.Load(p0 + (3 * N)), x0, s03);
                Vec x1 = Vector512.Create(x[r + 1]);
                float* p1 = p + ld;
                s10 = Fma(Vector512.Load(p1), x1, s10);
                s11 = Fma(Vector512.Load(p1 + N), x1, s11);
                s12 = Fma(Vector512.Load(p1 + (2 * N)), x1, s12);
                s13 = Fma(Vector512.Load(p1 + (3 * N)), x1, s13);
                Vec x2 = Vector512.Create(x[r + 2]);
                float* p2 = p + (2 * ld);
                s20 = Fma(Vector512.Load(p2), x2, s20);
                s21 = Fma(Vector512.Load(p2 + N), x2, s21);
                s22 = Fma(Vector512.Load(p2 + (2 * N)), x2, s22);
                s23 = Fma(Vector512.Load(p2 + (3 * N)), x2, s23);
                Vec x3 = Vector512.Create(x[r + 3]);
                float* p3 = p + (3 * ld);
                s30 = Fma(Vector512.Load(p3), x3, s30);
                s31 = Fma(Vector512.Load(p3 + N), x3, s31);
                s32 = Fma(Vector512.Load(p3 + (2 * N)), x3, s32);
                s33 = Fma(Vector512.Load(p3 + (3 * N)), x3, s33);
            }

            if (r < rows)
            {
                Vec xk = Vector512.Create(x[r]);
                float* pk = p;
                s00 = Fma(Vector512.Load(pk), xk, s00);
                s01 = Fma(Vector512.Load(pk + N), xk, s01);
                s02 = Fma(Vector512.Load(pk + (2 * N)), xk, s02);
                s03 = Fma(Vector512.Load(pk + (3 * N)), xk, s03);
            }

            if (r + 1 < rows)
            {
                Vec xk = Vector512.Create(x[r + 1]);
                float* pk = p + ld;
                s10 = Fma(Vector512.Load(pk), xk, s10);
                s11 = Fma(Vector512.Load(pk + N), xk, s11);
                s12 = Fma(Vector512.Load(pk + (2 * N)), xk, s12);
                s13 = Fma(Vector512.Load(pk + (3 * N)), xk, s13);
            }

            if (r + 2 < rows)
            {
                Vec xk = Vector512.Create(x[r + 2]);
                float* pk = p + (2 * ld);
                s20 = Fma(Vector512.Load(pk), xk, s20);
                s21 = Fma(Vector512.Load(pk + N), xk, s21);
                s22 = Fma(Vector512.Load(pk + (2 * N)), xk, s22);
                s23 = Fma(Vector512.Load(pk + (3 * N)), xk, s23);
            }

            Vec sum0 = (s00 + s10) + (s20 + s30);
            Vector512.Store(accumulate ? Vector512.Load(yc) + sum0 : sum0, yc);
            Vec sum1 = (s01 + s11) + (s21 + s31);
            Vector512.Store(accumulate ? Vector512.Load(yc + N) + sum1 : sum1, yc + N);
            Vec sum2 = (s02 + s12) + (s22 + s32);
            Vector512.Store(accumulate ? Vector512.Load(yc + (2 * N)) + sum2 : sum2, yc + (2 * N));
            Vec sum3 = (s03 + s13) + (s23 + s33);
            Vector512.Store(accumulate ? Vector512.Load(yc + (3 * N)) + sum3 : sum3, yc + (3 * N));
        }

        for (; c <= cols - N; c += N)
        {
            Column1(w, rows, cols, x, y + c, c, accumulate, default, false);
        }

        if (c < cols)
        {
            // Overlap the last full vector; lanes before c already hold final values and are written back unchanged.
            int t = cols - N;
            Column1(w, rows, cols, x, y + t, t, accumulate, TailMask(cols - c), true);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Column1(float* w, int rows, int cols, float* x, float* y, int c, bool accumulate, Vec mask, bool masked)
    {
        Vec s0 = Vec.Zero, s1 = Vec.Zero, s2 = Vec.Zero, s3 = Vec.Zero;
        float* p = w + c;
        nint ld = cols;
        int r = 0;
        for (; r <= rows - 4; r += 4, p += 4 * ld)
        {
            s0 = Fma(Vector512.Load(p), Vector512.Create(x[r]), s0);
            s1 = Fma(Vector512.Load(p + ld), Vector512.Create(x[r + 1]), s1);
            s2 = Fma(Vector512.Load(p + (2 * ld)), Vector512.Create(x[r + 2]), s2);
            s3 = Fma(Vector512.Load(p + (3 * ld)), Vector512.Create(x[r + 3]), s3);
        }

        if (r < rows)
        {
            s0 = Fma(Vector512.Load(p), Vector512.Create(x[r]), s0);
        }

        if (r + 1 < rows)
        {
            s1 = Fma(Vector512.Load(p + ld), Vector512.Create(x[r + 1]), s1);
        }

        if (r + 2 < rows)
        {
            s2 = Fma(Vector512.Load(p + (2 * ld)), Vector512.Create(x[r + 2]), s2);
        }

        Vec current = Vector512.Load(y);
        Vec sum = (s0 + s1) + (s2 + s3);
        Vec result = accumulate ? current + sum : sum;
        Vector512.Store(masked ? Vector512.ConditionalSelect(mask, result, current) : result, y);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MultiplyNarrow(float* w, int rows, int cols, float* x, float* y, bool accumulate)
    {
        for (int r = 0; r < rows; r++)
        {
            float* wr = w + ((nint)r * cols);
            float s = 0;
            for (int c = 0; c < cols; c++)
            {
                s = ScalarFma(wr[c], x[c], s);
            }

            y[r] = Finish(s, y[r], accumulate);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MultiplyTransposedNarrow(float* w, int rows, int cols, float* x, float* y, bool accumulate)
    {
        for (int c = 0; c < cols; c++)
        {
            // The same four interleaved chains as one vector lane.
            float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
            float* p = w + c;
            int r = 0;
            for (; r <= rows - 4; r += 4, p += 4 * cols)
            {
                s0 = ScalarFma(p[0], x[r], s0);
                s1 = ScalarFma(p[cols], x[r + 1], s1);
                s2 = ScalarFma(p[2 * cols], x[r + 2], s2);
                s3 = ScalarFma(p[3 * cols], x[r + 3], s3);
            }

            if (r < rows)
            {
                s0 = ScalarFma(p[0], x[r], s0);
            }

            if (r + 1 < rows)
            {
                s1 = ScalarFma(p[cols], x[r + 1], s1);
            }

            if (r + 2 < rows)
            {
                s2 = ScalarFma(p[2 * cols], x[r + 2], s2);
            }

            float sum = (s0 + s1) + (s2 + s3);
            y[c] = accumulate ? y[c] + sum : sum;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Finish(float sum, float previous, bool accumulate) => accumulate ? previous + sum : sum;

    /// <summary>Horizontal sum as a fixed tree: halves added down to 4 lanes, then <c>(l0 + l2) + (l1 + l3)</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Reduce(Vec v)
    {
        var u = Fold(v);
        return (u.GetElement(0) + u.GetElement(2)) + (u.GetElement(1) + u.GetElement(3));
    }

    /// <summary>
    /// Four rows' sums with the same tree as <see cref="Reduce"/>, transposed so the last two levels serve all four
    /// rows at once; then <c>y[0..4] = (accumulate ? y : 0) + sums</c>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Finish4(Vec v0, Vec v1, Vec v2, Vec v3, float* y, bool accumulate)
    {
        Vector128<float> u0 = Fold(v0), u1 = Fold(v1), u2 = Fold(v2), u3 = Fold(v3);
        var s01 = Sse.UnpackLow(u0, u1) + Sse.UnpackHigh(u0, u1);
        var s23 = Sse.UnpackLow(u2, u3) + Sse.UnpackHigh(u2, u3);
        var sums = Sse.MoveLowToHigh(s01, s23) + Sse.MoveHighToLow(s23, s01);
        Vector128.Store(accumulate ? Vector128.Load(y) + sums : sums, y);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Fold(Vec v)
    {
        var t = v.GetLower() + v.GetUpper();
        return t.GetLower() + t.GetUpper();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vec Init(float* y, bool accumulate) => accumulate ? Vector512.Load(y) : Vec.Zero;

    /// <summary>All-ones in the last <paramref name="count"/> lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vec TailMask(int count) => Vector512.GreaterThanOrEqual(Vector512<int>.Indices, Vector512.Create(Vec.Count - count)).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vec Fma(Vec a, Vec b, Vec c) => Avx512F.FusedMultiplyAdd(a, b, c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float ScalarFma(float a, float b, float c) => MathF.FusedMultiplyAdd(a, b, c);
}
