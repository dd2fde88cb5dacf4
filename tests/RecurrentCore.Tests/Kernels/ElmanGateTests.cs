using RecurrentCore.Kernels;
using RecurrentCore.Kernels.Gates;
using Xunit;

namespace RecurrentCore.Tests.Kernels;

[Trait("Category", "Kernels")]
public class ElmanGateTests
{
    public static TheoryData<KernelVariant, string> Cases()
    {
        var data = new TheoryData<KernelVariant, string>();
        foreach (var v in KernelCatalog.Supported)
        {
            data.Add(v, nameof(RnnNonlinearity.Tanh)); // by name: the enum is internal, theory data public
            data.Add(v, nameof(RnnNonlinearity.Relu));
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Forward_and_backward_match_reference_for_every_size(KernelVariant variant, string nonlinearity)
    {
        var phi = Enum.Parse<RnnNonlinearity>(nonlinearity);
        foreach (int n in KernelCases.AllSizes)
        {
            var rng = KernelCases.Rng("elman" + phi, variant, n);
            var a = KernelCases.Uniform(rng, n, 4);
            if (n > 2)
            {
                a[n / 2] = 0; // relu's gradient at exactly 0 is 0
            }

            var bias = n % 2 == 0 ? KernelCases.Uniform(rng, n, 1) : [];
            if (bias.Length > 2)
            {
                bias[n / 2] = 0;
            }

            var dh = KernelCases.Uniform(rng, n, 1);
            var hRef = new double[n];
            for (int j = 0; j < n; j++)
            {
                double x = a[j] + (bias.Length == 0 ? 0 : (double)bias[j]);
                hRef[j] = phi == RnnNonlinearity.Tanh ? Math.Tanh(x) : Math.Max(0, (float)x);
            }

            using var mem = new GuardedMemory();
            var As = mem.Alloc(a);
            var bs = bias.Length == 0 ? default : mem.Alloc(bias);
            var h = mem.Alloc(n);
            ElmanGates.Forward(n, As, bs, h, phi, variant);
            KernelCases.Close(h, hRef, LstmGateTests.Atol, LstmGateTests.Rtol, $"h n={n}");

            var daRef = new double[n];
            for (int j = 0; j < n; j++)
            {
                daRef[j] = phi == RnnNonlinearity.Tanh ? dh[j] * (1 - ((double)h[j] * h[j])) : (h[j] > 0 ? dh[j] : 0);
            }

            var dhs = mem.Alloc(dh);
            var da = mem.Alloc(n);
            ElmanGates.Backward(n, h, dhs, da, phi, variant);
            KernelCases.Close(da, daRef, LstmGateTests.Atol, LstmGateTests.Rtol, $"da n={n}");
            if (n > 2 && phi == RnnNonlinearity.Relu)
            {
                Assert.Equal(0f, h[n / 2]);
                Assert.Equal(0f, da[n / 2]);
            }

            // In place: h over a, da over dh.
            ElmanGates.Forward(n, As, bs, As, phi, variant);
            ElmanGates.Backward(n, As, dhs, dhs, phi, variant);
            Assert.True(As.SequenceEqual(h) && dhs.SequenceEqual(da), $"in place n={n}");
            mem.Verify();
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Backward_matches_finite_differences(KernelVariant variant, string nonlinearity)
    {
        var phi = Enum.Parse<RnnNonlinearity>(nonlinearity);
        foreach (int n in KernelCases.FiniteDifferenceSizes)
        {
            var rng = KernelCases.Rng("elman.fd" + phi, variant, n);
            var a = KernelCases.Uniform(rng, n, 2);
            for (int j = 0; j < n; j++)
            {
                a[j] = Math.Abs(a[j]) < 1e-3f ? 0.5f : a[j]; // away from relu's kink
            }

            var dh = KernelCases.Uniform(rng, n, 1);
            var h = new float[n];
            ElmanGates.Forward(n, a, default, h, phi, variant);
            var da = new float[n];
            ElmanGates.Backward(n, h, dh, da, phi, variant);
            var aD = GateReference.ToDouble(a);
            double Loss()
            {
                double s = 0;
                for (int j = 0; j < n; j++)
                {
                    s += dh[j] * (phi == RnnNonlinearity.Tanh ? Math.Tanh(aD[j]) : Math.Max(0, aD[j]));
                }

                return s;
            }

            KernelCases.Close(da, GateReference.Gradient(aD, Loss), 1e-5, 1e-5, $"da vs FD n={n}");
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Batch_and_extremes(KernelVariant variant, string nonlinearity)
    {
        var phi = Enum.Parse<RnnNonlinearity>(nonlinearity);
        float[] pool = [1e4f, -1e4f, float.PositiveInfinity, float.NegativeInfinity, 0f, -0f, 0.5f, float.NaN];
        const int batch = 3, n = 21, stride = 24;
        var rng = KernelCases.Rng("elman.batch" + phi, variant, n);
        var a = new float[batch * stride];
        for (int k = 0; k < a.Length; k++)
        {
            a[k] = pool[rng.Next(pool.Length)];
        }

        var h = LstmGateTests.Filled(batch * stride);
        ElmanGates.Forward(batch, n, a, stride, default, h, stride, phi, variant);
        var dh = KernelCases.Uniform(rng, batch * stride, 1);
        var da = LstmGateTests.Filled(batch * stride);
        ElmanGates.Backward(batch, n, h, stride, dh, stride, da, stride, phi, variant);
        for (int b = 0; b < batch; b++)
        {
            LstmGateTests.AssertPadding(h, b, stride, n);
            LstmGateTests.AssertPadding(da, b, stride, n);
            for (int j = 0; j < n; j++)
            {
                int k = (b * stride) + j;
                float x = a[k];
                float expected = float.IsNaN(x) ? float.NaN : phi == RnnNonlinearity.Tanh ? (float)Math.Tanh(x) : Math.Max(0f, x);
                Assert.True(expected.Equals(h[k]) || (expected == 0 && h[k] == 0), $"phi({x}) = {h[k]}");
                float expectedDa = phi == RnnNonlinearity.Tanh ? dh[k] * (1 - (h[k] * h[k])) : (h[k] <= 0 ? 0 : dh[k]);
                Assert.True(expectedDa.Equals(da[k]) || Math.Abs(expectedDa - da[k]) <= 1e-7, $"da at h={h[k]}: {da[k]}");
            }
        }
    }
}
