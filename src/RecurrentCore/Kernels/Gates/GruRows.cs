using RecurrentCore.Kernels.Operators;

namespace RecurrentCore.Kernels.Gates;

/// <summary>A GRU forward row kernel built from one batch row's buffers (<see cref="GruRows.Forward{TK}"/>).</summary>
/// <typeparam name="TK">The row kernel.</typeparam>
internal unsafe interface IGruForwardRow<TK>
    where TK : struct, IRowKernel
{
    /// <summary>The kernel over one row: gi (3H), the hidden product, the shared biases (or null), h_prev and the output row.</summary>
    static abstract TK At(float* gi, float* gh, float* biasIh, float* biasHh, float* hPrev, float* output, nint hidden, bool save);
}

/// <summary>
/// The batch entry shared by the GRU forward gate kernels (reset after or before W_hn): checks B rows of gi (3H), of
/// the hidden product (<c>ghWidth</c>), the optional 3H biases, h_prev and the output (H each), then runs the row
/// kernel over every row.
/// </summary>
internal static unsafe class GruRows
{
    /// <exception cref="ArgumentException">A buffer is too short or a stride too small, or the variant is unsupported.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is negative.</exception>
    public static void Forward<TK>(
        int batch, int hiddenSize, Span<float> gi, int giStride, ReadOnlySpan<float> gh, int ghWidth, int ghStride, string ghName,
        ReadOnlySpan<float> biasIh, ReadOnlySpan<float> biasHh, ReadOnlySpan<float> hPrev, int hPrevStride, Span<float> output,
        int outputStride, string outputName, bool save, KernelVariant? variant)
        where TK : struct, IRowKernel, IGruForwardRow<TK>
    {
        var v = Variants.Resolve(variant);
        Shapes.Dimensions(batch, hiddenSize);
        int n = hiddenSize;
        Shapes.Rows(gi.Length, batch, 3 * n, giStride, nameof(gi));
        Shapes.Rows(gh.Length, batch, ghWidth, ghStride, ghName);
        Shapes.OptionalVector(biasIh.Length, 3 * n, nameof(biasIh));
        Shapes.OptionalVector(biasHh.Length, 3 * n, nameof(biasHh));
        Shapes.Rows(hPrev.Length, batch, n, hPrevStride, nameof(hPrev));
        Shapes.Rows(output.Length, batch, n, outputStride, outputName);
        fixed (float* pgi = gi)
        fixed (float* pgh = gh)
        fixed (float* pbi = biasIh)
        fixed (float* pbh = biasHh)
        fixed (float* php = hPrev)
        fixed (float* po = output)
        {
            for (int b = 0; b < batch; b++)
            {
                var k = TK.At(
                    pgi + ((nint)b * giStride), pgh + ((nint)b * ghStride), pbi, pbh, php + ((nint)b * hPrevStride), po + ((nint)b * outputStride), n, save);
                RowDriver.Run(ref k, n, v);
            }
        }
    }
}
