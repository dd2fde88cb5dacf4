namespace RecurrentCore.Kernels.Quantized;

/// <summary>
/// A weight matrix as the column kernels (<see cref="Int8GemvKernel{TS, TV}.MultiplyColumns"/>,
/// <see cref="BFloat16GemvKernel{TS, TV}.MultiplyColumns"/>) read it: rows in groups of <c>lanes</c> (a width's
/// <c>Count</c>; the last group padded with zero rows); a group's cell for column pair p = (2p, 2p + 1) is
/// <c>2·lanes</c> elements, <c>w[g·lanes + i, 2p + e]</c> at <c>2i + e</c> (zero past the columns). A cell is one
/// register whose 32-bit lane i holds row i's pair (int8 widened to 16 bits, or two bfloat16), so a broadcast input pair
/// multiply-adds into every row of the group at once: no horizontal sums. Groups go in blocks of <see cref="Block"/>
/// (the last block may be smaller), and a block stores its cells pair by pair (<c>[p][group in block]</c>): the kernel
/// reads one sequential stream, not one per group (streams 4 KiB apart would share L1 sets). A block's trailing rows are
/// thus a smaller matrix in the same layout.
/// </summary>
internal static class ColumnPairLayout
{
    /// <summary>Groups (registers of rows) per block: the step kernels' accumulators.</summary>
    public const int Block = 8;

    /// <summary>Column pairs: <c>⌈columns / 2⌉</c>.</summary>
    public static int Pairs(int columns) => (columns + 1) / 2;

    /// <summary>Elements of the packed matrix.</summary>
    public static long Elements(int rows, int columns, int lanes) => (long)((rows + lanes - 1) / lanes) * Pairs(columns) * 2 * lanes;

    /// <summary>Packs the row-major <paramref name="w"/> (rows × columns, rows <paramref name="stride"/> apart).</summary>
    public static void Pack<T>(ReadOnlySpan<T> w, int rows, int columns, int stride, int lanes, Span<T> packed)
        where T : unmanaged
    {
        int pairs = Pairs(columns), groups = (rows + lanes - 1) / lanes;
        packed.Clear();
        for (int r = 0; r < rows; r++)
        {
            int g = r / lanes, i = r % lanes, block = g / Block;
            int inBlock = Math.Min(Block, groups - (block * Block));
            long start = (long)block * Block * pairs * 2 * lanes;
            for (int c = 0; c < columns; c++)
            {
                long cell = ((long)(c / 2) * inBlock) + (g % Block);
                packed[(int)(start + (cell * 2 * lanes)) + (2 * i) + (c % 2)] = w[(r * stride) + c];
            }
        }
    }
}
