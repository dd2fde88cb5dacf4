using System.Runtime.CompilerServices;
using RecurrentCore.Kernels.Simd;

namespace RecurrentCore.Kernels.Quantized;

/// <summary>
/// <c>y[r] = (accumulate ? y[r] : 0) + Σ_c float(w[r·stride + c])·x[c]</c> over bfloat16 weights widened to float32 in
/// registers, float32 fused accumulation, for every width <typeparamref name="TS"/>. No checks: <c>stride</c> is a
/// multiple of 64 (two registers of bf16 pairs at every width), <c>w</c> holds <c>rows·stride</c> values, zero past the
/// logical columns, and the input is <see cref="PrepareInput"/>'s layout of x (so the padding adds exact zeros and no
/// tail is needed).
/// </summary>
/// <remarks>
/// One load of <c>Count</c> 32-bit lanes brings <c>2·Count</c> weights: each lane holds an even-indexed weight in its low
/// half and the next one in its high half, so <c>lane &lt;&lt; 16</c> is the even weight as a float32 and
/// <c>lane &amp; 0xFFFF0000</c> the odd one — no shuffle. <see cref="PrepareInput"/> de-interleaves x to match, once
/// per product. Rows in blocks of 4 share each load of x (two accumulators per row: even and odd); a row left over
/// takes the same operations, so a result never depends on <c>rows % 4</c>. Deterministic for a given width and stride.
/// </remarks>
internal static unsafe class BFloat16GemvKernel<TS, TV>
    where TS : struct, ISimd<TV>
    where TV : unmanaged
{
    /// <summary>
    /// Writes x (<paramref name="columns"/> floats) in the kernel's order into <paramref name="destination"/>
    /// (<paramref name="stride"/> floats): per block of <c>2·Count</c>, the even-indexed values then the odd ones, zeros past
    /// <paramref name="columns"/>.
    /// </summary>
    public static void PrepareInput(float* x, int columns, int stride, float* destination)
    {
        int n = TS.Count;
        for (int c = 0; c < stride; c += 2 * n)
        {
            for (int j = 0; j < n; j++)
            {
                int even = c + (2 * j), odd = even + 1;
                destination[c + j] = even < columns ? x[even] : 0f;
                destination[c + n + j] = odd < columns ? x[odd] : 0f;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Multiply(ushort* w, int rows, int stride, float* x, float* y, bool accumulate)
    {
        int n = TS.Count;
        TV high = TS.CreateBits(unchecked((int)0xFFFF0000));
        int r = 0;
        for (; r <= rows - 4; r += 4)
        {
            ushort* w0 = w + ((nint)r * stride);
            ushort* w1 = w0 + stride;
            ushort* w2 = w1 + stride;
            ushort* w3 = w2 + stride;
            TV a0 = TS.Zero, a1 = TS.Zero, a2 = TS.Zero, a3 = TS.Zero;
            TV b0 = TS.Zero, b1 = TS.Zero, b2 = TS.Zero, b3 = TS.Zero;
            for (int c = 0; c < stride; c += 2 * n)
            {
                TV xe = TS.Load(x + c);
                TV xo = TS.Load(x + c + n);
                TV p0 = TS.Load((float*)(w0 + c));
                TV p1 = TS.Load((float*)(w1 + c));
                TV p2 = TS.Load((float*)(w2 + c));
                TV p3 = TS.Load((float*)(w3 + c));
                a0 = TS.MultiplyAdd(TS.IntShiftLeft(p0, 16), xe, a0);
                a1 = TS.MultiplyAdd(TS.IntShiftLeft(p1, 16), xe, a1);
                a2 = TS.MultiplyAdd(TS.IntShiftLeft(p2, 16), xe, a2);
                a3 = TS.MultiplyAdd(TS.IntShiftLeft(p3, 16), xe, a3);
                b0 = TS.MultiplyAdd(TS.And(p0, high), xo, b0);
                b1 = TS.MultiplyAdd(TS.And(p1, high), xo, b1);
                b2 = TS.MultiplyAdd(TS.And(p2, high), xo, b2);
                b3 = TS.MultiplyAdd(TS.And(p3, high), xo, b3);
            }

            TS.StoreSums4(TS.Add(a0, b0), TS.Add(a1, b1), TS.Add(a2, b2), TS.Add(a3, b3), y + r, accumulate);
        }

        for (; r < rows; r++)
        {
            ushort* w0 = w + ((nint)r * stride);
            TV a0 = TS.Zero, b0 = TS.Zero;
            for (int c = 0; c < stride; c += 2 * n)
            {
                TV p0 = TS.Load((float*)(w0 + c));
                a0 = TS.MultiplyAdd(TS.IntShiftLeft(p0, 16), TS.Load(x + c), a0);
                b0 = TS.MultiplyAdd(TS.And(p0, high), TS.Load(x + c + n), b0);
            }

            float s = TS.Sum(TS.Add(a0, b0));
            y[r] = accumulate ? y[r] + s : s;
        }
    }

    /// <summary>
    /// <c>y[r] = (accumulate ? y[r] : 0) + Σ_c float(w[r, c])·x[c]</c> over the packed weights of
    /// <see cref="ColumnCellLayout"/> (lanes = <c>Count</c>, two columns per lane) and the plain input x (<paramref name="columns"/> floats):
    /// per column pair, x[2p] and x[2p + 1] broadcast, each register's 32-bit lanes widened into the even weights
    /// (<c>lane &lt;&lt; 16</c>) and the odd ones (<c>lane &amp; 0xFFFF0000</c>) of its rows, two fused multiply-adds
    /// into one accumulator per row: each row's sum runs over c = 0, 1, 2, … in order, no horizontal sum. Eight groups
    /// of rows share each broadcast.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MultiplyColumns(ushort* packed, int rows, int columns, float* x, float* y, bool accumulate)
    {
        int lanes = TS.Count, pairs = ColumnCellLayout.Cells(columns, 2), full = columns / 2;
        int groups = (rows + lanes - 1) / lanes;
        nint cell = 2 * lanes;
        TV high = TS.CreateBits(unchecked((int)0xFFFF0000));
        float* lane = stackalloc float[16]; // a partial last group's sums; no call may follow the loops while accumulators live
        int g = 0;
        for (; g <= groups - ColumnCellLayout.Block; g += ColumnCellLayout.Block)
        {
            ushort* w = packed + ((nint)g * pairs * cell);
            TV a0 = TS.Zero, a1 = TS.Zero, a2 = TS.Zero, a3 = TS.Zero, a4 = TS.Zero, a5 = TS.Zero, a6 = TS.Zero, a7 = TS.Zero;
            for (int p = 0; p < pairs; p++)
            {
                TV xe = TS.Create(x[2 * p]);
                TV p0 = TS.Load((float*)w), p1 = TS.Load((float*)(w + cell)), p2 = TS.Load((float*)(w + (2 * cell))), p3 = TS.Load((float*)(w + (3 * cell)));
                TV p4 = TS.Load((float*)(w + (4 * cell))), p5 = TS.Load((float*)(w + (5 * cell))), p6 = TS.Load((float*)(w + (6 * cell))), p7 = TS.Load((float*)(w + (7 * cell)));
                a0 = TS.MultiplyAdd(TS.IntShiftLeft(p0, 16), xe, a0);
                a1 = TS.MultiplyAdd(TS.IntShiftLeft(p1, 16), xe, a1);
                a2 = TS.MultiplyAdd(TS.IntShiftLeft(p2, 16), xe, a2);
                a3 = TS.MultiplyAdd(TS.IntShiftLeft(p3, 16), xe, a3);
                a4 = TS.MultiplyAdd(TS.IntShiftLeft(p4, 16), xe, a4);
                a5 = TS.MultiplyAdd(TS.IntShiftLeft(p5, 16), xe, a5);
                a6 = TS.MultiplyAdd(TS.IntShiftLeft(p6, 16), xe, a6);
                a7 = TS.MultiplyAdd(TS.IntShiftLeft(p7, 16), xe, a7);
                if (p < full)
                {
                    TV xo = TS.Create(x[(2 * p) + 1]);
                    a0 = TS.MultiplyAdd(TS.And(p0, high), xo, a0);
                    a1 = TS.MultiplyAdd(TS.And(p1, high), xo, a1);
                    a2 = TS.MultiplyAdd(TS.And(p2, high), xo, a2);
                    a3 = TS.MultiplyAdd(TS.And(p3, high), xo, a3);
                    a4 = TS.MultiplyAdd(TS.And(p4, high), xo, a4);
                    a5 = TS.MultiplyAdd(TS.And(p5, high), xo, a5);
                    a6 = TS.MultiplyAdd(TS.And(p6, high), xo, a6);
                    a7 = TS.MultiplyAdd(TS.And(p7, high), xo, a7);
                }

                w += 8 * cell;
            }

            int r = g * lanes;
            Put(a0, r, rows, y, accumulate, lane);
            Put(a1, r + lanes, rows, y, accumulate, lane);
            Put(a2, r + (2 * lanes), rows, y, accumulate, lane);
            Put(a3, r + (3 * lanes), rows, y, accumulate, lane);
            Put(a4, r + (4 * lanes), rows, y, accumulate, lane);
            Put(a5, r + (5 * lanes), rows, y, accumulate, lane);
            Put(a6, r + (6 * lanes), rows, y, accumulate, lane);
            Put(a7, r + (7 * lanes), rows, y, accumulate, lane);
        }

        // The last, smaller block: its cells are [p][group], groups - g of them per pair.
        int left = groups - g;
        ushort* tail = packed + ((nint)g * pairs * cell);
        for (int i = 0; i < left; i++)
        {
            TV a0 = TS.Zero;
            ushort* w = tail + (i * cell);
            for (int p = 0; p < pairs; p++)
            {
                TV p0 = TS.Load((float*)w);
                a0 = TS.MultiplyAdd(TS.IntShiftLeft(p0, 16), TS.Create(x[2 * p]), a0);
                if (p < full)
                {
                    a0 = TS.MultiplyAdd(TS.And(p0, high), TS.Create(x[(2 * p) + 1]), a0);
                }

                w += left * cell;
            }

            Put(a0, (g + i) * lanes, rows, y, accumulate, lane);
        }
    }

    /// <summary>
    /// <see cref="MultiplyColumns"/> (accumulate = false) for <paramref name="inputs"/> plain inputs at once: input j is
    /// <c>x + j·xStride</c>, its result row <c>y + j·yStride</c>. Four groups of rows by four inputs: each weight register
    /// is widened once for four inputs. Every (row, input) takes the same fused multiply-adds in the same order as
    /// <see cref="MultiplyColumns"/>, so the same bits.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MultiplyManyColumns(ushort* packed, int rows, int columns, float* x, int xStride, int inputs, float* y, int yStride)
    {
        int lanes = TS.Count, pairs = ColumnCellLayout.Cells(columns, 2), full = columns / 2;
        int blocks = rows / lanes / ColumnCellLayout.Block; // blocks of whole groups only: their stores stay in range
        nint cell = 2 * lanes;
        TV high = TS.CreateBits(unchecked((int)0xFFFF0000));
        int j = 0;
        for (; j <= inputs - 4; j += 4)
        {
            float* x0 = x + ((nint)j * xStride);
            float* x1 = x0 + xStride;
            float* x2 = x1 + xStride;
            float* x3 = x2 + xStride;
            float* y0 = y + ((nint)j * yStride);
            for (int b = 0; b < blocks; b++)
            {
                for (int half = 0; half < ColumnCellLayout.Block; half += 4)
                {
                    ushort* w = packed + ((nint)b * ColumnCellLayout.Block * pairs * cell) + (half * cell);
                    TV a00 = TS.Zero, a01 = TS.Zero, a02 = TS.Zero, a03 = TS.Zero, a10 = TS.Zero, a11 = TS.Zero, a12 = TS.Zero, a13 = TS.Zero;
                    TV a20 = TS.Zero, a21 = TS.Zero, a22 = TS.Zero, a23 = TS.Zero, a30 = TS.Zero, a31 = TS.Zero, a32 = TS.Zero, a33 = TS.Zero;
                    for (int p = 0; p < pairs; p++)
                    {
                        TV q0 = TS.Load((float*)w), q1 = TS.Load((float*)(w + cell)), q2 = TS.Load((float*)(w + (2 * cell))), q3 = TS.Load((float*)(w + (3 * cell)));
                        TV e0 = TS.IntShiftLeft(q0, 16), e1 = TS.IntShiftLeft(q1, 16), e2 = TS.IntShiftLeft(q2, 16), e3 = TS.IntShiftLeft(q3, 16);
                        int c = 2 * p;
                        TV v = TS.Create(x0[c]);
                        a00 = TS.MultiplyAdd(e0, v, a00); a10 = TS.MultiplyAdd(e1, v, a10); a20 = TS.MultiplyAdd(e2, v, a20); a30 = TS.MultiplyAdd(e3, v, a30);
                        v = TS.Create(x1[c]);
                        a01 = TS.MultiplyAdd(e0, v, a01); a11 = TS.MultiplyAdd(e1, v, a11); a21 = TS.MultiplyAdd(e2, v, a21); a31 = TS.MultiplyAdd(e3, v, a31);
                        v = TS.Create(x2[c]);
                        a02 = TS.MultiplyAdd(e0, v, a02); a12 = TS.MultiplyAdd(e1, v, a12); a22 = TS.MultiplyAdd(e2, v, a22); a32 = TS.MultiplyAdd(e3, v, a32);
                        v = TS.Create(x3[c]);
                        a03 = TS.MultiplyAdd(e0, v, a03); a13 = TS.MultiplyAdd(e1, v, a13); a23 = TS.MultiplyAdd(e2, v, a23); a33 = TS.MultiplyAdd(e3, v, a33);
                        if (p < full)
                        {
                            e0 = TS.And(q0, high);
                            e1 = TS.And(q1, high);
                            e2 = TS.And(q2, high);
                            e3 = TS.And(q3, high);
                            v = TS.Create(x0[c + 1]);
                            a00 = TS.MultiplyAdd(e0, v, a00); a10 = TS.MultiplyAdd(e1, v, a10); a20 = TS.MultiplyAdd(e2, v, a20); a30 = TS.MultiplyAdd(e3, v, a30);
                            v = TS.Create(x1[c + 1]);
                            a01 = TS.MultiplyAdd(e0, v, a01); a11 = TS.MultiplyAdd(e1, v, a11); a21 = TS.MultiplyAdd(e2, v, a21); a31 = TS.MultiplyAdd(e3, v, a31);
                            v = TS.Create(x2[c + 1]);
                            a02 = TS.MultiplyAdd(e0, v, a02); a12 = TS.MultiplyAdd(e1, v, a12); a22 = TS.MultiplyAdd(e2, v, a22); a32 = TS.MultiplyAdd(e3, v, a32);
                            v = TS.Create(x3[c + 1]);
                            a03 = TS.MultiplyAdd(e0, v, a03); a13 = TS.MultiplyAdd(e1, v, a13); a23 = TS.MultiplyAdd(e2, v, a23); a33 = TS.MultiplyAdd(e3, v, a33);
                        }

                        w += ColumnCellLayout.Block * cell;
                    }

                    float* yr = y0 + (((b * ColumnCellLayout.Block) + half) * lanes);
                    TS.Store(a00, yr); TS.Store(a10, yr + lanes); TS.Store(a20, yr + (2 * lanes)); TS.Store(a30, yr + (3 * lanes));
                    yr += yStride;
                    TS.Store(a01, yr); TS.Store(a11, yr + lanes); TS.Store(a21, yr + (2 * lanes)); TS.Store(a31, yr + (3 * lanes));
                    yr += yStride;
                    TS.Store(a02, yr); TS.Store(a12, yr + lanes); TS.Store(a22, yr + (2 * lanes)); TS.Store(a32, yr + (3 * lanes));
                    yr += yStride;
                    TS.Store(a03, yr); TS.Store(a13, yr + lanes); TS.Store(a23, yr + (2 * lanes)); TS.Store(a33, yr + (3 * lanes));
                }
            }

            int done = blocks * ColumnCellLayout.Block * lanes;
            if (done < rows)
            {
                // The last, smaller block is a matrix of its own in the same layout.
                for (int k = 0; k < 4; k++)
                {
                    MultiplyColumns(packed + ((nint)blocks * ColumnCellLayout.Block * pairs * cell), rows - done, columns, x0 + ((nint)k * xStride), y0 + ((nint)k * yStride) + done, accumulate: false);
                }
            }
        }

        for (; j < inputs; j++)
        {
            MultiplyColumns(packed, rows, columns, x + ((nint)j * xStride), y + ((nint)j * yStride), accumulate: false);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Put(TV sums, int r0, int rows, float* y, bool accumulate, float* lane)
    {
        int lanes = TS.Count;
        if (r0 + lanes <= rows)
        {
            TS.Store(accumulate ? TS.Add(TS.Load(y + r0), sums) : sums, y + r0);
            return;
        }

        TS.Store(sums, lane);
        for (int i = 0; r0 + i < rows; i++)
        {
            y[r0 + i] = accumulate ? y[r0 + i] + lane[i] : lane[i];
        }
    }
}
