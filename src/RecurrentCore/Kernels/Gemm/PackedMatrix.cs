namespace RecurrentCore.Kernels;

/// <summary>
/// A row-major <c>Rows×Columns</c> weight (<c>N×K</c>, as PyTorch stores <c>W_ih</c>) repacked once for
/// <see cref="Gemm.Multiply(ReadOnlySpan{float}, int, PackedMatrix, ReadOnlySpan{float}, Span{float}, bool)"/>: immutable,
/// reused on every call, and tied to the kernel variant it was packed for.
/// </summary>
/// <remarks>
/// Layout: the rows are cut into panels of <see cref="PanelWidth"/> consecutive rows (the last one zero-padded); a
/// panel stores, for each column <c>k</c> in order, its <see cref="PanelWidth"/> values <c>W[panel·PanelWidth + p, k]</c>.
/// The micro-kernel thus reads one contiguous, 64-byte-aligned stream per panel. The scalar variant uses panels of one
/// row, which is the original row-major matrix.
/// </remarks>
internal sealed class PackedMatrix
{
    private PackedMatrix(KernelVariant variant, int rows, int columns, int panelWidth, float[] store, int offset)
    {
        Variant = variant;
        Rows = rows;
        Columns = columns;
        PanelWidth = panelWidth;
        Store = store;
        Offset = offset;
    }

    /// <summary>The variant whose micro-kernel this layout feeds.</summary>
    public KernelVariant Variant { get; }

    /// <summary>Rows of the original matrix (<c>N</c>, outputs of the product).</summary>
    public int Rows { get; }

    /// <summary>Columns of the original matrix (<c>K</c>, the reduction length).</summary>
    public int Columns { get; }

    /// <summary>Rows per panel: the micro-kernel's column tile.</summary>
    public int PanelWidth { get; }

    internal float[] Store { get; }

    internal int Offset { get; }

    /// <summary>Packs <paramref name="weights"/> for <see cref="KernelCatalog.Active"/>.</summary>
    /// <param name="weights">The matrix, <c>rows×columns</c> row-major.</param>
    /// <param name="rows">Rows (<c>N</c>).</param>
    /// <param name="columns">Columns (<c>K</c>).</param>
    /// <returns>The packed matrix.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is negative.</exception>
    /// <exception cref="ArgumentException"><paramref name="weights"/> is too short.</exception>
    public static PackedMatrix Pack(ReadOnlySpan<float> weights, int rows, int columns) => Pack(weights, rows, columns, KernelCatalog.Active);

    /// <summary>Packs <paramref name="weights"/> for <paramref name="variant"/>; the only allocation of the GEMM path.</summary>
    /// <param name="weights">The matrix, <c>rows×columns</c> row-major.</param>
    /// <param name="rows">Rows (<c>N</c>).</param>
    /// <param name="columns">Columns (<c>K</c>).</param>
    /// <param name="variant">The kernel variant; it must be in <see cref="KernelCatalog.Supported"/>.</param>
    /// <returns>The packed matrix.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is negative.</exception>
    /// <exception cref="ArgumentException"><paramref name="weights"/> is too short, or <paramref name="variant"/> is not supported here.</exception>
    public static unsafe PackedMatrix Pack(ReadOnlySpan<float> weights, int rows, int columns, KernelVariant variant)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegative(columns);
        Gemm.Need(weights.Length, (long)rows * columns, nameof(weights));
        Gemm.CheckVariant(variant, nameof(variant));
        int width = Gemm.PanelWidth(variant);
        int panels = (rows + width - 1) / width;
        long length = (long)panels * width * columns;
        if (length > Array.MaxLength - 16)
        {
            throw new ArgumentException($"a {rows}×{columns} matrix is too large to pack", nameof(weights));
        }

        // Pinned, so the 64-byte alignment chosen here holds for the object's lifetime.
        var store = GC.AllocateArray<float>((int)length + 16, pinned: true);
        int offset;
        fixed (float* p = store)
        {
            offset = (int)(((64 - ((nint)p & 63)) & 63) / sizeof(float));
        }

        Fill(weights, rows, columns, width, store.AsSpan(offset, (int)length));
        return new PackedMatrix(variant, rows, columns, width, store, offset);
    }

    /// <summary>
    /// Packs new values of the same shape into this matrix's storage (no allocation): for training, where weights
    /// change every step. A matrix being repacked must not be in use by another thread.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="weights"/> has the wrong length.</exception>
    internal void Repack(ReadOnlySpan<float> weights)
    {
        Gemm.Need(weights.Length, (long)Rows * Columns, nameof(weights));
        int panels = (Rows + PanelWidth - 1) / PanelWidth;
        Fill(weights, Rows, Columns, PanelWidth, Store.AsSpan(Offset, panels * PanelWidth * Columns));
    }

    private static void Fill(ReadOnlySpan<float> weights, int rows, int columns, int width, Span<float> packed)
    {
        int panels = (rows + width - 1) / width;
        for (int panel = 0; panel < panels; panel++)
        {
            var dst = packed.Slice(panel * width * columns, width * columns);
            for (int p = 0; p < width; p++)
            {
                int row = (panel * width) + p;
                if (row >= rows)
                {
                    break;
                }

                var src = weights.Slice(row * columns, columns);
                for (int k = 0; k < columns; k++)
                {
                    dst[(k * width) + p] = src[k];
                }
            }
        }
    }
}
