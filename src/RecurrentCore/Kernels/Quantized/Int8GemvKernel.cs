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
/// The unsigned input is VPDPBUSD's operand order (u8 × s8); the widths without it widen and multiply-add, and since
/// int32 addition is exact in any order every width gives the same d[r], bit for bit, as long as
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
        int step = 4 * TS.Count;
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
                a0 = TS.DotBytes(a0, u + c, w0 + c);
                a1 = TS.DotBytes(a1, u + c, w1 + c);
                a2 = TS.DotBytes(a2, u + c, w2 + c);
                a3 = TS.DotBytes(a3, u + c, w3 + c);
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
                a0 = TS.DotBytes(a0, u + c, w0 + c);
            }

            Put(y, r, TS.IntSum(a0), rowSums, rowScales, inputScale, accumulate);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Put(float* y, int r, int dot, int* rowSums, float* rowScales, float inputScale, bool accumulate)
    {
        float v = Int8Quantizer.Dequantize(dot - (128 * rowSums[r]), rowScales[r], inputScale);
        y[r] = accumulate ? y[r] + v : v;
    }
}
