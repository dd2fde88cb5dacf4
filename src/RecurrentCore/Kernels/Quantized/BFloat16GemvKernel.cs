using System.Runtime.CompilerServices;
using RecurrentCore.Kernels.Simd;

namespace RecurrentCore.Kernels.Quantized;

/// <summary>
/// <c>y[r] = (accumulate ? y[r] : 0) + Σ_c float(w[r·stride + c])·x[c]</c> over bfloat16 weights widened to float32 in
/// registers, float32 fused accumulation, for every width <typeparamref name="TS"/>. No checks: <c>stride</c> is a
/// multiple of 64 (every width's two registers), <c>w</c> holds <c>rows·stride</c> values and <c>x</c> <c>stride</c>
/// floats, both zero past the logical columns (so the padding adds exact zeros and no tail is needed).
/// </summary>
/// <remarks>
/// Rows in blocks of 4 share each load of x, two accumulators per row (even and odd registers); a row left over from the
/// blocks takes the same operations, so a result never depends on <c>rows % 4</c>. Deterministic for a given width and
/// stride.
/// </remarks>
internal static unsafe class BFloat16GemvKernel<TS, TV>
    where TS : struct, ISimd<TV>
    where TV : unmanaged
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Multiply(ushort* w, int rows, int stride, float* x, float* y, bool accumulate)
    {
        int n = TS.Count;
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
                TV xa = TS.Load(x + c);
                TV xb = TS.Load(x + c + n);
                a0 = TS.MultiplyAdd(TS.LoadBFloat16(w0 + c), xa, a0);
                a1 = TS.MultiplyAdd(TS.LoadBFloat16(w1 + c), xa, a1);
                a2 = TS.MultiplyAdd(TS.LoadBFloat16(w2 + c), xa, a2);
                a3 = TS.MultiplyAdd(TS.LoadBFloat16(w3 + c), xa, a3);
                b0 = TS.MultiplyAdd(TS.LoadBFloat16(w0 + c + n), xb, b0);
                b1 = TS.MultiplyAdd(TS.LoadBFloat16(w1 + c + n), xb, b1);
                b2 = TS.MultiplyAdd(TS.LoadBFloat16(w2 + c + n), xb, b2);
                b3 = TS.MultiplyAdd(TS.LoadBFloat16(w3 + c + n), xb, b3);
            }

            TS.StoreSums4(TS.Add(a0, b0), TS.Add(a1, b1), TS.Add(a2, b2), TS.Add(a3, b3), y + r, accumulate);
        }

        for (; r < rows; r++)
        {
            ushort* w0 = w + ((nint)r * stride);
            TV a0 = TS.Zero, b0 = TS.Zero;
            for (int c = 0; c < stride; c += 2 * n)
            {
                a0 = TS.MultiplyAdd(TS.LoadBFloat16(w0 + c), TS.Load(x + c), a0);
                b0 = TS.MultiplyAdd(TS.LoadBFloat16(w0 + c + n), TS.Load(x + c + n), b0);
            }

            float s = TS.Sum(TS.Add(a0, b0));
            y[r] = accumulate ? y[r] + s : s;
        }
    }
}
