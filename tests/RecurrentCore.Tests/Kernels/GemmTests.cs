using RecurrentCore.Kernels;
using Xunit;

namespace RecurrentCore.Tests.Kernels;

[Trait("Category", "Kernels")]
public class GemmTests
{
    private static readonly int[] Sizes = [1, 3, 7, 13, 33, 100, 257];

    /// <summary>Every (M, N, K) from the size set whose product is moderate, plus large and multi-block ones.</summary>
    public static IEnumerable<(int M, int N, int K)> Shapes()
    {
        foreach (int m in Sizes)
        {
            foreach (int n in Sizes)
            {
                foreach (int k in Sizes)
                {
                    if ((long)m * n * k <= 120_000)
                    {
                        yield return (m, n, k);
                    }
                }
            }
        }

        yield return (257, 257, 33);
        yield return (100, 33, 257);
        yield return (13, 100, 257);
        yield return (7, 13, 600);
        yield return (33, 70, 520);
        // Tile heights left over after whole tiles: 2, 6, 8 and 11 rows of the 12-row AVX-512 tile, 2 of the 6-row
        // AVX2/Vector128 tile (14 and 20 are 12 + 2 and 12 + 8, both ≡ 2 mod 6). Rows of C are M for A·Bᵀ and A·B, N for Aᵀ·B.
        foreach (int h in new[] { 2, 6, 8, 11, 14, 20, 23 })
        {
            yield return (h, 40, 9);
            yield return (h, 70, 300);
            yield return (9, h, 40);
            yield return (260, h, 17);
        }

        yield return (0, 5, 3);
        yield return (5, 0, 3);
        yield return (5, 3, 0);
    }

    [Theory]
    [MemberData(nameof(Variants.Supported), MemberType = typeof(Variants))]
    public void Multiply_packed_matches_double_reference(KernelVariant variant)
    {
        foreach (var (m, n, k) in Shapes())
        {
            foreach (int flags in (ReadOnlySpan<int>)[0, 1, 2, 3])
            {
                bool accumulate = (flags & 1) != 0, withBias = (flags & 2) != 0;
                var rng = new Random((m * 7919) + (n * 104729) + (k * 31) + flags);
                using var a = Guarded.Random(rng, m * k, 1f, (k & 1) == 0);
                using var w = Guarded.Random(rng, n * k, 1f, (k & 1) == 0);
                using var bias = Guarded.Random(rng, withBias ? n : 0);
                using var c = Guarded.Random(rng, m * n, 3f, (k & 1) != 0);
                var c0 = c.ToArray();
                var packed = PackedMatrix.Pack(w.Span, n, k, variant);
                Assert.Equal(variant, packed.Variant);
                Gemm.Multiply(a.Span, m, packed, bias.Span, c.Span, accumulate);
                var aa = a.ToArray();
                var wa = w.ToArray();
                var ba = bias.ToArray();
                for (int i = 0; i < m; i++)
                {
                    for (int j = 0; j < n; j++)
                    {
                        double exact = (accumulate ? c0[(i * n) + j] : 0) + (withBias ? ba[j] : 0);
                        double mag = Math.Abs(accumulate ? c0[(i * n) + j] : 0) + (withBias ? Math.Abs(ba[j]) : 0);
                        for (int r = 0; r < k; r++)
                        {
                            double p = (double)aa[(i * k) + r] * wa[(j * k) + r];
                            exact += p;
                            mag += Math.Abs(p);
                        }

                        Check(c.Span[(i * n) + j], exact, k + 1, mag, $"{variant} M={m} N={n} K={k} acc={accumulate} bias={withBias} C[{i},{j}]");
                    }
                }

                c.AssertGuardsIntact($"{variant} M={m} N={n} K={k}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Variants.Supported), MemberType = typeof(Variants))]
    public void MultiplyTransposedA_matches_double_reference(KernelVariant variant)
    {
        foreach (var (m, n, k) in Shapes())
        {
            foreach (bool accumulate in (ReadOnlySpan<bool>)[false, true])
            {
                var rng = new Random((m * 7919) + (n * 104729) + (k * 31) + (accumulate ? 1 : 0) + 5);
                using var a = Guarded.Random(rng, m * n, 1f, (k & 1) == 0);
                using var b = Guarded.Random(rng, m * k, 1f, (k & 1) == 0);
                using var c = Guarded.Random(rng, n * k, 3f, (k & 1) != 0);
                var c0 = c.ToArray();
                Gemm.MultiplyTransposedA(a.Span, b.Span, m, n, k, c.Span, accumulate, variant);
                var aa = a.ToArray();
                var ba = b.ToArray();
                for (int j = 0; j < n; j++)
                {
                    for (int l = 0; l < k; l++)
                    {
                        double exact = accumulate ? c0[(j * k) + l] : 0;
                        double mag = Math.Abs(exact);
                        for (int i = 0; i < m; i++)
                        {
                            double p = (double)aa[(i * n) + j] * ba[(i * k) + l];
                            exact += p;
                            mag += Math.Abs(p);
                        }

                        Check(c.Span[(j * k) + l], exact, m, mag, $"{variant} M={m} N={n} K={k} acc={accumulate} C[{j},{l}]");
                    }
                }

                c.AssertGuardsIntact($"{variant} M={m} N={n} K={k}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Variants.Supported), MemberType = typeof(Variants))]
    public void MultiplyNotTransposed_matches_double_reference(KernelVariant variant)
    {
        foreach (var (m, n, k) in Shapes())
        {
            foreach (bool accumulate in (ReadOnlySpan<bool>)[false, true])
            {
                var rng = new Random((m * 7919) + (n * 104729) + (k * 31) + (accumulate ? 1 : 0) + 9);
                using var a = Guarded.Random(rng, m * n, 1f, (k & 1) == 0);
                using var b = Guarded.Random(rng, n * k, 1f, (k & 1) == 0);
                using var c = Guarded.Random(rng, m * k, 3f, (k & 1) != 0);
                var c0 = c.ToArray();
                Gemm.MultiplyNotTransposed(a.Span, b.Span, m, n, k, c.Span, accumulate, variant);
                var aa = a.ToArray();
                var ba = b.ToArray();
                for (int i = 0; i < m; i++)
                {
                    for (int l = 0; l < k; l++)
                    {
                        double exact = accumulate ? c0[(i * k) + l] : 0;
                        double mag = Math.Abs(exact);
                        for (int j = 0; j < n; j++)
                        {
                            double p = (double)aa[(i * n) + j] * ba[(j * k) + l];
                            exact += p;
                            mag += Math.Abs(p);
                        }

                        Check(c.Span[(i * k) + l], exact, n, mag, $"{variant} M={m} N={n} K={k} acc={accumulate} C[{i},{l}]");
                    }
                }

                c.AssertGuardsIntact($"{variant} M={m} N={n} K={k}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Variants.Supported), MemberType = typeof(Variants))]
    public void Splitting_over_rows_or_weight_rows_gives_the_same_bits(KernelVariant variant)
    {
        const int m = 45, n = 77, k = 300;
        var rng = new Random(3);
        using var a = Guarded.Random(rng, m * k, 1f, (k & 1) == 0);
        using var w = Guarded.Random(rng, n * k, 1f, (k & 1) == 0);
        using var bias = Guarded.Random(rng, n);
        var full = new float[m * n];
        var packed = PackedMatrix.Pack(w.Span, n, k, variant);
        Gemm.Multiply(a.Span, m, packed, bias.Span, full, false);
        var again = new float[m * n];
        Gemm.Multiply(a.Span, m, packed, bias.Span, again, false);
        Assert.Equal(full, again);

        // Over M: row slices of A and C.
        var byRows = new float[m * n];
        foreach (var (start, count) in (ReadOnlySpan<(int, int)>)[(0, 1), (1, 12), (13, 19), (32, 13)])
        {
            Gemm.Multiply(a.Span.Slice(start * k, count * k), count, packed, bias.Span, byRows.AsSpan(start * n, count * n), false);
        }

        Assert.Equal(full, byRows);

        // Over N: weights packed in two parts at a boundary that is no panel multiple.
        const int n1 = 13;
        var p1 = PackedMatrix.Pack(w.Span[..(n1 * k)], n1, k, variant);
        var p2 = PackedMatrix.Pack(w.Span[(n1 * k)..], n - n1, k, variant);
        var c1 = new float[m * n1];
        var c2 = new float[m * (n - n1)];
        Gemm.Multiply(a.Span, m, p1, bias.Span[..n1], c1, false);
        Gemm.Multiply(a.Span, m, p2, bias.Span[n1..], c2, false);
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                float part = j < n1 ? c1[(i * n1) + j] : c2[(i * (n - n1)) + j - n1];
                Assert.Equal(BitConverter.SingleToInt32Bits(full[(i * n) + j]), BitConverter.SingleToInt32Bits(part));
            }
        }

        // dX = dG·W over row slices.
        using var dg = Guarded.Random(rng, m * n, 1f, (k & 1) == 0);
        var dx = new float[m * k];
        var dxRows = new float[m * k];
        Gemm.MultiplyNotTransposed(dg.Span, w.Span, m, n, k, dx, false, variant);
        Gemm.MultiplyNotTransposed(dg.Span[..(20 * n)], w.Span, 20, n, k, dxRows.AsSpan(0, 20 * k), false, variant);
        Gemm.MultiplyNotTransposed(dg.Span[(20 * n)..], w.Span, m - 20, n, k, dxRows.AsSpan(20 * k), false, variant);
        Assert.Equal(dx, dxRows);
    }

    [Fact]
    public void Bad_arguments_throw_naming_the_argument()
    {
        var w = new float[12];
        var packed = PackedMatrix.Pack(w, 3, 4);
        var a = new float[8];
        var c = new float[6];
        Assert.Equal("a", Assert.Throws<ArgumentException>(() => Gemm.Multiply(a.AsSpan(0, 7), 2, packed, default, c, false)).ParamName);
        Assert.Equal("c", Assert.Throws<ArgumentException>(() => Gemm.Multiply(a, 2, packed, default, c.AsSpan(0, 5), false)).ParamName);
        Assert.Equal("bias", Assert.Throws<ArgumentException>(() => Gemm.Multiply(a, 2, packed, new float[2], c, false)).ParamName);
        Assert.Equal("weights", Assert.Throws<ArgumentException>(() => PackedMatrix.Pack(w.AsSpan(0, 11), 3, 4)).ParamName);
        Assert.Equal("b", Assert.Throws<ArgumentException>(() => Gemm.MultiplyTransposedA(a, a.AsSpan(0, 5), 2, 3, 3, c, false)).ParamName);
        Assert.Equal("c", Assert.Throws<ArgumentException>(() => Gemm.MultiplyNotTransposed(a, w, 2, 3, 4, c, false)).ParamName);
        Assert.Equal("k", Assert.Throws<ArgumentOutOfRangeException>(() => Gemm.MultiplyNotTransposed(a, w, 2, 3, -4, c, false)).ParamName);
        Assert.Throws<ArgumentNullException>(() => Gemm.Multiply(a, 2, null!, default, c, false));
    }

    /// <summary>
    /// A thread's share of a weight gradient: output rows j0..j1 of Aᵀ·B from columns j0..j1 of a wider A (rows aStride
    /// apart) are bitwise the rows of the whole product, for any cut, and match the double reference; nothing outside
    /// the strided A is read.
    /// </summary>
    [Theory]
    [MemberData(nameof(Variants.Supported), MemberType = typeof(Variants))]
    public void MultiplyTransposedA_by_output_rows_is_bitwise_the_whole_product(KernelVariant variant)
    {
        foreach (var (m, n, k) in new[] { (1, 5, 3), (37, 70, 33), (300, 130, 64), (600, 29, 40), (257, 100, 31) })
        {
            var rng = new Random((m * 31) + n + k);
            var full = new float[m * n];
            var b = new float[m * k];
            for (int i = 0; i < full.Length; i++)
            {
                full[i] = (float)((rng.NextDouble() * 2) - 1);
            }

            for (int i = 0; i < b.Length; i++)
            {
                b[i] = (float)((rng.NextDouble() * 2) - 1);
            }

            var c0 = new float[n * k];
            for (int i = 0; i < c0.Length; i++)
            {
                c0[i] = (float)((rng.NextDouble() * 2) - 1);
            }

            var whole = (float[])c0.Clone();
            Gemm.MultiplyTransposedA(full, b, m, n, k, whole, accumulate: true, variant);
            foreach (int parts in (ReadOnlySpan<int>)[2, 3, 7])
            {
                var split = (float[])c0.Clone();
                for (int p = 0; p < parts; p++)
                {
                    int j0 = n * p / parts, j1 = n * (p + 1) / parts;
                    // Exactly the strided block the call may read: rows n apart, the last one ending at column j1.
                    using var a = Guarded.Random(rng, m == 0 ? 0 : ((m - 1) * n) + (j1 - j0));
                    full.AsSpan(j0, a.Length).CopyTo(a.Span);
                    Gemm.MultiplyTransposedA(a.Span, n, b, m, j1 - j0, k, split.AsSpan(j0 * k, (j1 - j0) * k), accumulate: true, variant);
                }

                Assert.Equal(whole, split);
            }

            for (int j = 0; j < n; j++)
            {
                for (int l = 0; l < k; l++)
                {
                    double exact = c0[(j * k) + l], mag = Math.Abs(exact);
                    for (int i = 0; i < m; i++)
                    {
                        double p = (double)full[(i * n) + j] * b[(i * k) + l];
                        exact += p;
                        mag += Math.Abs(p);
                    }

                    Check(whole[(j * k) + l], exact, m, mag, $"{variant} M={m} N={n} K={k} C[{j},{l}]");
                }
            }
        }
    }

    [Fact]
    public void MultiplyTransposedA_rejects_a_stride_below_the_columns()
    {
        var a = new float[12];
        var c = new float[9];
        Assert.Equal("aStride", Assert.Throws<ArgumentOutOfRangeException>(() => Gemm.MultiplyTransposedA(a, 2, a, 2, 3, 3, c, false, KernelCatalog.Active)).ParamName);
        Assert.Equal("a", Assert.Throws<ArgumentException>(() => Gemm.MultiplyTransposedA(a.AsSpan(0, 7), 5, a, 2, 3, 3, c, false, KernelCatalog.Active)).ParamName);
    }

    [Theory]
    [MemberData(nameof(Variants.Supported), MemberType = typeof(Variants))]
    public void Calls_do_not_allocate(KernelVariant variant)
    {
        const int m = 37, n = 70, k = 300;
        var a = new float[m * Math.Max(n, k)];
        var w = new float[n * k];
        var c = new float[Math.Max(m, n) * Math.Max(n, k)];
        var bias = new float[n];
        var packed = PackedMatrix.Pack(w, n, k, variant);
        int i = 0;
        AllocationAssert.Zero(() =>
        {
            Gemm.Multiply(a, m, packed, bias, c, i++ % 2 == 0);
            Gemm.MultiplyTransposedA(a, a, m, n, k, c, true, variant);
            Gemm.MultiplyNotTransposed(a, w, m, n, k, c, false, variant);
        });
    }

    private static void Check(float got, double exact, int terms, double magnitude, string what)
    {
        Assert.True(float.IsFinite(got), $"{what} = {got} (over-read?)");
        Assert.True(Math.Abs(got - exact) <= Variants.Bound(terms, magnitude), $"{what} = {got}, exact {exact}");
    }
}
