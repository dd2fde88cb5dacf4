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
    /// <see cref="Multiply"/> (accumulate = false) for <paramref name="inputs"/> prepared inputs at once: input j is
    /// <c>x + j·stride</c>, its result row <c>y + j·yStride</c>. Rows in pairs, inputs in fours: each weight register is
    /// widened once for four inputs. Every (row, input) keeps <see cref="Multiply"/>'s even and odd accumulators, chunk
    /// order and final sum tree, so the results equal it bit for bit.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MultiplyMany(ushort* w, int rows, int stride, float* x, int inputs, float* y, int yStride)
    {
        int n = TS.Count;
        TV high = TS.CreateBits(unchecked((int)0xFFFF0000));
        int j = 0;
        for (; j <= inputs - 4; j += 4)
        {
            float* x0 = x + ((nint)j * stride);
            float* x1 = x0 + stride;
            float* x2 = x1 + stride;
            float* x3 = x2 + stride;
            float* y0 = y + ((nint)j * yStride);
            int r = 0;
            for (; r <= rows - 2; r += 2)
            {
                ushort* w0 = w + ((nint)r * stride);
                ushort* w1 = w0 + stride;
                TV a00 = TS.Zero, a01 = TS.Zero, a02 = TS.Zero, a03 = TS.Zero, b00 = TS.Zero, b01 = TS.Zero, b02 = TS.Zero, b03 = TS.Zero;
                TV a10 = TS.Zero, a11 = TS.Zero, a12 = TS.Zero, a13 = TS.Zero, b10 = TS.Zero, b11 = TS.Zero, b12 = TS.Zero, b13 = TS.Zero;
                for (int c = 0; c < stride; c += 2 * n)
                {
                    TV p0 = TS.Load((float*)(w0 + c));
                    TV p1 = TS.Load((float*)(w1 + c));
                    TV e0 = TS.IntShiftLeft(p0, 16), o0 = TS.And(p0, high);
                    TV e1 = TS.IntShiftLeft(p1, 16), o1 = TS.And(p1, high);
                    TV xe = TS.Load(x0 + c), xo = TS.Load(x0 + c + n);
                    a00 = TS.MultiplyAdd(e0, xe, a00);
                    b00 = TS.MultiplyAdd(o0, xo, b00);
                    a10 = TS.MultiplyAdd(e1, xe, a10);
                    b10 = TS.MultiplyAdd(o1, xo, b10);
                    xe = TS.Load(x1 + c);
                    xo = TS.Load(x1 + c + n);
                    a01 = TS.MultiplyAdd(e0, xe, a01);
                    b01 = TS.MultiplyAdd(o0, xo, b01);
                    a11 = TS.MultiplyAdd(e1, xe, a11);
                    b11 = TS.MultiplyAdd(o1, xo, b11);
                    xe = TS.Load(x2 + c);
                    xo = TS.Load(x2 + c + n);
                    a02 = TS.MultiplyAdd(e0, xe, a02);
                    b02 = TS.MultiplyAdd(o0, xo, b02);
                    a12 = TS.MultiplyAdd(e1, xe, a12);
                    b12 = TS.MultiplyAdd(o1, xo, b12);
                    xe = TS.Load(x3 + c);
                    xo = TS.Load(x3 + c + n);
                    a03 = TS.MultiplyAdd(e0, xe, a03);
                    b03 = TS.MultiplyAdd(o0, xo, b03);
                    a13 = TS.MultiplyAdd(e1, xe, a13);
                    b13 = TS.MultiplyAdd(o1, xo, b13);
                }

                y0[r] = TS.Sum(TS.Add(a00, b00));
                y0[r + 1] = TS.Sum(TS.Add(a10, b10));
                y0[yStride + r] = TS.Sum(TS.Add(a01, b01));
                y0[yStride + r + 1] = TS.Sum(TS.Add(a11, b11));
                y0[(2 * yStride) + r] = TS.Sum(TS.Add(a02, b02));
                y0[(2 * yStride) + r + 1] = TS.Sum(TS.Add(a12, b12));
                y0[(3 * yStride) + r] = TS.Sum(TS.Add(a03, b03));
                y0[(3 * yStride) + r + 1] = TS.Sum(TS.Add(a13, b13));
            }

            if (r < rows)
            {
                for (int k = 0; k < 4; k++)
                {
                    Multiply(w + ((nint)r * stride), rows - r, stride, x0 + ((nint)k * stride), y0 + ((nint)k * yStride) + r, accumulate: false);
                }
            }
        }

        for (; j < inputs; j++)
        {
            Multiply(w, rows, stride, x + ((nint)j * stride), y + ((nint)j * yStride), accumulate: false);
        }
    }
}
