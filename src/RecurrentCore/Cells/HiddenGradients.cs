using System.Numerics.Tensors;
using RecurrentCore.Kernels;

namespace RecurrentCore.Cells;

/// <summary>The hidden-side weight gradients of a cell whose W_hh multiplies h_prev as a whole.</summary>
internal static class HiddenGradients
{
    /// <summary>
    /// dW_hh += dGᵀ·H_prev, db_hh += Σ rows of dG, over <paramref name="rows"/> rows, for gate rows
    /// <paramref name="from"/>..<paramref name="to"/> of dW_hh only (a thread's share; the bits do not depend on the split).
    /// </summary>
    public static void Accumulate(
        LayerWeights w, int rows, ReadOnlySpan<float> dG, ReadOnlySpan<float> hPrev, Span<float> dWeightHh, Span<float> dBiasHh, KernelVariant variant,
        int from, int to)
    {
        int gh = w.GateRows, hs = w.HiddenSize;
        Gemm.MultiplyTransposedA(dG[from..(rows * gh)], gh, hPrev[..(rows * hs)], rows, to - from, hs, dWeightHh[(from * hs)..(to * hs)], accumulate: true, variant);
        SumRows(dG, rows, gh, dBiasHh, from, to);
    }

    /// <summary>acc += Σ_r m[r, ·]; a no-op for an empty <paramref name="acc"/> (no bias).</summary>
    public static void SumRows(ReadOnlySpan<float> m, int rows, int cols, Span<float> acc) => SumRows(m, rows, cols, acc, 0, cols);

    /// <summary>acc[from..to] += Σ_r m[r, from..to]; a no-op for an empty <paramref name="acc"/> (no bias).</summary>
    public static void SumRows(ReadOnlySpan<float> m, int rows, int cols, Span<float> acc, int from, int to)
    {
        if (acc.IsEmpty || to <= from)
        {
            return;
        }

        var part = acc[from..to];
        for (int r = 0; r < rows; r++)
        {
            TensorPrimitives.Add(part, m.Slice((r * cols) + from, to - from), part);
        }
    }
}
