using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Vec = System.Runtime.Intrinsics.Vector256<float>;

namespace RecurrentCore.Kernels;

/// <summary>
/// AVX2 + FMA3 (Vector256) GEMM micro-kernel: up to 6 rows × 2 vectors (16 columns) of accumulators. Per reduction step it loads
/// two vectors of B and broadcasts one packed A value per row, so 12 independent FMA chains hide the FMA latency.
/// </summary>
internal readonly unsafe struct GemmAvx2Fma : IGemmKernel
{
    public static int RowsPerTile => 6;

    public static int ColumnsPerTile => 2 * 8;

    public static float ScalarFma(float a, float b, float c) => MathF.FusedMultiplyAdd(a, b, c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vec Fma(Vec a, Vec b, Vec c) => System.Runtime.Intrinsics.X86.Fma.MultiplyAdd(a, b, c);

    public static void Tile(int rows, float* ap, float* b, nint bStride, int depth, float* c, nint cStride, int lo, int hi, StoreMode mode, float* bias)
    {
        switch (rows)
        {
            case 6: Tile<R6>(ap, b, bStride, depth, c, cStride, lo, hi, mode, bias); return;
            case 5: Tile<R5>(ap, b, bStride, depth, c, cStride, lo, hi, mode, bias); return;
            case 4: Tile<R4>(ap, b, bStride, depth, c, cStride, lo, hi, mode, bias); return;
            case 3: Tile<R3>(ap, b, bStride, depth, c, cStride, lo, hi, mode, bias); return;
            case 2: Tile<R2>(ap, b, bStride, depth, c, cStride, lo, hi, mode, bias); return;
            default: Tile<R1>(ap, b, bStride, depth, c, cStride, lo, hi, mode, bias); return;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile<TR>(float* ap, float* b, nint bStride, int depth, float* c, nint cStride, int lo, int hi, StoreMode mode, float* bias)
        where TR : struct, IRowCount
    {
        const int N = 8;
        // The tile meets C only after the reduction; start the lines of C on their way now (rows are a stride apart, so the hardware prefetcher would not).
        Sse.Prefetch0(c);
        Sse.Prefetch0(c + ((2 * N) - 1));

        if (TR.Value > 1)
        {
            Sse.Prefetch0(c + cStride);
            Sse.Prefetch0(c + cStride + ((2 * N) - 1));
        }

        if (TR.Value > 2)
        {
            Sse.Prefetch0(c + (2 * cStride));
            Sse.Prefetch0(c + (2 * cStride) + ((2 * N) - 1));
        }

        if (TR.Value > 3)
        {
            Sse.Prefetch0(c + (3 * cStride));
            Sse.Prefetch0(c + (3 * cStride) + ((2 * N) - 1));
        }

        if (TR.Value > 4)
        {
            Sse.Prefetch0(c + (4 * cStride));
            Sse.Prefetch0(c + (4 * cStride) + ((2 * N) - 1));
        }

        if (TR.Value > 5)
        {
            Sse.Prefetch0(c + (5 * cStride));
            Sse.Prefetch0(c + (5 * cStride) + ((2 * N) - 1));
        }

        Vec c0a = Vec.Zero, c0b = Vec.Zero;
        Vec c1a = Vec.Zero, c1b = Vec.Zero;
        Vec c2a = Vec.Zero, c2b = Vec.Zero;
        Vec c3a = Vec.Zero, c3b = Vec.Zero;
        Vec c4a = Vec.Zero, c4b = Vec.Zero;
        Vec c5a = Vec.Zero, c5b = Vec.Zero;
        for (int r = 0; r < depth; r++, ap += 6, b += bStride)
        {
            Vec b0 = Vector256.Load(b);
            Vec b1 = Vector256.Load(b + N);
            Vec s;
            s = Vector256.Create(ap[0]);
            c0a = Fma(s, b0, c0a);
            c0b = Fma(s, b1, c0b);

            if (TR.Value > 1)
            {
                s = Vector256.Create(ap[1]);
                c1a = Fma(s, b0, c1a);
                c1b = Fma(s, b1, c1b);
            }

            if (TR.Value > 2)
            {
                s = Vector256.Create(ap[2]);
                c2a = Fma(s, b0, c2a);
                c2b = Fma(s, b1, c2b);
            }

            if (TR.Value > 3)
            {
                s = Vector256.Create(ap[3]);
                c3a = Fma(s, b0, c3a);
                c3b = Fma(s, b1, c3b);
            }

            if (TR.Value > 4)
            {
                s = Vector256.Create(ap[4]);
                c4a = Fma(s, b0, c4a);
                c4b = Fma(s, b1, c4b);
            }

            if (TR.Value > 5)
            {
                s = Vector256.Create(ap[5]);
                c5a = Fma(s, b0, c5a);
                c5b = Fma(s, b1, c5b);
            }
        }

        if (lo == 0 && hi == 2 * N)
        {
            Put(c, c0a, c0b, mode, bias);

            if (TR.Value > 1)
            {
                Put(c + cStride, c1a, c1b, mode, bias);
            }

            if (TR.Value > 2)
            {
                Put(c + (2 * cStride), c2a, c2b, mode, bias);
            }

            if (TR.Value > 3)
            {
                Put(c + (3 * cStride), c3a, c3b, mode, bias);
            }

            if (TR.Value > 4)
            {
                Put(c + (4 * cStride), c4a, c4b, mode, bias);
            }

            if (TR.Value > 5)
            {
                Put(c + (5 * cStride), c5a, c5b, mode, bias);
            }
        }
        else
        {
            PutPartial(c, c0a, c0b, lo, hi, mode, bias);

            if (TR.Value > 1)
            {
                PutPartial(c + cStride, c1a, c1b, lo, hi, mode, bias);
            }

            if (TR.Value > 2)
            {
                PutPartial(c + (2 * cStride), c2a, c2b, lo, hi, mode, bias);
            }

            if (TR.Value > 3)
            {
                PutPartial(c + (3 * cStride), c3a, c3b, lo, hi, mode, bias);
            }

            if (TR.Value > 4)
            {
                PutPartial(c + (4 * cStride), c4a, c4b, lo, hi, mode, bias);
            }

            if (TR.Value > 5)
            {
                PutPartial(c + (5 * cStride), c5a, c5b, lo, hi, mode, bias);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Put(float* c, Vec x0, Vec x1, StoreMode mode, float* bias)
    {
        const int N = 8;
        switch (mode)
        {
            case StoreMode.SetBias:
                x0 = Vector256.Load(bias) + x0;
                x1 = Vector256.Load(bias + N) + x1;
                break;
            case StoreMode.Add:
                x0 = Vector256.Load(c) + x0;
                x1 = Vector256.Load(c + N) + x1;
                break;
            case StoreMode.AddBias:
                x0 = (Vector256.Load(c) + Vector256.Load(bias)) + x0;
                x1 = (Vector256.Load(c + N) + Vector256.Load(bias + N)) + x1;
                break;
            default:
                break;
        }

        Vector256.Store(x0, c);
        Vector256.Store(x1, c + N);
    }

    /// <summary>Stores lanes <c>lo ≤ j &lt; hi</c> only, with the same arithmetic as <see cref="Put"/>.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void PutPartial(float* c, Vec x0, Vec x1, int lo, int hi, StoreMode mode, float* bias)
    {
        const int N = 8;
        float* t = stackalloc float[64];
        Vector256.Store(x0, t);
        Vector256.Store(x1, t + N);
        for (int j = lo; j < hi; j++)
        {
            c[j] = mode switch
            {
                StoreMode.SetBias => bias[j] + t[j],
                StoreMode.Add => c[j] + t[j],
                StoreMode.AddBias => (c[j] + bias[j]) + t[j],
                _ => t[j],
            };
        }
    }
}
