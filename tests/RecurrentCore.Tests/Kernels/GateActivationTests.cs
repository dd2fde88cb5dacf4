using RecurrentCore.Kernels;
using RecurrentCore.Kernels.Operators;
using RecurrentCore.Reference;
using Xunit;
using Xunit.Abstractions;

namespace RecurrentCore.Tests.Kernels;

/// <summary>
/// The ONNX gate activations of the general cells (<see cref="GateActivation"/>) against the double reference
/// (<see cref="RecurrentActivation.Apply"/>) on every variant: every length 0..256 and beyond in guarded memory, a
/// strided sample of all floats, in place = out of place. Bounds (docs/numerics.md) are in ULP of the reference, at
/// the magnitude of the terms for α·x + β, which cancels by design.
/// </summary>
[Trait("Category", "Kernels")]
public class GateActivationTests(ITestOutputHelper output)
{
    /// <summary>(function, α, β, documented bound in ULP).</summary>
    internal static readonly (GateFunction F, float Alpha, float Beta, double MaxUlp)[] Cases =
    [
        (GateFunction.Relu, 0f, 0f, 0),
        (GateFunction.Tanh, 0f, 0f, 3),
        (GateFunction.Sigmoid, 0f, 0f, 3),
        (GateFunction.Affine, 0.7f, -0.3f, 1),
        (GateFunction.LeakyRelu, 0.01f, 0f, 0.5),
        (GateFunction.ThresholdedRelu, 0.4f, 0f, 0),
        (GateFunction.ScaledTanh, 1.7f, 0.66f, 4),
        (GateFunction.HardSigmoid, 0.2f, 0.5f, 1),
        (GateFunction.Elu, 1.3f, 0f, 4),
        (GateFunction.Softsign, 0f, 0f, 2),
        (GateFunction.Softplus, 0f, 0f, 4),
    ];

    public static TheoryData<string, KernelVariant> FunctionsAndVariants()
    {
        var data = new TheoryData<string, KernelVariant>();
        foreach (var c in Cases)
        {
            foreach (var v in KernelCatalog.Supported)
            {
                data.Add(c.F.ToString(), v);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(FunctionsAndVariants))]
    public void Every_length_matches_the_double_reference_within_the_documented_ulp(string function, KernelVariant variant)
    {
        var (act, reference, scale, maxUlp) = Case(function);
        foreach (int n in KernelCases.AllSizes)
        {
            var x = KernelCases.Uniform(KernelCases.Rng($"gate {function}", variant, n), n, 6);
            using var mem = new GuardedMemory();
            var xs = mem.Alloc(x);
            var y = mem.Alloc(n);
            act.Apply(xs, y, variant);
            for (int i = 0; i < n; i++)
            {
                double e = Error(y[i], reference(x[i]), scale(x[i]));
                Assert.True(e <= maxUlp, $"{function} n={n} x[{i}]={x[i]:R}: {y[i]:R} vs {reference(x[i]):R}, {e:F2} ulp");
            }

            act.Apply(xs, variant);
            Assert.True(xs.SequenceEqual(y), $"{function} in place differs at n={n}");
            mem.Verify();
        }
    }

    [Theory]
    [MemberData(nameof(FunctionsAndVariants))]
    public void Strided_sample_of_all_floats_is_within_the_documented_ulp(string function, KernelVariant variant)
    {
        var (act, reference, scale, maxUlp) = Case(function);
        const int stride = 65537;
        var x = new float[(int)(((1L << 32) / stride) + 1)];
        for (long k = 0, bits = 0; bits < (1L << 32); k++, bits += stride)
        {
            x[k] = BitConverter.Int32BitsToSingle(unchecked((int)bits));
        }

        // Near 0, where Elu and Softplus need their cancellation-free forms, densely.
        var near = Enumerable.Range(-20000, 40001).Select(k => k * 1e-4f).Concat(Enumerable.Range(1, 60).Select(k => -MathF.Pow(2, -k))).ToArray();
        x = [.. x, .. near];
        var y = new float[x.Length];
        act.Apply(x, y, variant);
        double worst = 0;
        for (int i = 0; i < x.Length; i++)
        {
            double r = reference(x[i]);
            double e = Error(y[i], r, scale(x[i]));
            Assert.True(e <= maxUlp, $"{function}({x[i]:R}) = {y[i]:R}, expected {r:R}: {e:F2} ulp");
            worst = Math.Max(worst, e);
        }

        output.WriteLine($"{function} {variant}: worst {worst:F3} ulp over {x.Length} inputs");
    }

    [Theory]
    [MemberData(nameof(KernelCases.Variants), MemberType = typeof(KernelCases))]
    public void Clip_clamps_to_the_threshold_and_keeps_nan(KernelVariant variant)
    {
        float[] x = [-5f, -0.7f, -0.69f, 0f, 0.3f, 0.7f, 9f, float.NegativeInfinity, float.PositiveInfinity, float.NaN, 1e30f, -1e-30f, 0.71f];
        foreach (int n in new[] { 1, 3, 7, 8, 13, 16, 17, 33 })
        {
            var v = Enumerable.Range(0, n).Select(i => x[i % x.Length]).ToArray();
            var expected = v.Select(a => float.IsNaN(a) ? float.NaN : Math.Clamp(a, -0.7f, 0.7f)).ToArray();
            GateActivation.Clip(v, 0.7f, variant);
            Assert.Equal(expected, v);
        }

        var untouched = new[] { 1e30f, float.NaN };
        GateActivation.Clip(untouched, float.PositiveInfinity, variant);
        Assert.Equal(1e30f, untouched[0]);
    }

    private static (GateActivation Act, Func<double, double> Reference, Func<float, double> Scale, double MaxUlp) Case(string name)
    {
        var f = Enum.Parse<GateFunction>(name);
        var c = Cases.Single(k => k.F == f);
        var plain = new RecurrentActivation(Enum.Parse<ActivationFunction>(f.ToString()), c.Alpha, c.Beta);

        // RecurrentActivation's e^x − 1 and ln(1 + e^x) cancel in double (absolute error ~1e-16, harmless there, but
        // relative error up to 1 near 0 and for very negative x): the float kernels are checked against forms that do not.
        Func<double, double> reference = f switch
        {
            GateFunction.Elu => x => x >= 0 ? x : c.Alpha * ExpM1(x),
            GateFunction.Softplus => x => Math.Max(x, 0) + Log1P(Math.Exp(-Math.Abs(x))),
            _ => plain.Apply,
        };
        Func<float, double> scale = f is GateFunction.Affine or GateFunction.HardSigmoid ? x => Math.Abs(c.Alpha * (double)x) + Math.Abs(c.Beta) : _ => 0;
        return (new GateActivation(f, c.Alpha, c.Beta), reference, scale, c.MaxUlp);
    }

    private static double ExpM1(double x) => Math.Abs(x) < 1e-5 ? x + (x * x / 2) + (x * x * x / 6) : Math.Exp(x) - 1;

    private static double Log1P(double u)
    {
        double w = 1 + u;
        return w == 1 ? u : Math.Log(w) * u / (w - 1);
    }

    /// <summary>ULP of the reference, or of <paramref name="scale"/> when larger (terms that cancel).</summary>
    private static double Error(float y, double r, double scale)
    {
        if (scale > Math.Abs(r) && double.IsFinite(scale) && float.IsFinite(y) && double.IsFinite(r))
        {
            return Math.Abs(y - r) / Ulp.Spacing(scale);
        }

        return Ulp.Error(y, r);
    }
}
