using System.Runtime.CompilerServices;
using RecurrentCore.Kernels.Simd;

namespace RecurrentCore.Kernels;

/// <summary>
/// Receives the four gate blocks of one register of hidden units straight from the product's accumulators: lanes
/// <c>j .. j + Count</c> of blocks 0..3 (for LSTM <c>a_i, a_f, a_g, a_o</c>; for the fused GRU layout
/// <c>r, z, n_x, n_h</c>), so a gate kernel applies its activations while the sums are still in registers.
/// </summary>
internal interface IGateBlocks
{
    /// <summary>Finishes hidden units <c>j .. j + TS.Count</c> from their four block sums.</summary>
    void Apply<TS, TV>(nint j, TV a0, TV a1, TV a2, TV a3)
        where TS : struct, ISimd<TV>
        where TV : unmanaged;
}

/// <summary>
/// One-row column GEMV over a transposed matrix of four blocks of <c>block</c> columns (<c>y = Wᵀ·x</c>, <c>W</c>
/// <c>rows × 4·block</c> row-major), handing each register of every block to an <see cref="IGateBlocks"/> instead of
/// storing it: the streaming step's product and gates in one pass, no gate row written or read back.
/// </summary>
/// <remarks>
/// Each output column is summed exactly as <see cref="GemvKernel{TS, TV}.MultiplyTransposed"/> sums it with
/// <c>accumulate: false</c> (16 lanes: four interleaved chains over <c>r mod 4</c>, then <c>(s0 + s1) + (s2 + s3)</c>;
/// narrower widths: one fused chain over r in order; scalar: one unfused chain), so the fused step is bitwise equal to
/// the product followed by the gate kernel. Only for <c>block</c> a positive multiple of <c>TS.Count</c> (the caller
/// checks <see cref="Fits"/>).
/// </remarks>
internal static unsafe class ColumnGatesKernel<TS, TV>
    where TS : struct, ISimd<TV>
    where TV : unmanaged
{
    /// <summary>Whether blocks of <paramref name="block"/> columns split into whole registers of this width.</summary>
    public static bool Fits(int block) => block > 0 && block % TS.Count == 0;

    /// <summary>For each register <c>j</c> of the block: the four block sums <c>Σ_r w[r, k·block + j]·x[r]</c> into <paramref name="gates"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Run<TE>(float* w, int rows, nint block, float* x, ref TE gates)
        where TE : struct, IGateBlocks
    {
        for (nint j = 0; j < block; j += TS.Count)
        {
            TV a0, a1, a2, a3;
            if (TS.Count >= 16)
            {
                Interleaved(w + j, rows, block, x, out a0, out a1, out a2, out a3);
            }
            else
            {
                InOrder(w + j, rows, block, x, out a0, out a1, out a2, out a3);
            }

            gates.Apply<TS, TV>(j, a0, a1, a2, a3);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Interleaved(float* p, int rows, nint block, float* x, out TV a0, out TV a1, out TV a2, out TV a3)
    {
        nint ld = 4 * block;
        TV s00 = TS.Zero, s01 = TS.Zero, s02 = TS.Zero, s03 = TS.Zero;
        TV s10 = TS.Zero, s11 = TS.Zero, s12 = TS.Zero, s13 = TS.Zero;
        TV s20 = TS.Zero, s21 = TS.Zero, s22 = TS.Zero, s23 = TS.Zero;
        TV s30 = TS.Zero, s31 = TS.Zero, s32 = TS.Zero, s33 = TS.Zero;
        int r = 0;
        for (; r <= rows - 4; r += 4, p += 4 * ld)
        {
            Row4(p, block, TS.Create(x[r]), ref s00, ref s01, ref s02, ref s03);
            Row4(p + ld, block, TS.Create(x[r + 1]), ref s10, ref s11, ref s12, ref s13);
            Row4(p + (2 * ld), block, TS.Create(x[r + 2]), ref s20, ref s21, ref s22, ref s23);
            Row4(p + (3 * ld), block, TS.Create(x[r + 3]), ref s30, ref s31, ref s32, ref s33);
        }

        if (r < rows)
        {
            Row4(p, block, TS.Create(x[r]), ref s00, ref s01, ref s02, ref s03);
        }

        if (r + 1 < rows)
        {
            Row4(p + ld, block, TS.Create(x[r + 1]), ref s10, ref s11, ref s12, ref s13);
        }

        if (r + 2 < rows)
        {
            Row4(p + (2 * ld), block, TS.Create(x[r + 2]), ref s20, ref s21, ref s22, ref s23);
        }

        a0 = TS.Add(TS.Add(s00, s10), TS.Add(s20, s30));
        a1 = TS.Add(TS.Add(s01, s11), TS.Add(s21, s31));
        a2 = TS.Add(TS.Add(s02, s12), TS.Add(s22, s32));
        a3 = TS.Add(TS.Add(s03, s13), TS.Add(s23, s33));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void InOrder(float* p, int rows, nint block, float* x, out TV a0, out TV a1, out TV a2, out TV a3)
    {
        nint ld = 4 * block;
        a0 = TS.Zero;
        a1 = TS.Zero;
        a2 = TS.Zero;
        a3 = TS.Zero;
        for (int r = 0; r < rows; r++, p += ld)
        {
            Row4(p, block, TS.Create(x[r]), ref a0, ref a1, ref a2, ref a3);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Row4(float* p, nint block, TV xr, ref TV s0, ref TV s1, ref TV s2, ref TV s3)
    {
        s0 = Accumulate(TS.Load(p), xr, s0);
        s1 = Accumulate(TS.Load(p + block), xr, s1);
        s2 = Accumulate(TS.Load(p + (2 * block)), xr, s2);
        s3 = Accumulate(TS.Load(p + (3 * block)), xr, s3);
    }

    /// <summary>The scalar width keeps the reference's separate multiply and add (as GemvKernel's scalar sweep does).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV Accumulate(TV w, TV x, TV s) => TS.Count == 1 ? TS.Add(s, TS.Multiply(w, x)) : TS.MultiplyAdd(w, x, s);
}
