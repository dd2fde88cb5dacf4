namespace RecurrentCore.Kernels.Quantized;

/// <summary>
/// A weight matrix as the column kernels (<see cref="Int8GemvKernel{TS, TV}.MultiplyColumns"/>,
/// <see cref="BFloat16GemvKernel{TS, TV}.MultiplyColumns"/>) read it: rows in groups of <c>lanes</c> (a width's
/// <c>Count</c>; the last group padded with zero rows); columns in cells of <c>perLane</c> (2 bfloat16 or 4 int8: one
/// 32-bit lane's worth); a group's cell c is <c>perLane·lanes</c> elements, <c>w[g·lanes + i, perLane·c + e]</c> at
/// <c>perLane·i + e</c> (zero past the columns). A cell is one register whose 32-bit lane i holds row i's columns, so a
/// broadcast of the input's matching columns multiply-adds into every row of the group at once: no horizontal sums.
/// Groups go in blocks of <see cref="Block"/> (the last block may be smaller), and a block stores its cells column cell
/// by column cell (<c>[c][group in block]</c>): the kernel reads one sequential stream, not one per group (streams
/// 4 KiB apart would share L1 sets). A block's trailing rows are thus a smaller matrix in the same layout.
/// </summary>
internal static class ColumnCellLayout
{
    /// <summary>Groups (registers of rows) per block: the step kernels' accumulators.</summary>
    public const int Block = 8;

    /// <summary>Column cells: <c>⌈columns / perLane⌉</c>.</summary>
    public static int Cells(int columns, int perLane) => (columns + perLane - 1) / perLane;

    /// <summary>Elements of the packed matrix.</summary>
    public static long Elements(int rows, int columns, int lanes, int perLane) => (long)((rows + lanes - 1) / lanes) * Cells(columns, perLane) * perLane * lanes;

    /// <summary>Packs the row-major <paramref name="w"/> (rows × columns, rows <paramref name="stride"/> apart).</summary>
    public static void Pack<T>(ReadOnlySpan<T> w, int rows, int columns, int stride, int lanes, int perLane, Span<T> packed)
        where T : unmanaged
    {
        int cells = Cells(columns, perLane), groups = (rows + lanes - 1) / lanes;
        packed.Clear();
        for (int r = 0; r < rows; r++)
        {
            int g = r / lanes, i = r % lanes, block = g / Block;
            int inBlock = Math.Min(Block, groups - (block * Block));
            long start = (long)block * Block * cells * perLane * lanes;
            for (int c = 0; c < columns; c++)
            {
                long cell = ((long)(c / perLane) * inBlock) + (g % Block);
                packed[(int)(start + (cell * perLane * lanes)) + (perLane * i) + (c % perLane)] = w[(r * stride) + c];
            }
        }
    }
}
