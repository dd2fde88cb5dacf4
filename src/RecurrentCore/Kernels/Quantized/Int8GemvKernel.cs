using System.Runtime.CompilerServices;
using RecurrentCore.Kernels.Simd;

namespace RecurrentCore.Kernels.Quantized;

/// <summary>
/// The int8 product for every width <typeparamref name="TS"/>: with weights <c>q_w</c> (signed, |q| ≤ 127, per-row
/// scale <c>s_w[r]</c>) and the input as unsigned bytes <c>u = q_x + 128</c> (scale <c>s_x</c>, see
/// <see cref="Int8Quantizer"/>), <c>d[r] = Σ_c q_w[r, c]·u[c] − 128·Σ_c q_w[r, c]</c> in exact int32 arithmetic (which is
/// <c>Σ q_w·q_x</c>), then <c>y[r] = (accumulate ? y[r] : 0) + (float)d[r]·(s_w[r]·s_x)</c> in float32.
/// </summary>
/// <remarks>
/// The unsigned input is VPDPBUSD's operand order (u8 × s8), used where the width has it; the others widen both sides
/// to 16 bits and multiply-add pairs (VPMADDWD), each widened input register shared by the rows of a block. Since int32
/// addition is exact in any order every width and every blocking gives the same d[r], bit for bit, as long as
/// <c>stride·255·127 &lt; 2³¹</c> (stride &lt; 66 000). No checks: <c>stride</c> is a multiple of 64, <c>w</c> holds
/// <c>rows·stride</c> bytes and <c>u</c> <c>stride</c> bytes; the weight padding is zero, so the input padding may be
/// anything.
/// </remarks>
internal static unsafe class Int8GemvKernel<TS, TV>
    where TS : struct, ISimd<TV>
    where TV : unmanaged
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Multiply(sbyte* w, int* rowSums, float* rowScales, int rows, int stride, byte* u, float inputScale, float* y, bool accumulate)
    {
        // VPDPBUSD takes 4·Count byte pairs at once; otherwise x is widened once per chunk of 2·Count for the 4 rows.
        int step = (TS.HasNativeByteDot ? 4 : 2) * TS.Count;
        int r = 0;
        for (; r <= rows - 4; r += 4)
        {
            sbyte* w0 = w + ((nint)r * stride);
            sbyte* w1 = w0 + stride;
            sbyte* w2 = w1 + stride;
            sbyte* w3 = w2 + stride;
            TV a0 = TS.Zero, a1 = TS.Zero, a2 = TS.Zero, a3 = TS.Zero;
            for (int c = 0; c < stride; c += step)
            {
                if (TS.HasNativeByteDot)
                {
                    a0 = TS.DotBytes(a0, u + c, w0 + c);
                    a1 = TS.DotBytes(a1, u + c, w1 + c);
                    a2 = TS.DotBytes(a2, u + c, w2 + c);
                    a3 = TS.DotBytes(a3, u + c, w3 + c);
                }
                else
                {
                    TV x = TS.WidenBytes(u + c);
                    a0 = TS.MultiplyAddPairs(a0, x, TS.WidenBytes(w0 + c));
                    a1 = TS.MultiplyAddPairs(a1, x, TS.WidenBytes(w1 + c));
                    a2 = TS.MultiplyAddPairs(a2, x, TS.WidenBytes(w2 + c));
                    a3 = TS.MultiplyAddPairs(a3, x, TS.WidenBytes(w3 + c));
                }
            }

            Put(y, r, TS.IntSum(a0), rowSums, rowScales, inputScale, accumulate);
            Put(y, r + 1, TS.IntSum(a1), rowSums, rowScales, inputScale, accumulate);
            Put(y, r + 2, TS.IntSum(a2), rowSums, rowScales, inputScale, accumulate);
            Put(y, r + 3, TS.IntSum(a3), rowSums, rowScales, inputScale, accumulate);
        }

        for (; r < rows; r++)
        {
            sbyte* w0 = w + ((nint)r * stride);
            TV a0 = TS.Zero;
            for (int c = 0; c < stride; c += step)
            {
                a0 = TS.HasNativeByteDot ? TS.DotBytes(a0, u + c, w0 + c) : TS.MultiplyAddPairs(a0, TS.WidenBytes(u + c), TS.WidenBytes(w0 + c));
            }

            Put(y, r, TS.IntSum(a0), rowSums, rowScales, inputScale, accumulate);
        }
    }

    /// <summary>
    /// <see cref="Multiply"/> (accumulate = false) for <paramref name="inputs"/> inputs at once: input j is
    /// <c>u + j·stride</c> with scale <c>inputScales[j]</c>, its result row <c>y + j·yStride</c>. Each weight register is
    /// widened once for four inputs and each input register once for four rows; the results equal
    /// <see cref="Multiply"/>'s, bit for bit (exact int32 sums, the same float32 dequantization).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MultiplyMany(sbyte* w, int* rowSums, float* rowScales, int rows, int stride, byte* u, float* inputScales, int inputs, float* y, int yStride)
    {
        int j = 0;
        if (!TS.HasNativeByteDot)
        {
            int step = 2 * TS.Count;
            for (; j <= inputs - 4; j += 4)
            {
                byte* u0 = u + ((nint)j * stride);
                byte* u1 = u0 + stride;
                byte* u2 = u1 + stride;
                byte* u3 = u2 + stride;
                float* y0 = y + ((nint)j * yStride);
                int r = 0;
                for (; r <= rows - 4; r += 4)
                {
                    sbyte* w0 = w + ((nint)r * stride);
                    sbyte* w1 = w0 + stride;
                    sbyte* w2 = w1 + stride;
                    sbyte* w3 = w2 + stride;
                    TV a00 = TS.Zero, a01 = TS.Zero, a02 = TS.Zero, a03 = TS.Zero;
                    TV a10 = TS.Zero, a11 = TS.Zero, a12 = TS.Zero, a13 = TS.Zero;
                    TV a20 = TS.Zero, a21 = TS.Zero, a22 = TS.Zero, a23 = TS.Zero;
                    TV a30 = TS.Zero, a31 = TS.Zero, a32 = TS.Zero, a33 = TS.Zero;
                    for (int c = 0; c < stride; c += step)
                    {
                        TV q0 = TS.WidenBytes(w0 + c);
                        TV q1 = TS.WidenBytes(w1 + c);
                        TV q2 = TS.WidenBytes(w2 + c);
                        TV q3 = TS.WidenBytes(w3 + c);
                        TV x = TS.WidenBytes(u0 + c);
                        a00 = TS.MultiplyAddPairs(a00, x, q0);
                        a10 = TS.MultiplyAddPairs(a10, x, q1);
                        a20 = TS.MultiplyAddPairs(a20, x, q2);
                        a30 = TS.MultiplyAddPairs(a30, x, q3);
                        x = TS.WidenBytes(u1 + c);
                        a01 = TS.MultiplyAddPairs(a01, x, q0);
                        a11 = TS.MultiplyAddPairs(a11, x, q1);
                        a21 = TS.MultiplyAddPairs(a21, x, q2);
                        a31 = TS.MultiplyAddPairs(a31, x, q3);
                        x = TS.WidenBytes(u2 + c);
                        a02 = TS.MultiplyAddPairs(a02, x, q0);
                        a12 = TS.MultiplyAddPairs(a12, x, q1);
                        a22 = TS.MultiplyAddPairs(a22, x, q2);
                        a32 = TS.MultiplyAddPairs(a32, x, q3);
                        x = TS.WidenBytes(u3 + c);
                        a03 = TS.MultiplyAddPairs(a03, x, q0);
                        a13 = TS.MultiplyAddPairs(a13, x, q1);
                        a23 = TS.MultiplyAddPairs(a23, x, q2);
                        a33 = TS.MultiplyAddPairs(a33, x, q3);
                    }

                    Put4(y0, yStride, r, TS.IntSum(a00), TS.IntSum(a01), TS.IntSum(a02), TS.IntSum(a03), rowSums, rowScales, inputScales + j);
                    Put4(y0, yStride, r + 1, TS.IntSum(a10), TS.IntSum(a11), TS.IntSum(a12), TS.IntSum(a13), rowSums, rowScales, inputScales + j);
                    Put4(y0, yStride, r + 2, TS.IntSum(a20), TS.IntSum(a21), TS.IntSum(a22), TS.IntSum(a23), rowSums, rowScales, inputScales + j);
                    Put4(y0, yStride, r + 3, TS.IntSum(a30), TS.IntSum(a31), TS.IntSum(a32), TS.IntSum(a33), rowSums, rowScales, inputScales + j);
                }

                for (int k = 0; k < 4 && r < rows; k++)
                {
                    int left = rows - r;
                    Multiply(w + ((nint)r * stride), rowSums + r, rowScales + r, left, stride, u + ((nint)(j + k) * stride), inputScales[j + k], y0 + ((nint)k * yStride) + r, accumulate: false);
                }
            }
        }

        for (; j < inputs; j++)
        {
            Multiply(w, rowSums, rowScales, rows, stride, u + ((nint)j * stride), inputScales[j], y + ((nint)j * yStride), accumulate: false);
        }
    }

    /// <summary>
    /// <see cref="Multiply"/> over the packed weights of <see cref="ColumnCellLayout"/> (lanes = <c>Count</c>, four
    /// columns per lane), with the input as signed q (<paramref name="q"/>) and |q| (<paramref name="magnitudes"/>), each
    /// <c>4·⌈columns / 4⌉</c> bytes, zero past the columns (<see cref="Int8Quantizer.SplitSigns"/>): per column quad,
    /// |q| broadcast as the unsigned operand and the weights given q's signs (<c>w·sign(q)·|q| = w·q</c>, every pair of
    /// products within 16 bits: no saturation), four products per 32-bit lane (VPMADDUBSW then VPMADDWD, or VPDPBUSD).
    /// Each register holds one sum per row of its group, so eight groups share each broadcast and the rows are
    /// dequantized by lanes. The sums are <c>Σ q_w·q_x</c> exactly, as <see cref="Multiply"/>'s; the same float32
    /// operations follow, so the same bits.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MultiplyColumns(sbyte* packed, float* rowScales, int rows, int columns, byte* magnitudes, sbyte* q, float inputScale, float* y, bool accumulate)
    {
        int lanes = TS.Count, quads = ColumnCellLayout.Cells(columns, 4);
        int groups = (rows + lanes - 1) / lanes;
        nint cell = 4 * lanes;
        int* lane = stackalloc int[64]; // a partial last group's sums; no call may follow the loops while accumulators live
        int g = 0;
        for (; g <= groups - ColumnCellLayout.Block; g += ColumnCellLayout.Block)
        {
            sbyte* w = packed + ((nint)g * quads * cell);
            TV a0 = TS.Zero, a1 = TS.Zero, a2 = TS.Zero, a3 = TS.Zero, a4 = TS.Zero, a5 = TS.Zero, a6 = TS.Zero, a7 = TS.Zero;
            for (int k = 0; k < quads; k++)
            {
                TV m = TS.CreateBits(((int*)magnitudes)[k]);
                TV s = TS.CreateBits(((int*)q)[k]);
                a0 = TS.DotQuads(a0, m, TS.SignBytes(TS.Load((float*)w), s));
                a1 = TS.DotQuads(a1, m, TS.SignBytes(TS.Load((float*)(w + cell)), s));
                a2 = TS.DotQuads(a2, m, TS.SignBytes(TS.Load((float*)(w + (2 * cell))), s));
                a3 = TS.DotQuads(a3, m, TS.SignBytes(TS.Load((float*)(w + (3 * cell))), s));
                a4 = TS.DotQuads(a4, m, TS.SignBytes(TS.Load((float*)(w + (4 * cell))), s));
                a5 = TS.DotQuads(a5, m, TS.SignBytes(TS.Load((float*)(w + (5 * cell))), s));
                a6 = TS.DotQuads(a6, m, TS.SignBytes(TS.Load((float*)(w + (6 * cell))), s));
                a7 = TS.DotQuads(a7, m, TS.SignBytes(TS.Load((float*)(w + (7 * cell))), s));
                w += 8 * cell;
            }

            int r = g * lanes;
            PutLanes(a0, r, rows, rowScales, inputScale, y, accumulate, lane);
            PutLanes(a1, r + lanes, rows, rowScales, inputScale, y, accumulate, lane);
            PutLanes(a2, r + (2 * lanes), rows, rowScales, inputScale, y, accumulate, lane);
            PutLanes(a3, r + (3 * lanes), rows, rowScales, inputScale, y, accumulate, lane);
            PutLanes(a4, r + (4 * lanes), rows, rowScales, inputScale, y, accumulate, lane);
            PutLanes(a5, r + (5 * lanes), rows, rowScales, inputScale, y, accumulate, lane);
            PutLanes(a6, r + (6 * lanes), rows, rowScales, inputScale, y, accumulate, lane);
            PutLanes(a7, r + (7 * lanes), rows, rowScales, inputScale, y, accumulate, lane);
        }

        // The last, smaller block: its cells are [quad][group], groups - g of them per quad.
        int left = groups - g;
        sbyte* tail = packed + ((nint)g * quads * cell);
        for (int i = 0; i < left; i++)
        {
            TV a0 = TS.Zero;
            sbyte* w = tail + (i * cell);
            for (int k = 0; k < quads; k++)
            {
                a0 = TS.DotQuads(a0, TS.CreateBits(((int*)magnitudes)[k]), TS.SignBytes(TS.Load((float*)w), TS.CreateBits(((int*)q)[k])));
                w += left * cell;
            }

            PutLanes(a0, (g + i) * lanes, rows, rowScales, inputScale, y, accumulate, lane);
        }
    }

    /// <summary>Rows r0 … r0 + Count − 1 (those below <paramref name="rows"/>) from a register of their int32 sums Σ q_w·q_x.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PutLanes(TV dots, int r0, int rows, float* rowScales, float inputScale, float* y, bool accumulate, int* lane)
    {
        int lanes = TS.Count;
        if (r0 + lanes <= rows)
        {
            TV v = TS.Multiply(TS.IntToSingle(dots), TS.Multiply(TS.Load(rowScales + r0), TS.Create(inputScale)));
            TS.Store(accumulate ? TS.Add(TS.Load(y + r0), v) : v, y + r0);
            return;
        }

        TS.Store(dots, (float*)lane);
        for (int i = 0; r0 + i < rows; i++)
        {
            float v = Int8Quantizer.Dequantize(lane[i], rowScales[r0 + i], inputScale);
            y[r0 + i] = accumulate ? y[r0 + i] + v : v;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Put(float* y, int r, int dot, int* rowSums, float* rowScales, float inputScale, bool accumulate)
    {
        float v = Int8Quantizer.Dequantize(dot - (128 * rowSums[r]), rowScales[r], inputScale);
        y[r] = accumulate ? y[r] + v : v;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Put4(float* y, int yStride, int r, int d0, int d1, int d2, int d3, int* rowSums, float* rowScales, float* inputScales)
    {
        int bias = 128 * rowSums[r];
        float s = rowScales[r];
        y[r] = Int8Quantizer.Dequantize(d0 - bias, s, inputScales[0]);
        y[yStride + r] = Int8Quantizer.Dequantize(d1 - bias, s, inputScales[1]);
        y[(2 * yStride) + r] = Int8Quantizer.Dequantize(d2 - bias, s, inputScales[2]);
        y[(3 * yStride) + r] = Int8Quantizer.Dequantize(d3 - bias, s, inputScales[3]);
    }
}
