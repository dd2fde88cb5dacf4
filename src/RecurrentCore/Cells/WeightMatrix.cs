using RecurrentCore.Kernels;

namespace RecurrentCore.Cells;

/// <summary>
/// A block of rows of a PyTorch-layout weight (N × K row-major, a view of the training storage) with the copies the
/// products need: Wᵀ (K × N) for the column-blocked GEMV and the row-blocked backward, and the packed panels of the
/// GEMM. <see cref="Refresh"/> re-derives the copies after the storage changed in place.
/// </summary>
internal sealed class WeightMatrix
{
    private readonly float[] _source;
    private readonly int _offset;
    private readonly float[] _transposed;
    private readonly int _transposedOffset;

    /// <param name="source">The row-major storage.</param>
    /// <param name="offset">Where the block starts in it.</param>
    /// <param name="rows">N.</param>
    /// <param name="columns">K.</param>
    /// <param name="transposed">Where Wᵀ lives (null: a new array, empty: no Wᵀ kept); lets a caller stack Wᵀ under another matrix's.</param>
    /// <param name="transposedOffset">Where Wᵀ starts in <paramref name="transposed"/>.</param>
    /// <param name="variant">The variant the GEMM panels are packed for.</param>
    public WeightMatrix(float[] source, int offset, int rows, int columns, float[]? transposed, int transposedOffset, KernelVariant variant)
    {
        _source = source;
        _offset = offset;
        Rows = rows;
        Columns = columns;
        _transposed = transposed ?? new float[rows * columns];
        _transposedOffset = transposed is null ? 0 : transposedOffset;
        Packed = PackedMatrix.Pack(RowMajor, rows, columns, variant);
        Refresh();
    }

    /// <summary>N.</summary>
    public int Rows { get; }

    /// <summary>K.</summary>
    public int Columns { get; }

    /// <summary>W, N × K row-major (the storage itself).</summary>
    public ReadOnlySpan<float> RowMajor => _source.AsSpan(_offset, Rows * Columns);

    /// <summary>Wᵀ, K × N row-major.</summary>
    public ReadOnlySpan<float> Transposed => _transposed.AsSpan(_transposedOffset, _transposed.Length == 0 ? 0 : Rows * Columns);

    /// <summary>W packed for the GEMM.</summary>
    public PackedMatrix Packed { get; }

    /// <summary>Re-derives Wᵀ and the packed panels from the storage; allocates nothing.</summary>
    public void Refresh()
    {
        var src = RowMajor;
        Packed.Repack(src);
        if (_transposed.Length == 0)
        {
            return;
        }

        var dst = _transposed.AsSpan(_transposedOffset, Rows * Columns);
        for (int r = 0; r < Rows; r++)
        {
            for (int c = 0; c < Columns; c++)
            {
                dst[(c * Rows) + r] = src[(r * Columns) + c];
            }
        }
    }
}
