using RecurrentCore.Kernels;
using Xunit;

namespace RecurrentCore.Tests.Kernels;

/// <summary>Variants, sizes, seeded data and comparisons shared by the kernel tests.</summary>
internal static class KernelCases
{
    /// <summary>Every hidden size 0..256 and a few odd sizes past the largest register multiple.</summary>
    public static readonly int[] AllSizes = [.. Enumerable.Range(0, 257), 257, 333, 1000, 1031];

    /// <summary>Sizes for the slower finite-difference checks.</summary>
    public static readonly int[] FiniteDifferenceSizes = [1, 3, 7, 13, 33];

    public static TheoryData<KernelVariant> Variants()
    {
        var data = new TheoryData<KernelVariant>();
        foreach (var v in KernelCatalog.Supported)
        {
            data.Add(v);
        }

        return data;
    }

    /// <summary>A generator seeded from the case, so every (test, variant, size) sees fresh but reproducible data.</summary>
    public static Random Rng(string test, KernelVariant variant, int size) =>
        new(TestSeed.Of(test, variant, size));

    public static float[] Uniform(Random rng, int n, float range)
    {
        var a = new float[n];
        for (int i = 0; i < n; i++)
        {
            a[i] = (float)(((rng.NextDouble() * 2) - 1) * range);
        }

        return a;
    }

    /// <summary>Asserts <c>|actual − expected| ≤ atol + rtol·|expected|</c> elementwise; NaN must match NaN, infinities exactly.</summary>
    public static void Close(ReadOnlySpan<float> actual, ReadOnlySpan<double> expected, double atol, double rtol, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < actual.Length; i++)
        {
            double e = expected[i];
            float a = actual[i];
            if (double.IsNaN(e) || double.IsInfinity(e) || !double.IsFinite(a))
            {
                Assert.True(e.Equals((double)a), $"{what}[{i}]: got {a}, expected {e}");
                continue;
            }

            double err = Math.Abs(a - e);
            Assert.True(err <= atol + (rtol * Math.Abs(e)), $"{what}[{i}] of {actual.Length}: got {a:R}, expected {e:R}, error {err:E3}");
        }
    }

    public static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));
}
