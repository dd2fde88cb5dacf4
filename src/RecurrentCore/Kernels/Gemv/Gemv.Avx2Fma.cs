using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Vec = System.Runtime.Intrinsics.Vector256<float>;

namespace RecurrentCore.Kernels;

/// <summary>AVX2 + FMA3 (Vector256) GEMV: rows in blocks of 4 share each load of x; two accumulators per row; the four rows' horizontal sums share their last steps; the column tail
/// re-reads the last full vector with the already-counted lanes masked to zero, so no read passes a row's end.</summary>
internal static unsafe class GemvAvx2Fma
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Multiply(float* w, int rows, int cols, float* x, float* y, bool accumulate)
    {
        const int N = 8;
        if (cols < N)
        {
            MultiplyNarrow(w, rows, cols, x, y, accumulate);
            return;
        }

        int rem = cols % N;
        int tail = cols - N;
        Vec mask = TailMask(rem);
        Vec xTail = Vector256.ConditionalSelect(mask, Vector256.Load(x + tail), Vec.Zero);
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
                Vec xa = Vector256.Load(x + c);
                Vec xb = Vector256.Load(x + c + N);
                a0 = Fma(Vector256.Load(w0 + c), xa, a0);
                a1 = Fma(Vector256.Load(w1 + c), xa, a1);
                a2 = Fma(Vector256.Load(w2 + c), xa, a2);
                a3 = Fma(Vector256.Load(w3 + c), xa, a3);
                b0 = Fma(Vector256.Load(w0 + c + N), xb, b0);
                b1 = Fma(Vector256.Load(w1 + c + N), xb, b1);
                b2 = Fma(Vector256.Load(w2 + c + N), xb, b2);
                b3 = Fma(Vector256.Load(w3 + c + N), xb, b3);
            }

            if (c <= cols - N)
            {
                Vec xa = Vector256.Load(x + c);
                a0 = Fma(Vector256.Load(w0 + c), xa, a0);
                a1 = Fma(Vector256.Load(w1 + c), xa, a1);
                a2 = Fma(Vector256.Load(w2 + c), xa, a2);
                a3 = Fma(Vector256.Load(w3 + c), xa, a3);
            }

            if (rem != 0)
            {
                b0 = Fma(Vector256.ConditionalSelect(mask, Vector256.Load(w0 + tail), Vec.Zero), xTail, b0);
                b1 = Fma(Vector256.ConditionalSelect(mask, Vector256.Load(w1 + tail), Vec.Zero), xTail, b1);
                b2 = Fma(Vector256.ConditionalSelect(mask, Vector256.Load(w2 + tail), Vec.Zero), xTail, b2);
                b3 = Fma(Vector256.ConditionalSelect(mask, Vector256.Load(w3 + tail), Vec.Zero), xTail, b3);
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
                a0 = Fma(Vector256.Load(w0 + c), Vector256.Load(x + c), a0);
                b0 = Fma(Vector256.Load(w0 + c + N), Vector256.Load(x + c + N), b0);
            }

            if (c <= cols - N)
            {
                a0 = Fma(Vector256.Load(w0 + c), Vector256.Load(x + c), a0);
            }

            if (rem != 0)
            {
                b0 = Fma(Vector256.ConditionalSelect(mask, Vector256.Load(w0 + tail), Vec.Zero), xTail, b0);
            }

            y[r] = Finish(Reduce(a0 + b0), y[r], accumulate);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MultiplyTransposed(float* w, int rows, int cols, float* x, float* y, bool accumulate)
    {
        const int N = 8;
        if (cols < N)
        {
            MultiplyTransposedNarrow(w, rows, cols, x, y, accumulate);
            return;
        }

        // Every output lane is one chain over r in order, whatever block width computes it.
        int c = 0;
        for (; c <= cols - (8 * N); c += 8 * N)
        {
            float* yc = y + c;
            Vec s0 = Init(yc, accumulate), s1 = Init(yc + N, accumulate), s2 = Init(yc + (2 * N), accumulate), s3 = Init(yc + (3 * N), accumulate);
            Vec s4 = Init(yc + (4 * N), accumulate), s5 = Init(yc + (5 * N), accumulate), s6 = Init(yc + (6 * N), accumulate), s7 = Init(yc + (7 * N), accumulate);
            float* p = w + c;
            for (int r = 0; r < rows; r++, p += cols)
            {
                Vec xr = Vector256.Create(x[r]);
                s0 = Fma(Vector256.Load(p), xr, s0);
                s1 = Fma(Vector256.Load(p + N), xr, s1);
                s2 = Fma(Vector256.Load(p + (2 * N)), xr, s2);
                s3 = Fma(Vector256.Load(p + (3 * N)), xr, s3);
                s4 = Fma(Vector256.Load(p + (4 * N)), xr, s4);
                s5 = Fma(Vector256.Load(p + (5 * N)), xr, s5);
                s6 = Fma(Vector256.Load(p + (6 * N)), xr, s6);
                s7 = Fma(Vector256.Load(p + (7 * N)), xr, s7);
            }

            Vector256.Store(s0, yc);
            Vector256.Store(s1, yc + N);
            Vector256.Store(s2, yc + (2 * N));
            Vector256.Store(s3, yc + (3 * N));
            Vector256.Store(s4, yc + (4 * N));
            Vector256.Store(s5, yc + (5 * N));
            Vector256.Store(s6, yc + (6 * N));
            Vector256.Store(s7, yc + (7 * N));
        }

        for (; c <= cols - (4 * N); c += 4 * N)
        {
            float* yc = y + c;
            Vec s0 = Init(yc, accumulate), s1 = Init(yc + N, accumulate), s2 = Init(yc + (2 * N), accumulate), s3 = Init(yc + (3 * N), accumulate);
            float* p = w + c;
            for (int r = 0; r < rows; r++, p += cols)
            {
                Vec xr = Vector256.Create(x[r]);
                s0 = Fma(Vector256.Load(p), xr, s0);
                s1 = Fma(Vector256.Load(p + N), xr, s1);
                s2 = Fma(Vector256.Load(p + (2 * N)), xr, s2);
                s3 = Fma(Vector256.Load(p + (3 * N)), xr, s3);
            }

            Vector256.Store(s0, yc);
            Vector256.Store(s1, yc + N);
            Vector256.Store(s2, yc + (2 * N));
            Vector256.Store(s3, yc + (3 * N));
        }

        for (; c <= cols - N; c += N)
        {
            Vec s0 = Init(y + c, accumulate);
            float* p = w + c;
            for (int r = 0; r < rows; r++, p += cols)
            {
                s0 = Fma(Vector256.Load(p), Vector256.Create(x[r]), s0);
            }

            Vector256.Store(s0, y + c);
        }

        if (c < cols)
        {
            // Overlap the last full vector; lanes before c already hold final values and are written back unchanged.
            int t = cols - N;
            Vec mask = TailMask(cols - c);
            Vec current = Vector256.Load(y + t);
            Vec s0 = accumulate ? current : Vec.Zero;
            float* p = w + t;
            for (int r = 0; r < rows; r++, p += cols)
            {
                s0 = Fma(Vector256.Load(p), Vector256.Create(x[r]), s0);
            }

            Vector256.Store(Vector256.ConditionalSelect(mask, s0, current), y + t);
        }
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
            float s = accumulate ? y[c] : 0;
            float* p = w + c;
            for (int r = 0; r < rows; r++, p += cols)
            {
                s = ScalarFma(*p, x[r], s);
            }

            y[c] = s;
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
    private static Vector128<float> Fold(Vec v) => v.GetLower() + v.GetUpper();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vec Init(float* y, bool accumulate) => accumulate ? Vector256.Load(y) : Vec.Zero;

    /// <summary>All-ones in the last <paramref name="count"/> lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vec TailMask(int count) => Vector256.GreaterThanOrEqual(Vector256<int>.Indices, Vector256.Create(Vec.Count - count)).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vec Fma(Vec a, Vec b, Vec c) => System.Runtime.Intrinsics.X86.Fma.MultiplyAdd(a, b, c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float ScalarFma(float a, float b, float c) => MathF.FusedMultiplyAdd(a, b, c);
}
