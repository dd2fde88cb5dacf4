using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace RecurrentCore.Kernels;

/// <summary>How a micro-kernel tile meets the output.</summary>
internal enum StoreMode
{
    /// <summary><c>C = acc</c>.</summary>
    Set,

    /// <summary><c>C = bias + acc</c>.</summary>
    SetBias,

    /// <summary><c>C = C + acc</c>.</summary>
    Add,

    /// <summary><c>C = (C + bias) + acc</c>.</summary>
    AddBias,
}

/// <summary>A register-blocked micro-kernel of one variant: the tile shape and the tile itself.</summary>
internal unsafe interface IGemmKernel
{
    /// <summary>MR: output rows per tile (broadcast operands).</summary>
    static abstract int RowsPerTile { get; }

    /// <summary>NR: output columns per tile (vector operands).</summary>
    static abstract int ColumnsPerTile { get; }

    /// <summary>
    /// For <c>i &lt; rows</c> and lanes <c>lo ≤ j &lt; hi</c>: <c>acc = Σ_r ap[r·MR + i]·b[r·bStride + j]</c> (one fused
    /// chain over <c>r &lt; depth</c>), then stored into <c>c[i·cStride + j]</c> by <paramref name="mode"/>.
    /// </summary>
    static abstract void Tile(int rows, float* ap, float* b, nint bStride, int depth, float* c, nint cStride, int lo, int hi, StoreMode mode, float* bias);

    /// <summary>The scalar step with the same rounding as one lane of the tile.</summary>
    static abstract float ScalarFma(float a, float b, float c);
}

/// <summary>The one loop nest every vector GEMM shape runs through; the micro-kernel is the only ISA-specific part.</summary>
internal static unsafe class GemmDriver
{
    /// <summary>NC: output columns per block, so a <c>DepthBlock×ColumnBlock</c> slab of B stays in L2 (1 MiB).</summary>
    public const int ColumnBlock = 1024;

    /// <summary>The largest MR of any variant (sizes the packed-A buffer on the stack).</summary>
    private const int MaxRowsPerTile = 12;

    /// <summary>
    /// Row tiles packed together and run against each B panel in turn: a recurrent step's batch (up to this many tiles)
    /// then reads B (W_hh, from L2 or L3 every step) once instead of once per row tile, and the transposed A of a weight
    /// gradient (columns of dG, rows G·H floats apart) is gathered three tiles wide, so each cache line fetched serves more.
    /// </summary>
    private const int WholeTiles = 3;

    /// <summary>
    /// <c>C[i, j] (+)= Σ_r A(i, r)·B(r, j) (+ bias[j])</c> for <c>i &lt; rows</c>, <c>j &lt; cols</c>, <c>r &lt; depth</c>, where
    /// <c>A(i, r) = a[i·aRow + r·aStep]</c> and <c>B(r, j)</c> is either <c>b[r·bStride + j]</c> (raw) or, when
    /// <paramref name="packed"/>, element <c>j % NR</c> of row <c>r</c> in panel <c>j / NR</c> (<c>panelStride</c> apart, <c>bStride = NR</c>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    [SkipLocalsInit]
    public static void Run<TK>(float* a, nint aRow, nint aStep, int rows, float* b, nint bStride, nint panelStride, bool packed,
        int cols, int depth, float* c, nint cStride, bool accumulate, float* bias)
        where TK : IGemmKernel
    {
        int mr = TK.RowsPerTile, nr = TK.ColumnsPerTile;
        if (!packed && cols < nr)
        {
            Narrow<TK>(a, aRow, aStep, rows, b, bStride, cols, depth, c, cStride, accumulate);
            return;
        }

        // Row tiles' MR×DepthBlock operands, each interleaved [r][i] so the kernel broadcasts from one stream (36 KiB at
        // most); every element is written by PackA before a tile reads it.
        float* ap = stackalloc float[WholeTiles * MaxRowsPerTile * Gemm.DepthBlock];
        // Large products with row-major A (the input projection, dX) keep one tile per block: their A tile stays in L1
        // next to an L2-sized slab of B.
        int block = rows <= WholeTiles * mr || aRow == 1 ? WholeTiles * mr : mr;

        // A batch that fits one row block is packed once per depth block whatever the width of C.
        int colBlock = rows <= WholeTiles * mr ? cols : ColumnBlock;
        for (int r0 = 0; r0 < depth; r0 += Gemm.DepthBlock)
        {
            int kc = Math.Min(Gemm.DepthBlock, depth - r0);
            StoreMode mode = r0 > 0 ? StoreMode.Add
                : accumulate ? (bias != null ? StoreMode.AddBias : StoreMode.Add)
                : (bias != null ? StoreMode.SetBias : StoreMode.Set);
            for (int j0 = 0; j0 < cols; j0 += colBlock)
            {
                int j1 = Math.Min(cols, j0 + colBlock);
                for (int i0 = 0; i0 < rows; i0 += block)
                {
                    // The block's rows in tiles of even heights (16 rows: 8 + 8, not 12 + 4), so no tile is too short to
                    // keep both FMA pipes busy; a row's chain is the same in any tile.
                    int m = Math.Min(block, rows - i0), tiles = (m + mr - 1) / mr;
                    for (int t = 0; t < tiles; t++)
                    {
                        int i = i0 + (m * t / tiles);
                        PackA(a + (i * aRow) + (r0 * aStep), aRow, aStep, (i0 + (m * (t + 1) / tiles)) - i, kc, ap + (t * mr * kc), mr);
                    }

                    for (int j = j0; j < j1; j += nr)
                    {
                        for (int t = 0; t < tiles; t++)
                        {
                            int i = i0 + (m * t / tiles);
                            Panel<TK>((i0 + (m * (t + 1) / tiles)) - i, ap + (t * mr * kc), b, bStride, panelStride, packed, cols, r0, kc, c + (i * cStride), cStride, j, mode, bias);
                        }
                    }
                }
            }
        }
    }

    /// <summary>One tile: <c>m</c> packed rows against the NR columns of B from <c>j</c>, depth rows <c>r0..r0 + kc</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Panel<TK>(int m, float* ap, float* b, nint bStride, nint panelStride, bool packed, int cols, int r0, int kc,
        float* ci, nint cStride, int j, StoreMode mode, float* bias)
        where TK : IGemmKernel
    {
        int nr = TK.ColumnsPerTile;
        if (packed)
        {
            TK.Tile(m, ap, b + ((j / nr) * panelStride) + (r0 * nr), nr, kc, ci + j, cStride, 0, Math.Min(nr, cols - j), mode, bias == null ? null : bias + j);
        }
        else if (j + nr <= cols)
        {
            TK.Tile(m, ap, b + (r0 * bStride) + j, bStride, kc, ci + j, cStride, 0, nr, mode, null);
        }
        else
        {
            // Overlap the last full tile so no read passes a row of B; only the new lanes are stored,
            // and the lanes they share were summed by the same chain anyway.
            int t = cols - nr;
            TK.Tile(m, ap, b + (r0 * bStride) + t, bStride, kc, ci + t, cStride, j - t, nr, mode, null);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackA(float* a, nint aRow, nint aStep, int rows, int depth, float* ap, int mr)
    {
        if (aRow == 1)
        {
            // A's tile rows are contiguous (dW = dGᵀ·X reads columns of dG): copy MR floats per step.
            for (int r = 0; r < depth; r++)
            {
                float* src = a + (r * aStep);
                float* dst = ap + (r * mr);
                int i = 0;
                for (; i + 4 <= rows; i += 4)
                {
                    Vector128.Store(Vector128.Load(src + i), dst + i);
                }

                for (; i < rows; i++)
                {
                    dst[i] = src[i];
                }
            }

            return;
        }

        // Rows of A (the forward's inputs, dG for dX and dh_prev). With unit steps, 4×4 blocks: four rows' next four
        // elements loaded, transposed in registers, stored into four destination rows. The element-by-element copy
        // below took 11 % of a 256³ forward product and 6 % of a 1024³ one; this takes 256³ from 100–101 to 108–109 GFLOP/s
        // (taskset -c 0, EPYC Zen 4, docs/benchmarks.md). Same bits: a copy.
        int depth4 = aStep == 1 && rows >= 4 && Simd.Simd128.HasNativeTranspose4 ? depth & ~3 : 0, rows4 = rows & ~3;
        for (int r = 0; r < depth4; r += 4)
        {
            float* dst = ap + (r * mr);
            for (int i = 0; i < rows4; i += 4)
            {
                float* src = a + (i * aRow) + r;
                var v0 = Vector128.Load(src);
                var v1 = Vector128.Load(src + aRow);
                var v2 = Vector128.Load(src + (2 * aRow));
                var v3 = Vector128.Load(src + (3 * aRow));
                Simd.Simd128.Transpose4(ref v0, ref v1, ref v2, ref v3);
                Vector128.Store(v0, dst + i);
                Vector128.Store(v1, dst + mr + i);
                Vector128.Store(v2, dst + (2 * mr) + i);
                Vector128.Store(v3, dst + (3 * mr) + i);
            }

            for (int i = rows4; i < rows; i++)
            {
                for (int q = 0; q < 4; q++)
                {
                    dst[(q * mr) + i] = a[(i * aRow) + r + q];
                }
            }
        }

        // The rest (or all, with strided steps): one step across all rows per destination row, so the stores run
        // contiguously and each source row is read as its own sequential stream.
        for (int r = depth4; r < depth; r++)
        {
            float* dst = ap + (r * mr);
            float* src = a + (r * aStep);
            for (int i = 0; i < rows; i++)
            {
                dst[i] = src[i * aRow];
            }
        }
    }

    /// <summary>Fewer columns than one tile: per-element chains with the tile's blocking and rounding, so the bits match.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Narrow<TK>(float* a, nint aRow, nint aStep, int rows, float* b, nint bStride, int cols, int depth, float* c, nint cStride, bool accumulate)
        where TK : IGemmKernel
    {
        for (int i = 0; i < rows; i++)
        {
            for (int j = 0; j < cols; j++)
            {
                float* cij = c + (i * cStride) + j;
                for (int r0 = 0; r0 < depth; r0 += Gemm.DepthBlock)
                {
                    int r1 = Math.Min(depth, r0 + Gemm.DepthBlock);
                    float acc = 0;
                    for (int r = r0; r < r1; r++)
                    {
                        acc = TK.ScalarFma(a[(i * aRow) + (r * aStep)], b[(r * bStride) + j], acc);
                    }

                    *cij = r0 == 0 && !accumulate ? acc : *cij + acc;
                }
            }
        }
    }
}
