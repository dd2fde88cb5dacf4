using RecurrentCore.Kernels;
using RecurrentCore.Kernels.Gates;
using Xunit;

namespace RecurrentCore.Tests.Kernels;

[Trait("Category", "Kernels")]
public class GruGateTests
{
    private const double Atol = LstmGateTests.Atol;
    private const double Rtol = LstmGateTests.Rtol;

    [Theory]
    [MemberData(nameof(KernelCases.Variants), MemberType = typeof(KernelCases))]
    public void Forward_matches_reference_for_every_size(KernelVariant variant)
    {
        foreach (int n in KernelCases.AllSizes)
        {
            var rng = KernelCases.Rng("gru.fwd", variant, n);
            var gi = KernelCases.Uniform(rng, 3 * n, 3);
            var gh = KernelCases.Uniform(rng, 3 * n, 3);
            var bih = n % 2 == 0 ? KernelCases.Uniform(rng, 3 * n, 1) : [];
            var bhh = n % 3 != 1 ? KernelCases.Uniform(rng, 3 * n, 1) : [];
            var hp = KernelCases.Uniform(rng, n, 1);
            var (act, ghn, h) = GateReference.GruForward(
                GateReference.ToDouble(gi), GateReference.ToDouble(gh), bih.Length == 0 ? null : GateReference.ToDouble(bih),
                bhh.Length == 0 ? null : GateReference.ToDouble(bhh), GateReference.ToDouble(hp), n);

            using var mem = new GuardedMemory();
            var gis = mem.Alloc(gi);
            var ghs = mem.Alloc(gh);
            var bis = bih.Length == 0 ? default : mem.Alloc(bih);
            var bhs = bhh.Length == 0 ? default : mem.Alloc(bhh);
            var hps = mem.Alloc(hp);
            var hs = mem.Alloc(n);
            GruGates.Forward(n, gis, ghs, bis, bhs, hps, hs, saveActivations: true, variant);
            KernelCases.Close(gis, act, Atol, Rtol, $"gates n={n}");
            KernelCases.Close(ghs.Slice(2 * n), ghn, Atol, Rtol, $"gh_n n={n}");
            Assert.True(ghs[..(2 * n)].SequenceEqual(gh.AsSpan(0, 2 * n)), "gh r,z blocks must be untouched");
            KernelCases.Close(hs, h, Atol, Rtol, $"h n={n}");

            // Inference, h over h_prev: inputs untouched, same bits.
            var gi2 = mem.Alloc(gi);
            var gh2 = mem.Alloc(gh);
            var hp2 = mem.Alloc(hp);
            GruGates.Forward(n, gi2, gh2, bis, bhs, hp2, hp2, saveActivations: false, variant);
            Assert.True(gi2.SequenceEqual(gi) && gh2.SequenceEqual(gh) && hp2.SequenceEqual(hs), $"inference n={n}");
            mem.Verify();
        }
    }

    [Theory]
    [MemberData(nameof(KernelCases.Variants), MemberType = typeof(KernelCases))]
    public void Backward_matches_reference_for_every_size(KernelVariant variant)
    {
        foreach (int n in KernelCases.AllSizes)
        {
            var rng = KernelCases.Rng("gru.bwd", variant, n);
            var act = KernelCases.Uniform(rng, 3 * n, 1);
            for (int k = 0; k < 2 * n; k++)
            {
                act[k] = (act[k] + 1) / 2;
            }

            var ghn = KernelCases.Uniform(rng, n, 3);
            var hp = KernelCases.Uniform(rng, n, 1);
            var dh = KernelCases.Uniform(rng, n, 1);
            var (dgi, dgh, dhp) = GateReference.GruBackward(act, ghn, hp, dh, n);

            using var mem = new GuardedMemory();
            var a = mem.Alloc(act);
            var ghns = mem.Alloc(ghn);
            var hps = mem.Alloc(hp);
            var dhs = mem.Alloc(dh);
            var dgis = mem.Alloc(3 * n);
            var dghs = mem.Alloc(3 * n);
            var dhps = mem.Alloc(n);
            GruGates.Backward(n, a, ghns, hps, dhs, dgis, dghs, dhps, variant);
            KernelCases.Close(dgis, dgi, Atol, Rtol, $"dGi n={n}");
            KernelCases.Close(dghs, dgh, Atol, Rtol, $"dGh n={n}");
            KernelCases.Close(dhps, dhp, Atol, Rtol, $"dhPrev n={n}");

            // In place: dGi over the activations, dGh over a gh row holding gh_n, dhPrev over dh.
            var gh = mem.Alloc(3 * n);
            ghn.CopyTo(gh.Slice(2 * n));
            GruGates.Backward(n, a, gh.Slice(2 * n), hps, dhs, a, gh, dhs, variant);
            Assert.True(a.SequenceEqual(dgis) && gh.SequenceEqual(dghs) && dhs.SequenceEqual(dhps), $"in place n={n}");
            mem.Verify();
        }
    }

    [Theory]
    [MemberData(nameof(KernelCases.Variants), MemberType = typeof(KernelCases))]
    public void Forward_then_backward_matches_finite_differences(KernelVariant variant)
    {
        foreach (int n in KernelCases.FiniteDifferenceSizes)
        {
            var rng = KernelCases.Rng("gru.fd", variant, n);
            var gi = KernelCases.Uniform(rng, 3 * n, 2);
            var gh = KernelCases.Uniform(rng, 3 * n, 2);
            var bih = KernelCases.Uniform(rng, 3 * n, 0.5f);
            var bhh = KernelCases.Uniform(rng, 3 * n, 0.5f);
            var hp = KernelCases.Uniform(rng, n, 1);
            var dh = KernelCases.Uniform(rng, n, 1);

            var gik = (float[])gi.Clone();
            var ghk = (float[])gh.Clone();
            var h = new float[n];
            GruGates.Forward(n, gik, ghk, bih, bhh, hp, h, saveActivations: true, variant);
            var dgi = new float[3 * n];
            var dgh = new float[3 * n];
            var dhp = new float[n];
            GruGates.Backward(n, gik, ghk.AsSpan(2 * n), hp, dh, dgi, dgh, dhp, variant);

            var giD = GateReference.ToDouble(gi);
            var ghD = GateReference.ToDouble(gh);
            var hpD = GateReference.ToDouble(hp);
            var bihD = GateReference.ToDouble(bih);
            var bhhD = GateReference.ToDouble(bhh);
            double Loss() => GateReference.Dot(GateReference.GruForward(giD, ghD, bihD, bhhD, hpD, n).H, dh);
            KernelCases.Close(dgi, GateReference.Gradient(giD, Loss), 1e-5, 1e-5, $"dGi vs FD n={n}");
            KernelCases.Close(dgh, GateReference.Gradient(ghD, Loss), 1e-5, 1e-5, $"dGh vs FD n={n}");
            KernelCases.Close(dhp, GateReference.Gradient(hpD, Loss), 1e-5, 1e-5, $"dhPrev (direct) vs FD n={n}");
        }
    }

    [Theory]
    [MemberData(nameof(KernelCases.Variants), MemberType = typeof(KernelCases))]
    public void Batch_rows_with_strides_equal_row_calls(KernelVariant variant)
    {
        foreach (int n in new[] { 1, 5, 17, 64 })
        {
            const int batch = 3;
            int gs = (3 * n) + 1, ss = n + 3;
            var rng = KernelCases.Rng("gru.batch", variant, n);
            var gi = KernelCases.Uniform(rng, batch * gs, 3);
            var gh = KernelCases.Uniform(rng, batch * gs, 3);
            var bih = KernelCases.Uniform(rng, 3 * n, 1);
            var bhh = KernelCases.Uniform(rng, 3 * n, 1);
            var hp = KernelCases.Uniform(rng, batch * ss, 1);
            var gib = (float[])gi.Clone();
            var ghb = (float[])gh.Clone();
            var h = LstmGateTests.Filled(batch * ss);
            GruGates.Forward(batch, n, gib, gs, ghb, gs, bih, bhh, hp, ss, h, ss, saveActivations: true, variant);
            var dh = KernelCases.Uniform(rng, batch * ss, 1);
            var dgi = LstmGateTests.Filled(batch * gs);
            var dgh = LstmGateTests.Filled(batch * gs);
            var dhp = LstmGateTests.Filled(batch * ss);
            GruGates.Backward(batch, n, gib, gs, ghb.AsSpan(2 * n), gs, hp, ss, dh, ss, dgi, gs, dgh, gs, dhp, ss, variant);
            for (int b = 0; b < batch; b++)
            {
                var gir = gi.AsSpan(b * gs, 3 * n).ToArray();
                var ghr = gh.AsSpan(b * gs, 3 * n).ToArray();
                var hr = new float[n];
                GruGates.Forward(n, gir, ghr, bih, bhh, hp.AsSpan(b * ss, n), hr, saveActivations: true, variant);
                Assert.True(gib.AsSpan(b * gs, 3 * n).SequenceEqual(gir) && ghb.AsSpan(b * gs, 3 * n).SequenceEqual(ghr) && h.AsSpan(b * ss, n).SequenceEqual(hr), $"forward row {b} n={n}");
                var dgir = new float[3 * n];
                var dghr = new float[3 * n];
                var dhpr = new float[n];
                GruGates.Backward(n, gir, ghr.AsSpan(2 * n), hp.AsSpan(b * ss, n), dh.AsSpan(b * ss, n), dgir, dghr, dhpr, variant);
                Assert.True(dgi.AsSpan(b * gs, 3 * n).SequenceEqual(dgir) && dgh.AsSpan(b * gs, 3 * n).SequenceEqual(dghr) && dhp.AsSpan(b * ss, n).SequenceEqual(dhpr), $"backward row {b} n={n}");
                LstmGateTests.AssertPadding(h, b, ss, n);
                LstmGateTests.AssertPadding(dhp, b, ss, n);
                LstmGateTests.AssertPadding(dgi, b, gs, 3 * n);
                LstmGateTests.AssertPadding(dgh, b, gs, 3 * n);
            }
        }
    }

    [Theory]
    [MemberData(nameof(KernelCases.Variants), MemberType = typeof(KernelCases))]
    public void Extreme_inputs_saturate_and_nan_propagates(KernelVariant variant)
    {
        float[] pool = [1e4f, -1e4f, float.PositiveInfinity, float.NegativeInfinity, 0.5f, -3f, 100f, -100f, float.NaN];
        foreach (int n in new[] { 1, 4, 9, 16, 19, 40 })
        {
            var rng = KernelCases.Rng("gru.extreme", variant, n);
            var gi = new float[3 * n];
            var gh = new float[3 * n];
            for (int k = 0; k < gi.Length; k++)
            {
                gi[k] = pool[rng.Next(pool.Length)];
                gh[k] = k >= 2 * n ? pool[rng.Next(pool.Length - 3)] : pool[rng.Next(pool.Length)];
            }

            var hp = KernelCases.Uniform(rng, n, 1);
            var gik = (float[])gi.Clone();
            var h = new float[n];
            GruGates.Forward(n, gik, (float[])gh.Clone(), default, default, hp, h, saveActivations: true, variant);
            for (int j = 0; j < n; j++)
            {
                // Which lanes are NaN is decided in float: r can underflow to 0 and then 0·Inf is NaN, as in PyTorch.
                static float Sf(float x) => (float)KernelCases.Sigmoid(x);
                float r = Sf(gi[j] + gh[j]);
                float z = Sf(gi[n + j] + gh[n + j]);
                float nn = (float)Math.Tanh(MathF.FusedMultiplyAdd(r, gh[(2 * n) + j], gi[(2 * n) + j]));
                float hr = nn + (z * (hp[j] - nn));
                Assert.True(float.IsNaN(hr) == float.IsNaN(h[j]), $"h[{j}] = {h[j]}, float reference {hr}");
                Assert.True(float.IsNaN(h[j]) || Math.Abs(h[j]) <= 1, $"h[{j}] = {h[j]}");
            }
        }
    }
}
