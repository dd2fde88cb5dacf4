using RecurrentCore.Kernels;
using RecurrentCore.Kernels.Gates;
using Xunit;

namespace RecurrentCore.Tests.Kernels;

[Trait("Category", "Kernels")]
public class GruResetBeforeGateTests
{
    private const double Atol = LstmGateTests.Atol;
    private const double Rtol = LstmGateTests.Rtol;

    [Theory]
    [MemberData(nameof(KernelCases.Variants), MemberType = typeof(KernelCases))]
    public void Forward_stages_match_reference_for_every_size(KernelVariant variant)
    {
        foreach (int n in KernelCases.AllSizes)
        {
            var rng = KernelCases.Rng("grurb.fwd", variant, n);
            var gi = KernelCases.Uniform(rng, 3 * n, 3);
            var ghRz = KernelCases.Uniform(rng, 2 * n, 3);
            var bih = n % 2 == 0 ? KernelCases.Uniform(rng, 3 * n, 1) : [];
            var bhh = n % 3 != 1 ? KernelCases.Uniform(rng, 3 * n, 1) : [];
            var hp = KernelCases.Uniform(rng, n, 1);

            using var mem = new GuardedMemory();
            var g = mem.Alloc(gi);
            var rh = mem.Alloc(n);
            var bis = bih.Length == 0 ? default : mem.Alloc(bih);
            var bhs = bhh.Length == 0 ? default : mem.Alloc(bhh);
            var hps = mem.Alloc(hp);
            GruResetBeforeGates.ForwardStage1(n, g, mem.Alloc(ghRz), bis, bhs, hps, rh, variant);

            // The caller's product, here a diagonal-free stand-in: ghN[j] = 0.5·rh[j] + 0.25·rh[j-1] (double, then rounded).
            var ghn = new float[n];
            for (int j = 0; j < n; j++)
            {
                ghn[j] = (float)((0.5 * rh[j]) + (j > 0 ? 0.25 * rh[j - 1] : 0));
            }

            var h = mem.Alloc(n);
            GruResetBeforeGates.ForwardStage2(n, g, mem.Alloc(ghn), bis, bhs, hps, h, saveActivations: true, variant);

            // Reference: stage maths in double from the same float inputs, with the float ghN.
            var act = new double[3 * n];
            var rhRef = new double[n];
            var hRef = new double[n];
            double B(float[] b, int k) => b.Length == 0 ? 0 : b[k];
            for (int j = 0; j < n; j++)
            {
                act[j] = KernelCases.Sigmoid(gi[j] + B(bih, j) + ghRz[j] + B(bhh, j));
                act[n + j] = KernelCases.Sigmoid(gi[n + j] + B(bih, n + j) + ghRz[n + j] + B(bhh, n + j));
                rhRef[j] = act[j] * hp[j];
                act[(2 * n) + j] = Math.Tanh(gi[(2 * n) + j] + B(bih, (2 * n) + j) + ghn[j] + B(bhh, (2 * n) + j));
                hRef[j] = ((1 - act[n + j]) * act[(2 * n) + j]) + (act[n + j] * hp[j]);
            }

            KernelCases.Close(g, act, Atol, Rtol, $"gates n={n}");
            KernelCases.Close(rh, rhRef, Atol, Rtol, $"rh n={n}");
            KernelCases.Close(h, hRef, Atol, Rtol, $"h n={n}");
            mem.Verify();
        }
    }

    [Theory]
    [MemberData(nameof(KernelCases.Variants), MemberType = typeof(KernelCases))]
    public void Backward_stages_match_reference_for_every_size(KernelVariant variant)
    {
        foreach (int n in KernelCases.AllSizes)
        {
            var rng = KernelCases.Rng("grurb.bwd", variant, n);
            var act = KernelCases.Uniform(rng, 3 * n, 1);
            for (int k = 0; k < 2 * n; k++)
            {
                act[k] = (act[k] + 1) / 2;
            }

            var hp = KernelCases.Uniform(rng, n, 1);
            var dh = KernelCases.Uniform(rng, n, 1);
            var drh = KernelCases.Uniform(rng, n, 1);

            using var mem = new GuardedMemory();
            var a = mem.Alloc(act);
            var hps = mem.Alloc(hp);
            var dhs = mem.Alloc(dh);
            var dg = mem.Alloc(3 * n);
            var dhp = mem.Alloc(n);
            GruResetBeforeGates.BackwardStage2(n, a, hps, dhs, dg, dhp, variant);
            GruResetBeforeGates.BackwardStage1(n, a, hps, mem.Alloc(drh), dg, dhp, variant);

            var dgRef = new double[3 * n];
            var dhpRef = new double[n];
            for (int j = 0; j < n; j++)
            {
                double r = act[j], z = act[n + j], nn = act[(2 * n) + j];
                dgRef[n + j] = dh[j] * (hp[j] - nn) * z * (1 - z);
                dgRef[(2 * n) + j] = dh[j] * (1 - z) * (1 - (nn * nn));
                dgRef[j] = drh[j] * hp[j] * r * (1 - r);
                dhpRef[j] = (dh[j] * z) + (drh[j] * r);
            }

            KernelCases.Close(dg, dgRef, Atol, Rtol, $"dG n={n}");
            KernelCases.Close(dhp, dhpRef, Atol, Rtol, $"dhPrev n={n}");

            // In place: dG over the saved activations, dhPrev over dh.
            GruResetBeforeGates.BackwardStage2(n, a, hps, dhs, a, dhs, variant);
            GruResetBeforeGates.BackwardStage1(n, a, hps, mem.Alloc(drh), a, dhs, variant);
            Assert.True(a.SequenceEqual(dg) && dhs.SequenceEqual(dhp), $"in place n={n}");
            mem.Verify();
        }
    }

    [Theory]
    [MemberData(nameof(KernelCases.Variants), MemberType = typeof(KernelCases))]
    public void Stages_with_caller_matmul_match_finite_differences(KernelVariant variant)
    {
        foreach (int n in KernelCases.FiniteDifferenceSizes)
        {
            var rng = KernelCases.Rng("grurb.fd", variant, n);
            var gi = KernelCases.Uniform(rng, 3 * n, 2);
            var ghRz = KernelCases.Uniform(rng, 2 * n, 2);
            var bih = KernelCases.Uniform(rng, 3 * n, 0.5f);
            var bhh = KernelCases.Uniform(rng, 3 * n, 0.5f);
            var whn = KernelCases.Uniform(rng, n * n, 1f / MathF.Sqrt(n));
            var hp = KernelCases.Uniform(rng, n, 1);
            var dh = KernelCases.Uniform(rng, n, 1);

            var g = (float[])gi.Clone();
            var rh = new float[n];
            GruResetBeforeGates.ForwardStage1(n, g, ghRz, bih, bhh, hp, rh, variant);
            var ghn = new float[n];
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int k = 0; k < n; k++)
                {
                    s += whn[(j * n) + k] * (double)rh[k];
                }

                ghn[j] = (float)s;
            }

            var h = new float[n];
            GruResetBeforeGates.ForwardStage2(n, g, ghn, bih, bhh, hp, h, saveActivations: true, variant);

            var dgk = new float[3 * n];
            var dhp = new float[n];
            GruResetBeforeGates.BackwardStage2(n, g, hp, dh, dgk, dhp, variant);
            var drh = new float[n];
            for (int k = 0; k < n; k++)
            {
                double s = 0;
                for (int j = 0; j < n; j++)
                {
                    s += whn[(j * n) + k] * (double)dgk[(2 * n) + j];
                }

                drh[k] = (float)s;
            }

            GruResetBeforeGates.BackwardStage1(n, g, hp, drh, dgk, dhp, variant);

            var giD = GateReference.ToDouble(gi);
            var ghD = GateReference.ToDouble(ghRz);
            var hpD = GateReference.ToDouble(hp);
            var whnD = GateReference.ToDouble(whn);
            var bihD = GateReference.ToDouble(bih);
            var bhhD = GateReference.ToDouble(bhh);
            double Loss() => GateReference.Dot(GateReference.GruResetBeforeForward(giD, ghD, bihD, bhhD, whnD, hpD, n).H, dh);
            KernelCases.Close(dgk, GateReference.Gradient(giD, Loss), 1e-5, 1e-5, $"dG vs d/dgi n={n}");
            KernelCases.Close(dgk.AsSpan(0, 2 * n), GateReference.Gradient(ghD, Loss), 1e-5, 1e-5, $"dG[r,z] vs d/dghRz n={n}");
            KernelCases.Close(dhp, GateReference.Gradient(hpD, Loss), 1e-5, 1e-5, $"dhPrev (direct + reset path) vs FD n={n}");
        }
    }

    [Theory]
    [MemberData(nameof(KernelCases.Variants), MemberType = typeof(KernelCases))]
    public void Batch_rows_with_strides_equal_row_calls(KernelVariant variant)
    {
        foreach (int n in new[] { 1, 5, 17, 64 })
        {
            const int batch = 3;
            int gs = (3 * n) + 2, rs = (2 * n) + 1, ss = n + 3;
            var rng = KernelCases.Rng("grurb.batch", variant, n);
            var gi = KernelCases.Uniform(rng, batch * gs, 3);
            var ghRz = KernelCases.Uniform(rng, batch * rs, 3);
            var bih = KernelCases.Uniform(rng, 3 * n, 1);
            var bhh = KernelCases.Uniform(rng, 3 * n, 1);
            var hp = KernelCases.Uniform(rng, batch * ss, 1);
            var ghn = KernelCases.Uniform(rng, batch * ss, 1);
            var dh = KernelCases.Uniform(rng, batch * ss, 1);
            var drh = KernelCases.Uniform(rng, batch * ss, 1);

            var g = (float[])gi.Clone();
            var rh = LstmGateTests.Filled(batch * ss);
            var h = LstmGateTests.Filled(batch * ss);
            var dg = LstmGateTests.Filled(batch * gs);
            var dhp = LstmGateTests.Filled(batch * ss);
            GruResetBeforeGates.ForwardStage1(batch, n, g, gs, ghRz, rs, bih, bhh, hp, ss, rh, ss, variant);
            GruResetBeforeGates.ForwardStage2(batch, n, g, gs, ghn, ss, bih, bhh, hp, ss, h, ss, saveActivations: true, variant);
            GruResetBeforeGates.BackwardStage2(batch, n, g, gs, hp, ss, dh, ss, dg, gs, dhp, ss, variant);
            GruResetBeforeGates.BackwardStage1(batch, n, g, gs, hp, ss, drh, ss, dg, gs, dhp, ss, variant);
            for (int b = 0; b < batch; b++)
            {
                var gr = gi.AsSpan(b * gs, 3 * n).ToArray();
                var rhr = new float[n];
                var hr = new float[n];
                var dgr = new float[3 * n];
                var dhpr = new float[n];
                var hpr = hp.AsSpan(b * ss, n);
                GruResetBeforeGates.ForwardStage1(n, gr, ghRz.AsSpan(b * rs, 2 * n), bih, bhh, hpr, rhr, variant);
                GruResetBeforeGates.ForwardStage2(n, gr, ghn.AsSpan(b * ss, n), bih, bhh, hpr, hr, saveActivations: true, variant);
                GruResetBeforeGates.BackwardStage2(n, gr, hpr, dh.AsSpan(b * ss, n), dgr, dhpr, variant);
                GruResetBeforeGates.BackwardStage1(n, gr, hpr, drh.AsSpan(b * ss, n), dgr, dhpr, variant);
                Assert.True(g.AsSpan(b * gs, 3 * n).SequenceEqual(gr) && rh.AsSpan(b * ss, n).SequenceEqual(rhr) && h.AsSpan(b * ss, n).SequenceEqual(hr), $"forward row {b} n={n}");
                Assert.True(dg.AsSpan(b * gs, 3 * n).SequenceEqual(dgr) && dhp.AsSpan(b * ss, n).SequenceEqual(dhpr), $"backward row {b} n={n}");
                LstmGateTests.AssertPadding(rh, b, ss, n);
                LstmGateTests.AssertPadding(h, b, ss, n);
                LstmGateTests.AssertPadding(dhp, b, ss, n);
                LstmGateTests.AssertPadding(dg, b, gs, 3 * n);
            }
        }
    }
}
