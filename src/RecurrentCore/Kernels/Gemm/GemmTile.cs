using System.Runtime.CompilerServices;
using RecurrentCore.Kernels.Simd;

namespace RecurrentCore.Kernels;

/// <summary>
/// The GEMM micro-kernel, written once for every vector width <typeparamref name="TS"/>: up to MR rows × 2 registers
/// (NR = 2·Count columns) of accumulators. Per reduction step it loads two registers of B and broadcasts one packed A
/// value per row, so 2·MR independent FMA chains hide the FMA latency. MR = 12 with 16 lanes (24 accumulators of the 32
/// zmm registers, plus 2 for B and 1 broadcast), else 6 (12 of the 16 ymm/xmm registers).
/// </summary>
internal readonly unsafe struct GemmTile<TS, TV> : IGemmKernel
    where TS : struct, ISimd<TV>
    where TV : unmanaged
{
    public static int RowsPerTile => TS.Count >= 16 ? 12 : 6;

    public static int ColumnsPerTile => 2 * TS.Count;

    public static float ScalarFma(float a, float b, float c) => TS.MultiplyAddScalar(a, b, c);

    public static void Tile(int rows, float* ap, float* b, nint bStride, int depth, float* c, nint cStride, int lo, int hi, StoreMode mode, float* bias)
    {
        switch (rows)
        {
            case 12: Tile<R12>(ap, b, bStride, depth, c, cStride, lo, hi, mode, bias); return;
            case 11: Tile<R11>(ap, b, bStride, depth, c, cStride, lo, hi, mode, bias); return;
            case 10: Tile<R10>(ap, b, bStride, depth, c, cStride, lo, hi, mode, bias); return;
            case 9: Tile<R9>(ap, b, bStride, depth, c, cStride, lo, hi, mode, bias); return;
            case 8: Tile<R8>(ap, b, bStride, depth, c, cStride, lo, hi, mode, bias); return;
            case 7: Tile<R7>(ap, b, bStride, depth, c, cStride, lo, hi, mode, bias); return;
            case 6: Tile<R6>(ap, b, bStride, depth, c, cStride, lo, hi, mode, bias); return;
            case 5: Tile<R5>(ap, b, bStride, depth, c, cStride, lo, hi, mode, bias); return;
            case 4: Tile<R4>(ap, b, bStride, depth, c, cStride, lo, hi, mode, bias); return;
            case 3: Tile<R3>(ap, b, bStride, depth, c, cStride, lo, hi, mode, bias); return;
            case 2: Tile<R2>(ap, b, bStride, depth, c, cStride, lo, hi, mode, bias); return;
            default: Tile<R1>(ap, b, bStride, depth, c, cStride, lo, hi, mode, bias); return;
        }
    }

    // One line per row: TR.Value is a constant of the instantiation, so the JIT drops the rows past it and keeps every
    // accumulator in a register (the helpers are inlined; their ref arguments are locals, not memory).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile<TR>(float* ap, float* b, nint bStride, int depth, float* c, nint cStride, int lo, int hi, StoreMode mode, float* bias)
        where TR : struct, IRowCount
    {
        int n = TS.Count;
        // The tile meets C only after the reduction; start the lines of C on their way now (rows are a stride apart, so the hardware prefetcher would not).
        TS.Prefetch(c);
        TS.Prefetch(c + ((2 * n) - 1));
        if (TR.Value > 1) { TS.Prefetch(c + cStride); TS.Prefetch(c + cStride + ((2 * n) - 1)); }
        if (TR.Value > 2) { TS.Prefetch(c + (2 * cStride)); TS.Prefetch(c + (2 * cStride) + ((2 * n) - 1)); }
        if (TR.Value > 3) { TS.Prefetch(c + (3 * cStride)); TS.Prefetch(c + (3 * cStride) + ((2 * n) - 1)); }
        if (TR.Value > 4) { TS.Prefetch(c + (4 * cStride)); TS.Prefetch(c + (4 * cStride) + ((2 * n) - 1)); }
        if (TR.Value > 5) { TS.Prefetch(c + (5 * cStride)); TS.Prefetch(c + (5 * cStride) + ((2 * n) - 1)); }
        if (TR.Value > 6) { TS.Prefetch(c + (6 * cStride)); TS.Prefetch(c + (6 * cStride) + ((2 * n) - 1)); }
        if (TR.Value > 7) { TS.Prefetch(c + (7 * cStride)); TS.Prefetch(c + (7 * cStride) + ((2 * n) - 1)); }
        if (TR.Value > 8) { TS.Prefetch(c + (8 * cStride)); TS.Prefetch(c + (8 * cStride) + ((2 * n) - 1)); }
        if (TR.Value > 9) { TS.Prefetch(c + (9 * cStride)); TS.Prefetch(c + (9 * cStride) + ((2 * n) - 1)); }
        if (TR.Value > 10) { TS.Prefetch(c + (10 * cStride)); TS.Prefetch(c + (10 * cStride) + ((2 * n) - 1)); }
        if (TR.Value > 11) { TS.Prefetch(c + (11 * cStride)); TS.Prefetch(c + (11 * cStride) + ((2 * n) - 1)); }

        TV c0a = TS.Zero, c0b = TS.Zero;
        TV c1a = TS.Zero, c1b = TS.Zero;
        TV c2a = TS.Zero, c2b = TS.Zero;
        TV c3a = TS.Zero, c3b = TS.Zero;
        TV c4a = TS.Zero, c4b = TS.Zero;
        TV c5a = TS.Zero, c5b = TS.Zero;
        TV c6a = TS.Zero, c6b = TS.Zero;
        TV c7a = TS.Zero, c7b = TS.Zero;
        TV c8a = TS.Zero, c8b = TS.Zero;
        TV c9a = TS.Zero, c9b = TS.Zero;
        TV c10a = TS.Zero, c10b = TS.Zero;
        TV c11a = TS.Zero, c11b = TS.Zero;
        for (int r = 0; r < depth; r++, ap += RowsPerTile, b += bStride)
        {
            TV b0 = TS.Load(b);
            TV b1 = TS.Load(b + n);
            Fma(ap[0], b0, b1, ref c0a, ref c0b);
            if (TR.Value > 1) Fma(ap[1], b0, b1, ref c1a, ref c1b);
            if (TR.Value > 2) Fma(ap[2], b0, b1, ref c2a, ref c2b);
            if (TR.Value > 3) Fma(ap[3], b0, b1, ref c3a, ref c3b);
            if (TR.Value > 4) Fma(ap[4], b0, b1, ref c4a, ref c4b);
            if (TR.Value > 5) Fma(ap[5], b0, b1, ref c5a, ref c5b);
            if (TR.Value > 6) Fma(ap[6], b0, b1, ref c6a, ref c6b);
            if (TR.Value > 7) Fma(ap[7], b0, b1, ref c7a, ref c7b);
            if (TR.Value > 8) Fma(ap[8], b0, b1, ref c8a, ref c8b);
            if (TR.Value > 9) Fma(ap[9], b0, b1, ref c9a, ref c9b);
            if (TR.Value > 10) Fma(ap[10], b0, b1, ref c10a, ref c10b);
            if (TR.Value > 11) Fma(ap[11], b0, b1, ref c11a, ref c11b);
        }

        if (lo == 0 && hi == 2 * n)
        {
            Put(c, c0a, c0b, mode, bias);
            if (TR.Value > 1) Put(c + cStride, c1a, c1b, mode, bias);
            if (TR.Value > 2) Put(c + (2 * cStride), c2a, c2b, mode, bias);
            if (TR.Value > 3) Put(c + (3 * cStride), c3a, c3b, mode, bias);
            if (TR.Value > 4) Put(c + (4 * cStride), c4a, c4b, mode, bias);
            if (TR.Value > 5) Put(c + (5 * cStride), c5a, c5b, mode, bias);
            if (TR.Value > 6) Put(c + (6 * cStride), c6a, c6b, mode, bias);
            if (TR.Value > 7) Put(c + (7 * cStride), c7a, c7b, mode, bias);
            if (TR.Value > 8) Put(c + (8 * cStride), c8a, c8b, mode, bias);
            if (TR.Value > 9) Put(c + (9 * cStride), c9a, c9b, mode, bias);
            if (TR.Value > 10) Put(c + (10 * cStride), c10a, c10b, mode, bias);
            if (TR.Value > 11) Put(c + (11 * cStride), c11a, c11b, mode, bias);
        }
        else
        {
            PutPartial(c, c0a, c0b, lo, hi, mode, bias);
            if (TR.Value > 1) PutPartial(c + cStride, c1a, c1b, lo, hi, mode, bias);
            if (TR.Value > 2) PutPartial(c + (2 * cStride), c2a, c2b, lo, hi, mode, bias);
            if (TR.Value > 3) PutPartial(c + (3 * cStride), c3a, c3b, lo, hi, mode, bias);
            if (TR.Value > 4) PutPartial(c + (4 * cStride), c4a, c4b, lo, hi, mode, bias);
            if (TR.Value > 5) PutPartial(c + (5 * cStride), c5a, c5b, lo, hi, mode, bias);
            if (TR.Value > 6) PutPartial(c + (6 * cStride), c6a, c6b, lo, hi, mode, bias);
            if (TR.Value > 7) PutPartial(c + (7 * cStride), c7a, c7b, lo, hi, mode, bias);
            if (TR.Value > 8) PutPartial(c + (8 * cStride), c8a, c8b, lo, hi, mode, bias);
            if (TR.Value > 9) PutPartial(c + (9 * cStride), c9a, c9b, lo, hi, mode, bias);
            if (TR.Value > 10) PutPartial(c + (10 * cStride), c10a, c10b, lo, hi, mode, bias);
            if (TR.Value > 11) PutPartial(c + (11 * cStride), c11a, c11b, lo, hi, mode, bias);
        }
    }

    /// <summary>One row's step of the reduction: <c>(ca, cb) += a · (b0, b1)</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Fma(float a, TV b0, TV b1, ref TV ca, ref TV cb)
    {
        TV s = TS.Create(a);
        ca = TS.MultiplyAdd(s, b0, ca);
        cb = TS.MultiplyAdd(s, b1, cb);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Put(float* c, TV x0, TV x1, StoreMode mode, float* bias)
    {
        int n = TS.Count;
        switch (mode)
        {
            case StoreMode.SetBias:
                x0 = TS.Add(TS.Load(bias), x0);
                x1 = TS.Add(TS.Load(bias + n), x1);
                break;
            case StoreMode.Add:
                x0 = TS.Add(TS.Load(c), x0);
                x1 = TS.Add(TS.Load(c + n), x1);
                break;
            case StoreMode.AddBias:
                x0 = TS.Add(TS.Add(TS.Load(c), TS.Load(bias)), x0);
                x1 = TS.Add(TS.Add(TS.Load(c + n), TS.Load(bias + n)), x1);
                break;
            default:
                break;
        }

        TS.Store(x0, c);
        TS.Store(x1, c + n);
    }

    /// <summary>Stores lanes <c>lo ≤ j &lt; hi</c> only, with the same arithmetic as <see cref="Put"/>.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void PutPartial(float* c, TV x0, TV x1, int lo, int hi, StoreMode mode, float* bias)
    {
        float* t = stackalloc float[64];
        TS.Store(x0, t);
        TS.Store(x1, t + TS.Count);
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
