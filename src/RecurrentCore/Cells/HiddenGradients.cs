using System.Numerics.Tensors;
using RecurrentCore.Kernels;

namespace RecurrentCore.Cells;

/// <summary>The hidden-side weight gradients of a cell whose W_hh multiplies h_prev as a whole.</summary>
internal static class HiddenGradients
{
    /// <summary>dW_hh += dGᵀ·H_prev, db_hh += Σ rows of dG, over <paramref name="rows"/> rows.</summary>
    public static void Accumulate(
        LayerWeights w, int rows, ReadOnlySpan<float> dG, ReadOnlySpan<float> hPrev, Span<float> dWeightHh, Span<float> dBiasHh, KernelVariant variant)
    {
        int gh = w.GateRows, hs = w.HiddenSize;
        Gemm.MultiplyTransposedA(dG[..(rows * gh)], hPrev[..(rows * hs)], rows, gh, hs, dWeightHh, accumulate: true, variant);
        SumRows(dG, rows, gh, dBiasHh);
    }

    /// <summary>acc += Σ_r m[r, ·]; a no-op for an empty <paramref name="acc"/> (no bias).</summary>
    public static void SumRows(ReadOnlySpan<float> m, int rows, int cols, Span<float> acc)
    {
        if (acc.IsEmpty)
        {
            return;
        }

        for (int r = 0; r < rows; r++)
        {
            TensorPrimitives.Add(acc, m.Slice(r * cols, cols), acc);
        }
    }
}
