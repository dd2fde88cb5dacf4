using RecurrentCore.Kernels;
using RecurrentCore.Kernels.Simd;

namespace RecurrentCore.Cells;

/// <summary>
/// How a step multiplies by a recurrent weight: chosen once per (layer, batch rows) from the shapes alone, so results
/// stay deterministic, and handed to the generic step as a type so the choice is not re-made inside the time loop.
/// </summary>
internal interface IRecurrentProduct
{
    /// <summary>y[B × N] (+)= x[B × K]·Wᵀ for W (N × K).</summary>
    static abstract void Forward(WeightMatrix w, int batch, ReadOnlySpan<float> x, Span<float> y, bool accumulate, KernelVariant variant);

    /// <summary>y[B × K] (+)= x[B × N]·W for W (N × K).</summary>
    static abstract void Backward(WeightMatrix w, int batch, ReadOnlySpan<float> x, Span<float> y, bool accumulate, KernelVariant variant);

    /// <summary>y[N] (+)= W·x for one row at width <typeparamref name="TS"/>: no checks, no dispatch (a one-row step's product).</summary>
    static abstract unsafe void ForwardRow<TS, TV>(WeightMatrix w, float* x, float* y, bool accumulate)
        where TS : struct, ISimd<TV>
        where TV : unmanaged;
}

/// <summary>The product kinds a step may use.</summary>
internal enum ProductKind
{
    /// <summary>One row, small H: column-blocked GEMV over Wᵀ (every output in registers, no horizontal sums).</summary>
    ColumnGemv,

    /// <summary>One row, larger H: row-blocked dot products over row-major W (streams better).</summary>
    RowGemv,

    /// <summary>Several rows: the packed GEMM.</summary>
    Gemm,
}

/// <summary>The choice of <see cref="ProductKind"/> from the shapes.</summary>
internal static class RecurrentProducts
{
    /// <summary>
    /// Below this hidden size a one-row GEMV runs column-blocked over the transposed weights (all outputs in registers,
    /// no horizontal sums, which dominate rows of 16–32 floats); from it up, row-blocked dot products over the
    /// row-major weights stream better (measured with <c>recurrent bench --mode step/forward</c>, H = 16, 64, 256).
    /// </summary>
    public const int ColumnGemvBelowHidden = 64;

    /// <summary>
    /// Below this hidden size a one-row GRU step runs one column-blocked GEMV over [x; h] with the 4H-column
    /// [r | z | n_x | n_h] layout; from it up, the (I + H)·H zero products it carries cost more than the second call
    /// saves (I = H, <c>recurrent bench --mode step --cell gru</c>, AVX-512: H = 8 −28 %, 16 −13 %, 24 ±0, 32 +15 %,
    /// 48 +25 % against two products).
    /// </summary>
    public const int GruFusedBelowHidden = 32;

    public static ProductKind For(int batch, int hidden) =>
        batch > 1 ? ProductKind.Gemm : hidden < ColumnGemvBelowHidden ? ProductKind.ColumnGemv : ProductKind.RowGemv;
}

/// <summary>One row, column-blocked over the transposed weights.</summary>
internal readonly struct ColumnGemvProduct : IRecurrentProduct
{
    public static void Forward(WeightMatrix w, int batch, ReadOnlySpan<float> x, Span<float> y, bool accumulate, KernelVariant variant) =>
        Gemv.MultiplyTransposed(w.Transposed, w.Columns, w.Rows, x, y, accumulate, variant);

    public static void Backward(WeightMatrix w, int batch, ReadOnlySpan<float> x, Span<float> y, bool accumulate, KernelVariant variant) =>
        Gemv.MultiplyTransposed(w.RowMajor, w.Rows, w.Columns, x, y, accumulate, variant);

    public static unsafe void ForwardRow<TS, TV>(WeightMatrix w, float* x, float* y, bool accumulate)
        where TS : struct, ISimd<TV>
        where TV : unmanaged
    {
        fixed (float* p = w.Transposed)
        {
            GemvKernel<TS, TV>.MultiplyTransposed(p, w.Columns, w.Rows, x, y, accumulate);
        }
    }
}

/// <summary>One row, row-blocked dot products over the row-major weights.</summary>
internal readonly struct RowGemvProduct : IRecurrentProduct
{
    public static void Forward(WeightMatrix w, int batch, ReadOnlySpan<float> x, Span<float> y, bool accumulate, KernelVariant variant) =>
        Gemv.Multiply(w.RowMajor, w.Rows, w.Columns, x, y, accumulate, variant);

    public static void Backward(WeightMatrix w, int batch, ReadOnlySpan<float> x, Span<float> y, bool accumulate, KernelVariant variant) =>
        Gemv.Multiply(w.Transposed, w.Columns, w.Rows, x, y, accumulate, variant);

    public static unsafe void ForwardRow<TS, TV>(WeightMatrix w, float* x, float* y, bool accumulate)
        where TS : struct, ISimd<TV>
        where TV : unmanaged
    {
        fixed (float* p = w.RowMajor)
        {
            GemvKernel<TS, TV>.Multiply(p, w.Rows, w.Columns, x, y, accumulate);
        }
    }
}

/// <summary>Several rows: the packed GEMM forward, A·W backward.</summary>
internal readonly struct GemmProduct : IRecurrentProduct
{
    public static void Forward(WeightMatrix w, int batch, ReadOnlySpan<float> x, Span<float> y, bool accumulate, KernelVariant variant) =>
        Gemm.Multiply(x, batch, w.Packed, [], y, accumulate);

    public static void Backward(WeightMatrix w, int batch, ReadOnlySpan<float> x, Span<float> y, bool accumulate, KernelVariant variant) =>
        Gemm.MultiplyNotTransposed(x, w.RowMajor, batch, w.Rows, w.Columns, y, accumulate, variant);

    /// <summary>Not a one-row product: a GEMM plan never takes the row path; for completeness, the packed GEMM on one row.</summary>
    public static unsafe void ForwardRow<TS, TV>(WeightMatrix w, float* x, float* y, bool accumulate)
        where TS : struct, ISimd<TV>
        where TV : unmanaged =>
        Gemm.Multiply(new ReadOnlySpan<float>(x, w.Columns), 1, w.Packed, [], new Span<float>(y, w.Rows), accumulate);
}
