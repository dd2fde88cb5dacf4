using RecurrentCore.Kernels;
using Xunit;

namespace RecurrentCore.Tests.Kernels;

[Trait("Category", "Kernels")]
public class GemvTests
{
    // Rows ≡ 2 mod 4 (2, 6, 18, 66) leave two rows after the blocks of four; 1, 3, 7, 13, 33 and 257 the other remainders.
    private static readonly int[] RowSweep = [1, 2, 3, 6, 7, 13, 18, 33, 66, 100, 257];

    [Theory]
    [MemberData(nameof(Variants.Supported), MemberType = typeof(Variants))]
    public void Multiply_matches_double_reference_for_every_rows_and_cols_0_to_256(KernelVariant variant)
    {
        foreach (int rows in RowSweep)
        {
            for (int cols = 0; cols <= 256; cols++)
            {
                foreach (bool accumulate in (ReadOnlySpan<bool>)[false, true])
                {
                    var rng = new Random((rows * 1000) + (cols * 2) + (accumulate ? 1 : 0));
                    bool after = (cols & 1) == 0; // which end of each buffer faults: both, over the sweep
                    using var w = Guarded.Random(rng, rows * cols, 1f, after);
                    using var x = Guarded.Random(rng, cols, 1f, after);
                    using var y = Guarded.Random(rng, rows, 4f, !after);
                    var y0 = y.ToArray();
                    Gemv.Multiply(w.Span, rows, cols, x.Span, y.Span, accumulate, variant);
                    var wa = w.ToArray();
                    var xa = x.ToArray();
                    for (int r = 0; r < rows; r++)
                    {
                        double exact = accumulate ? y0[r] : 0;
                        double mag = Math.Abs(exact);
                        for (int c = 0; c < cols; c++)
                        {
                            exact += (double)wa[(r * cols) + c] * xa[c];
                            mag += Math.Abs((double)wa[(r * cols) + c] * xa[c]);
                        }

                        float got = y.Span[r];
                        Assert.True(float.IsFinite(got), $"{variant} rows={rows} cols={cols} acc={accumulate}: y[{r}] = {got} (over-read?)");
                        Assert.True(Math.Abs(got - exact) <= Variants.Bound(cols, mag), $"{variant} rows={rows} cols={cols} acc={accumulate}: y[{r}] = {got}, exact {exact}");
                    }

                    y.AssertGuardsIntact($"{variant} rows={rows} cols={cols}");
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Variants.Supported), MemberType = typeof(Variants))]
    public void MultiplyTransposed_matches_double_reference_for_every_cols_0_to_256(KernelVariant variant)
    {
        foreach (int rows in RowSweep)
        {
            for (int cols = 0; cols <= 256; cols++)
            {
                foreach (bool accumulate in (ReadOnlySpan<bool>)[false, true])
                {
                    var rng = new Random((rows * 1000) + (cols * 2) + (accumulate ? 1 : 0) + 7);
                    bool after = (cols & 1) == 0;
                    using var w = Guarded.Random(rng, rows * cols, 1f, after);
                    using var x = Guarded.Random(rng, rows, 1f, after);
                    using var y = Guarded.Random(rng, cols, 4f, !after);
                    var y0 = y.ToArray();
                    Gemv.MultiplyTransposed(w.Span, rows, cols, x.Span, y.Span, accumulate, variant);
                    var wa = w.ToArray();
                    var xa = x.ToArray();
                    for (int c = 0; c < cols; c++)
                    {
                        double exact = accumulate ? y0[c] : 0;
                        double mag = Math.Abs(exact);
                        for (int r = 0; r < rows; r++)
                        {
                            exact += (double)wa[(r * cols) + c] * xa[r];
                            mag += Math.Abs((double)wa[(r * cols) + c] * xa[r]);
                        }

                        float got = y.Span[c];
                        Assert.True(float.IsFinite(got), $"{variant} rows={rows} cols={cols} acc={accumulate}: y[{c}] = {got} (over-read?)");
                        Assert.True(Math.Abs(got - exact) <= Variants.Bound(rows, mag), $"{variant} rows={rows} cols={cols} acc={accumulate}: y[{c}] = {got}, exact {exact}");
                    }

                    y.AssertGuardsIntact($"{variant} rows={rows} cols={cols}");
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Variants.Supported), MemberType = typeof(Variants))]
    public void Results_are_bitwise_reproducible_and_independent_of_row_splits(KernelVariant variant)
    {
        var rng = new Random(42);
        const int rows = 37, cols = 203;
        using var w = Guarded.Random(rng, rows * cols);
        using var x = Guarded.Random(rng, cols);
        using var xt = Guarded.Random(rng, rows);
        var full = new float[rows];
        var again = new float[rows];
        Gemv.Multiply(w.Span, rows, cols, x.Span, full, false, variant);
        Gemv.Multiply(w.Span, rows, cols, x.Span, again, false, variant);
        Assert.Equal(full, again);

        // Any split of the rows (as a parallel caller would make) yields the same bits.
        var split = new float[rows];
        foreach (var (start, count) in (ReadOnlySpan<(int, int)>)[(0, 5), (5, 1), (6, 13), (19, 18)])
        {
            Gemv.Multiply(w.Span.Slice(start * cols, count * cols), count, cols, x.Span, split.AsSpan(start, count), false, variant);
        }

        Assert.Equal(full, split);

        var t1 = new float[cols];
        var t2 = new float[cols];
        Gemv.MultiplyTransposed(w.Span, rows, cols, xt.Span, t1, false, variant);
        Gemv.MultiplyTransposed(w.Span, rows, cols, xt.Span, t2, false, variant);
        Assert.Equal(t1, t2);
    }

    [Fact]
    public void Short_spans_throw_naming_the_argument()
    {
        var w = new float[12];
        var x = new float[4];
        var y = new float[3];
        Assert.Equal("w", Assert.Throws<ArgumentException>(() => Gemv.Multiply(w.AsSpan(0, 11), 3, 4, x, y, false)).ParamName);
        Assert.Equal("x", Assert.Throws<ArgumentException>(() => Gemv.Multiply(w, 3, 4, x.AsSpan(0, 3), y, false)).ParamName);
        Assert.Equal("y", Assert.Throws<ArgumentException>(() => Gemv.Multiply(w, 3, 4, x, y.AsSpan(0, 2), false)).ParamName);
        Assert.Equal("x", Assert.Throws<ArgumentException>(() => Gemv.MultiplyTransposed(w, 3, 4, x.AsSpan(0, 2), x, false)).ParamName);
        Assert.Equal("y", Assert.Throws<ArgumentException>(() => Gemv.MultiplyTransposed(w, 3, 4, y, y, false)).ParamName);
        Assert.Equal("rows", Assert.Throws<ArgumentOutOfRangeException>(() => Gemv.Multiply(w, -1, 4, x, y, false)).ParamName);
        foreach (var v in Enum.GetValues<KernelVariant>())
        {
            if (!KernelCatalog.IsSupported(v))
            {
                Assert.Equal("variant", Assert.Throws<ArgumentException>(() => Gemv.Multiply(w, 3, 4, x, y, false, v)).ParamName);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Variants.Supported), MemberType = typeof(Variants))]
    public void Calls_do_not_allocate(KernelVariant variant)
    {
        var w = new float[67 * 129];
        var x = new float[129];
        var y = new float[129];
        int i = 0;
        AllocationAssert.Zero(() =>
        {
            bool acc = i++ % 2 == 0;
            Gemv.Multiply(w, 67, 129, x, y, acc, variant);
            Gemv.MultiplyTransposed(w, 67, 129, x, y, acc, variant);
            Gemv.Multiply(w, 67, 129, x, y, false);
        });
    }
}
