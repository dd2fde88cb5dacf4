using System.Runtime.CompilerServices;
using RecurrentCore.Kernels.Simd;

namespace RecurrentCore.Kernels;

/// <summary>
/// Receives the four gate blocks of one register of hidden units straight from the product's accumulators: lanes
/// <c>j .. j + Count</c> of blocks 0..3 (LSTM <c>a_i, a_f, a_g, a_o</c>; GRU <c>r, z, n_x, n_h</c>), so a gate kernel
/// applies its activations while the sums are still in registers.
/// </summary>
internal interface IGateBlocks
{
    /// <summary>
    /// Weight blocks per row of the panels (<see cref="ColumnGatesKernel{TS, TV}"/>): 4 when every row feeds all four
    /// sums (LSTM); 3 when input rows feed blocks 0, 1, 2 and hidden rows blocks 0, 1, 3 (GRU: W_in has no h part,
    /// W_hn no x part).
    /// </summary>
    static abstract int Blocks { get; }

    /// <summary>Finishes hidden units <c>j .. j + TS.Count</c> from their four block sums.</summary>
    void Apply<TS, TV>(nint j, TV a0, TV a1, TV a2, TV a3)
        where TS : struct, ISimd<TV>
        where TV : unmanaged;
}

/// <summary>The weight panels <see cref="ColumnGatesKernel{TS, TV}"/> streams through, laid out once per layer.</summary>
internal static class ColumnGatePanels
{
    /// <summary>Registers of starting sums at the head of each register's panel when the panels carry them.</summary>
    public const int StartRegisters = 4;

    /// <summary>
    /// Floats of the panels of a layer: (In + H) · blocks · H, plus <see cref="StartRegisters"/> · H with
    /// <paramref name="startSums"/>.
    /// </summary>
    public static int Length(int inputs, int hidden, int blocks, bool startSums = false) =>
        ((inputs + hidden) * blocks * hidden) + (startSums ? StartRegisters * hidden : 0);

    /// <summary>
    /// A pinned array holding <paramref name="length"/> floats from <paramref name="offset"/> on, which is a 64-byte
    /// boundary. The GC aligns arrays to 8 bytes only: panels at a random offset split a register's loads across cache
    /// lines in all but one offset of eight, and the one-row step's time varied with the placement (docs/benchmarks.md).
    /// </summary>
    public static unsafe float[] Allocate(int length, out int offset)
    {
        const int alignment = 64;
        var array = GC.AllocateArray<float>(length + (alignment / sizeof(float)) - 1, pinned: true);
        nint start = (nint)Unsafe.AsPointer(ref array[0]);
        offset = (int)((-start & (alignment - 1)) / sizeof(float));
        return array;
    }

    /// <summary>
    /// Lays out <paramref name="weightIh"/> (G·H × In) and <paramref name="weightHh"/> (G·H × H), row-major, as panels
    /// of <paramref name="blocks"/> blocks taken from gates 0..blocks−1 of each matrix, for registers of
    /// <paramref name="width"/> lanes (<see cref="ColumnGatesKernel{TS, TV}"/>). With <paramref name="startSums"/>
    /// (<see cref="StartRegisters"/>·H floats, <c>[a0 | a1 | a2 | a3]</c>, each H long: what the four sums start from, the
    /// biases), each register's panel begins with its lanes of the four.
    /// </summary>
    public static void Pack(
        ReadOnlySpan<float> weightIh, ReadOnlySpan<float> weightHh, int inputs, int hidden, int blocks, int width, Span<float> panels,
        ReadOnlySpan<float> startSums = default)
    {
        int n = width, rows = inputs + hidden, at = 0;
        if (!startSums.IsEmpty && startSums.Length != StartRegisters * hidden)
        {
            throw new ArgumentException($"startSums: {startSums.Length} floats, expected {StartRegisters * hidden}", nameof(startSums));
        }

        for (int j = 0; j < hidden; j += n)
        {
            if (!startSums.IsEmpty)
            {
                for (int b = 0; b < StartRegisters; b++)
                {
                    startSums.Slice((b * hidden) + j, n).CopyTo(panels[at..]);
                    at += n;
                }
            }

            for (int r = 0; r < rows; r++)
            {
                var w = r < inputs ? weightIh : weightHh;
                int cols = r < inputs ? inputs : hidden, col = r < inputs ? r : r - inputs;
                for (int b = 0; b < blocks; b++)
                {
                    for (int lane = 0; lane < n; lane++)
                    {
                        panels[at++] = w[((((b * hidden) + j + lane) * cols) + col)];
                    }
                }
            }
        }
    }
}

/// <summary>
/// The one-row gate product over weight panels: for every register <c>j</c> of hidden units, the sums
/// <c>Σ_r W[g·H + j, r]·[x; h][r]</c> of each gate block g over the input rows (x) and then the hidden rows (h),
/// handed to an <see cref="IGateBlocks"/> instead of stored; no gate row is written or read back.
/// </summary>
/// <remarks>
/// <para>Panels (<see cref="ColumnGatePanels.Pack"/>): per register of hidden units, per row r of [W_ih | W_hh], the row's
/// <see cref="IGateBlocks.Blocks"/> blocks of <c>TS.Count</c> weights side by side, so each register's pass is one
/// sequential stream. Registers are independent, so <c>descending</c> visits them last to first with the same bits
/// (a stream that alternates keeps the panels it touched last in cache for the next step).</para>
/// <para>Sums: 16 lanes sum four interleaved chains (row index mod 4, counted from 0 in the input rows and again
/// in the hidden rows), then <c>(s0 + s1) + (s2 + s3)</c>; narrower widths one fused chain over the rows in order.
/// Chain s0 (the one chain) starts from the panel's starting sums when it has them (the streaming step's biases: no
/// bias addition waits on the product), else from zero. Without starting sums and with an input size ≡ 0 mod 4 (or
/// below 16 lanes) this is exactly <see cref="GemvKernel{TS, TV}.MultiplyTransposed"/> on [W_ihᵀ; W_hhᵀ] with
/// <c>accumulate: false</c>.</para>
/// </remarks>
internal static unsafe class ColumnGatesKernel<TS, TV>
    where TS : struct, ISimd<TV>
    where TV : unmanaged
{
    /// <summary>Whether a hidden size splits into whole registers of this width (never on the scalar width, which keeps the reference's order).</summary>
    public static bool Fits(int hidden) => TS.Count > 1 && hidden > 0 && hidden % TS.Count == 0;

    /// <summary>
    /// For each register of hidden units (descending when <paramref name="descending"/>), the four block sums over
    /// x (<paramref name="inputs"/>) and h (<paramref name="hidden"/>) into <paramref name="gates"/>, starting from the
    /// panels' own starting sums when they carry them (<paramref name="startSums"/>, <see cref="ColumnGatePanels.Pack"/>)
    /// and from zero otherwise.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Run<TE>(float* panels, int inputs, int hidden, float* x, float* h, bool descending, bool startSums, ref TE gates)
        where TE : struct, IGateBlocks
    {
        int n = TS.Count, registers = hidden / n;
        if (registers == 1)
        {
            One(panels, inputs, x, h, startSums, ref gates);
            return;
        }

        nint panel = ((nint)(inputs + hidden) * TE.Blocks * n) + (startSums ? ColumnGatePanels.StartRegisters * n : 0);
        for (int i = 0; i < registers; i++)
        {
            int jb = descending ? registers - 1 - i : i;
            Sums<TE>(panels + (jb * panel), inputs, hidden, x, h, startSums, out var a0, out var a1, out var a2, out var a3);
            Apply(ref gates, (nint)jb * n, a0, a1, a2, a3);
        }
    }

    /// <summary>
    /// H is one register: the sums and the gates in one method, the sums handed over in registers (the out-of-line
    /// <see cref="Apply"/> takes its vectors through the stack, a store and a load on the step-to-step chain).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void One<TE>(float* panels, int inputs, float* x, float* h, bool startSums, ref TE gates)
        where TE : struct, IGateBlocks
    {
        Sums<TE>(panels, inputs, TS.Count, x, h, startSums, out var a0, out var a1, out var a2, out var a3);
        gates.Apply<TS, TV>(0, a0, a1, a2, a3);
    }

    /// <summary>The four block sums of the register whose panel starts at <paramref name="p"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Sums<TE>(float* p, int inputs, int hidden, float* x, float* h, bool startSums, out TV a0, out TV a1, out TV a2, out TV a3)
        where TE : struct, IGateBlocks
    {
        int n = TS.Count;
        TV s00 = TS.Zero, s01 = TS.Zero, s02 = TS.Zero, s03 = TS.Zero;
        if (startSums)
        {
            s00 = TS.Load(p);
            s01 = TS.Load(p + n);
            s02 = TS.Load(p + (2 * n));
            s03 = TS.Load(p + (3 * n));
            p += ColumnGatePanels.StartRegisters * n;
        }

        if (TS.Count >= 16)
        {
            TV s10 = TS.Zero, s11 = TS.Zero, s12 = TS.Zero, s13 = TS.Zero;
            TV s20 = TS.Zero, s21 = TS.Zero, s22 = TS.Zero, s23 = TS.Zero;
            TV s30 = TS.Zero, s31 = TS.Zero, s32 = TS.Zero, s33 = TS.Zero;
            Interleaved<TE>(ref p, inputs, x, false, ref s00, ref s01, ref s02, ref s03, ref s10, ref s11, ref s12, ref s13, ref s20, ref s21, ref s22, ref s23, ref s30, ref s31, ref s32, ref s33);
            Interleaved<TE>(ref p, hidden, h, true, ref s00, ref s01, ref s02, ref s03, ref s10, ref s11, ref s12, ref s13, ref s20, ref s21, ref s22, ref s23, ref s30, ref s31, ref s32, ref s33);
            a0 = TS.Add(TS.Add(s00, s10), TS.Add(s20, s30));
            a1 = TS.Add(TS.Add(s01, s11), TS.Add(s21, s31));
            a2 = TS.Add(TS.Add(s02, s12), TS.Add(s22, s32));
            a3 = TS.Add(TS.Add(s03, s13), TS.Add(s23, s33));
        }
        else
        {
            for (int r = 0; r < inputs; r++, p += TE.Blocks * n)
            {
                Row<TE>(p, TS.Create(x[r]), false, ref s00, ref s01, ref s02, ref s03);
            }

            for (int r = 0; r < hidden; r++, p += TE.Blocks * n)
            {
                Row<TE>(p, TS.Create(h[r]), true, ref s00, ref s01, ref s02, ref s03);
            }

            a0 = s00;
            a1 = s01;
            a2 = s02;
            a3 = s03;
        }
    }

    /// <summary>Rows of one segment (x or h) in four interleaved chains; advances <paramref name="p"/> past them.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Interleaved<TE>(
        ref float* p, int rows, float* x, bool hiddenRows,
        ref TV s00, ref TV s01, ref TV s02, ref TV s03, ref TV s10, ref TV s11, ref TV s12, ref TV s13,
        ref TV s20, ref TV s21, ref TV s22, ref TV s23, ref TV s30, ref TV s31, ref TV s32, ref TV s33)
        where TE : struct, IGateBlocks
    {
        nint ld = TE.Blocks * TS.Count;
        float* q = p;
        int r = 0;
        for (; r <= rows - 4; r += 4, q += 4 * ld)
        {
            Row<TE>(q, TS.Create(x[r]), hiddenRows, ref s00, ref s01, ref s02, ref s03);
            Row<TE>(q + ld, TS.Create(x[r + 1]), hiddenRows, ref s10, ref s11, ref s12, ref s13);
            Row<TE>(q + (2 * ld), TS.Create(x[r + 2]), hiddenRows, ref s20, ref s21, ref s22, ref s23);
            Row<TE>(q + (3 * ld), TS.Create(x[r + 3]), hiddenRows, ref s30, ref s31, ref s32, ref s33);
        }

        if (r < rows)
        {
            Row<TE>(q, TS.Create(x[r]), hiddenRows, ref s00, ref s01, ref s02, ref s03);
        }

        if (r + 1 < rows)
        {
            Row<TE>(q + ld, TS.Create(x[r + 1]), hiddenRows, ref s10, ref s11, ref s12, ref s13);
        }

        if (r + 2 < rows)
        {
            Row<TE>(q + (2 * ld), TS.Create(x[r + 2]), hiddenRows, ref s20, ref s21, ref s22, ref s23);
        }

        p += rows * ld;
    }

    /// <summary>One row's blocks into the sums they feed (a 3-block hidden row skips block 2, n_x).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Row<TE>(float* p, TV xr, bool hiddenRow, ref TV s0, ref TV s1, ref TV s2, ref TV s3)
        where TE : struct, IGateBlocks
    {
        // Each load once in its FMA, so the JIT folds it into the instruction's memory operand.
        int n = TS.Count;
        s0 = TS.MultiplyAdd(TS.Load(p), xr, s0);
        s1 = TS.MultiplyAdd(TS.Load(p + n), xr, s1);
        if (TE.Blocks == 4)
        {
            s2 = TS.MultiplyAdd(TS.Load(p + (2 * n)), xr, s2);
            s3 = TS.MultiplyAdd(TS.Load(p + (3 * n)), xr, s3);
        }
        else if (hiddenRow)
        {
            s3 = TS.MultiplyAdd(TS.Load(p + (2 * n)), xr, s3);
        }
        else
        {
            s2 = TS.MultiplyAdd(TS.Load(p + (2 * n)), xr, s2);
        }
    }

    /// <summary>
    /// The gates of one register, out of line: inlined with the product, the activations' many small inlines would
    /// run past the JIT's inlining budget and stay calls. One call per register of H.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Apply<TE>(ref TE gates, nint j, TV a0, TV a1, TV a2, TV a3)
        where TE : struct, IGateBlocks => gates.Apply<TS, TV>(j, a0, a1, a2, a3);
}
