using RecurrentCore.Kernels;
using Xunit;
using RecurrentCore.Kernels.Operators;

namespace RecurrentCore.Tests.Kernels;

[Trait("Category", "Kernels")]
public class ActivationTests
{
    /// <summary>The documented bounds (docs/numerics.md), in ULP of the correctly rounded result.</summary>
    internal const double ExpMaxUlp = 2.0;
    internal const double SigmoidMaxUlp = 3.0;
    internal const double TanhMaxUlp = 3.0;

    internal delegate void Kernel(ReadOnlySpan<float> x, Span<float> y, KernelVariant? variant);

    public static TheoryData<string, KernelVariant> FunctionsAndVariants()
    {
        var data = new TheoryData<string, KernelVariant>();
        foreach (var f in new[] { "exp", "sigmoid", "tanh" })
        {
            foreach (var v in KernelCatalog.Supported)
            {
                data.Add(f, v);
            }
        }

        return data;
    }

    internal static (Kernel Kernel, Func<double, double> Reference, double MaxUlp) Function(string name) => name switch
    {
        "exp" => (Activations.Exp, Math.Exp, ExpMaxUlp),
        "sigmoid" => (Activations.Sigmoid, KernelCases.Sigmoid, SigmoidMaxUlp),
        "tanh" => (Activations.Tanh, Math.Tanh, TanhMaxUlp),
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    [Theory]
    [MemberData(nameof(FunctionsAndVariants))]
    public void Every_length_matches_reference_within_documented_ulp(string function, KernelVariant variant)
    {
        var (kernel, reference, maxUlp) = Function(function);
        foreach (int n in KernelCases.AllSizes)
        {
            var rng = KernelCases.Rng(function, variant, n);
            var x = KernelCases.Uniform(rng, n, 12);
            using var mem = new GuardedMemory();
            var xs = mem.Alloc(x);
            var y = mem.Alloc(n);
            kernel(xs, y, variant);
            for (int i = 0; i < n; i++)
            {
                double e = Ulp.Error(y[i], reference(x[i]));
                Assert.True(e <= maxUlp, $"{function} n={n} x[{i}]={x[i]:R}: {y[i]:R}, {e:F2} ulp");
            }

            // In place gives the same bits.
            kernel(xs, xs, variant);
            Assert.True(xs.SequenceEqual(y), $"{function} in place differs at n={n}");
            mem.Verify();
        }
    }

    [Theory]
    [MemberData(nameof(FunctionsAndVariants))]
    public void Strided_sample_of_all_floats_is_within_documented_ulp(string function, KernelVariant variant)
    {
        var (kernel, reference, maxUlp) = Function(function);
        const int stride = 4099;
        var x = new float[(int)(((1L << 32) / stride) + 1)];
        for (long k = 0, bits = 0; bits < (1L << 32); k++, bits += stride)
        {
            x[k] = BitConverter.Int32BitsToSingle(unchecked((int)bits));
        }

        var y = new float[x.Length];
        kernel(x, y, variant);
        double worst = 0;
        for (int i = 0; i < x.Length; i++)
        {
            double e = Ulp.Error(y[i], reference(x[i]));
            Assert.True(e <= maxUlp, $"{function}({x[i]:R}) = {y[i]:R}, expected {reference(x[i]):R}: {e:F2} ulp");
            worst = Math.Max(worst, e);
        }

        Assert.True(worst > 0, "the sample should exercise rounding");
    }

    [Theory]
    [MemberData(nameof(KernelCases.Variants), MemberType = typeof(KernelCases))]
    public void Saturates_and_propagates_nan(KernelVariant variant)
    {
        float[] x = [float.NegativeInfinity, -1e4f, -float.MaxValue, -200f, -104f, -88f, 0f, -0f, 88f, 88.8f, 200f, 1e4f, float.MaxValue, float.PositiveInfinity, float.NaN, float.Epsilon, -float.Epsilon];
        foreach (int n in new[] { 1, 3, 4, 7, 8, 16, 17, 33 })
        {
            var xs = new float[n];
            for (int i = 0; i < n; i++)
            {
                xs[i] = x[i % x.Length];
            }

            for (int shift = 0; shift < x.Length; shift++)
            {
                for (int i = 0; i < n; i++)
                {
                    xs[i] = x[(i + shift) % x.Length];
                }

                var y = new float[n];
                Activations.Sigmoid(xs, y, variant);
                for (int i = 0; i < n; i++)
                {
                    Expect(xs[i], y[i], KernelCases.Sigmoid(xs[i]), "sigmoid");
                    Assert.True(float.IsNaN(xs[i]) || (y[i] >= 0 && y[i] <= 1));
                }

                Activations.Tanh(xs, y, variant);
                for (int i = 0; i < n; i++)
                {
                    Expect(xs[i], y[i], Math.Tanh(xs[i]), "tanh");
                    Assert.True(float.IsNaN(xs[i]) || (y[i] >= -1 && y[i] <= 1));
                }

                Activations.Exp(xs, y, variant);
                for (int i = 0; i < n; i++)
                {
                    Expect(xs[i], y[i], Math.Exp(xs[i]), "exp");
                }

                Activations.Relu(xs, y, variant);
                for (int i = 0; i < n; i++)
                {
                    Assert.True(float.IsNaN(xs[i]) ? float.IsNaN(y[i]) : y[i].Equals(Math.Max(0f, xs[i])) || (xs[i] == 0 && y[i] == 0), $"relu({xs[i]}) = {y[i]}");
                }
            }
        }

        static void Expect(float x, float y, double r, string f)
        {
            if (float.IsNaN(x))
            {
                Assert.True(float.IsNaN(y), $"{f}(NaN) = {y}");
                return;
            }

            Assert.False(float.IsNaN(y), $"{f}({x}) is NaN");
            Assert.True(Ulp.Error(y, r) <= 3, $"{f}({x:R}) = {y:R}, expected {r:R}");
        }
    }

    [Theory]
    [MemberData(nameof(KernelCases.Variants), MemberType = typeof(KernelCases))]
    public void Derivatives_from_outputs_match_reference(KernelVariant variant)
    {
        foreach (int n in KernelCases.AllSizes)
        {
            var rng = KernelCases.Rng("deriv", variant, n);
            var s = KernelCases.Uniform(rng, n, 1);
            var d = new float[n];
            Activations.SigmoidDerivativeFromOutput(s, d, variant);
            for (int i = 0; i < n; i++)
            {
                Assert.True(Ulp.Error(d[i], s[i] * (1.0 - s[i])) <= 1.5, $"sigmoid' n={n} i={i}");
            }

            Activations.TanhDerivativeFromOutput(s, d, variant);
            for (int i = 0; i < n; i++)
            {
                Assert.True(Ulp.Error(d[i], 1.0 - ((double)s[i] * s[i])) <= 1.5, $"tanh' n={n} i={i}");
            }
        }
    }

    [Fact]
    public void Partial_overlap_and_length_mismatch_throw()
    {
        var a = new float[10];
        Assert.Throws<ArgumentException>(() => Activations.Sigmoid(a.AsSpan(0, 8), a.AsSpan(1, 8)));
        Assert.Throws<ArgumentException>(() => Activations.Tanh(a.AsSpan(0, 8), a.AsSpan(0, 7)));
    }
}
