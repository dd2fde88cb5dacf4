using System.Numerics.Tensors;

namespace RecurrentCore.Training;

/// <summary>
/// A lookup table, PyTorch <c>nn.Embedding</c>: weight E of shape (num_embeddings, dim), named <c>weight</c>.
/// Forward gathers rows <c>y[r, ·] = E[ids[r], ·]</c>; backward scatter-adds <c>dE[ids[r], ·] += dy[r, ·]</c>
/// (repeated ids accumulate, in row order). Vectorised row copies and adds; never allocates.
/// </summary>
public sealed class Embedding
{
    /// <summary>Creates a zero-initialised table (see <see cref="Initialization.PyTorchEmbedding"/> for N(0, 1)).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive.</exception>
    public Embedding(int numEmbeddings, int dim)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(numEmbeddings, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(dim, 1);
        NumEmbeddings = numEmbeddings;
        Dim = dim;
        Weight = new Parameter("weight", [numEmbeddings, dim]);
        Parameters = new ParameterSet([Weight]);
    }

    /// <summary>Rows of the table (vocabulary size).</summary>
    public int NumEmbeddings { get; }

    /// <summary>Features per row.</summary>
    public int Dim { get; }

    /// <summary>E, shape (num_embeddings, dim).</summary>
    public Parameter Weight { get; }

    /// <summary>Just <c>weight</c>.</summary>
    public ParameterSet Parameters { get; }

    /// <summary>Forward: <c>y[r, ·] = E[ids[r], ·]</c>.</summary>
    /// <param name="ids">Indices, (rows); each in [0, num_embeddings).</param>
    /// <param name="y">Output, (rows, dim); overwritten.</param>
    /// <exception cref="ArgumentException">A length differs from its shape.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An index is out of range.</exception>
    public void Forward(ReadOnlySpan<int> ids, Span<float> y)
    {
        Linear.Check(y.Length, ids.Length, Dim, nameof(y));
        ReadOnlySpan<float> e = Weight.Value.Span;
        for (int r = 0; r < ids.Length; r++)
        {
            e.Slice(Row(ids[r]), Dim).CopyTo(y.Slice(r * Dim, Dim));
        }
    }

    /// <summary>Backward: <c>dE[ids[r], ·] += dy[r, ·]</c> for every row.</summary>
    /// <param name="ids">The forward indices, (rows).</param>
    /// <param name="dy">∂loss/∂y, (rows, dim).</param>
    /// <exception cref="ArgumentException">A length differs from its shape.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An index is out of range.</exception>
    public void Backward(ReadOnlySpan<int> ids, ReadOnlySpan<float> dy)
    {
        Linear.Check(dy.Length, ids.Length, Dim, nameof(dy));
        Span<float> de = Weight.Grad.Span;
        for (int r = 0; r < ids.Length; r++)
        {
            var dst = de.Slice(Row(ids[r]), Dim);
            TensorPrimitives.Add(dst, dy.Slice(r * Dim, Dim), dst);
        }
    }

    private int Row(int id)
    {
        if ((uint)id >= (uint)NumEmbeddings)
        {
            throw new ArgumentOutOfRangeException(nameof(id), id, $"index must lie in [0, {NumEmbeddings})");
        }

        return id * Dim;
    }
}
