using RecurrentCore.Kernels;
using RecurrentCore.Kernels.Gates;
using Xunit;

namespace RecurrentCore.Tests.Kernels;

[Trait("Category", "Kernels")]
public class LstmGateTests
{
    // Fused-kernel bound (docs/kernels-gates.md): |err| ≤ Atol + Rtol·|ref| for inputs of order 1.
    internal const double Atol = 1e-6;
    internal const double Rtol = 1e-6;

    [Theory]
    [MemberData(nameof(KernelCases.Variants), MemberType = typeof(KernelCases))]
    public void Forward_matches_reference_for_every_size(KernelVariant variant)
    {
        foreach (int n in KernelCases.AllSizes)
        {
            var rng = KernelCases.Rng("lstm.fwd", variant, n);
            var pre = KernelCases.Uniform(rng, 4 * n, 4);
            var bias = n % 2 == 0 ? KernelCases.Uniform(rng, 4 * n, 1) : [];
            var cp = KernelCases.Uniform(rng, n, 2);
            var (act, c, h, tc) = GateReference.LstmForward(pre, bias, cp, n);

            using var mem = new GuardedMemory();
            var g = mem.Alloc(pre);
            var b = bias.Length == 0 ? default : mem.Alloc(bias);
            var cps = mem.Alloc(cp);
            var cs = mem.Alloc(n);
            var hs = mem.Alloc(n);
            var tcs = mem.Alloc(n);
            LstmGates.Forward(n, g, b, cps, cs, hs, tcs, saveActivations: true, variant);
            KernelCases.Close(g, act, Atol, Rtol, $"gates n={n}");
            KernelCases.Close(cs, c, Atol, Rtol, $"c n={n}");
            KernelCases.Close(hs, h, Atol, Rtol, $"h n={n}");
            KernelCases.Close(tcs, tc, Atol, Rtol, $"tanh c n={n}");

            // Inference: gates untouched, no tanh(c), c written over c_prev, same bits.
            var g2 = mem.Alloc(pre);
            var h2 = mem.Alloc(n);
            LstmGates.Forward(n, g2, b, cps, cps, h2, default, saveActivations: false, variant);
            Assert.True(g2.SequenceEqual(pre), $"inference wrote gates n={n}");
            Assert.True(cps.SequenceEqual(cs) && h2.SequenceEqual(hs), $"inference differs n={n}");
            mem.Verify();
        }
    }

    [Theory]
    [MemberData(nameof(KernelCases.Variants), MemberType = typeof(KernelCases))]
    public void Backward_matches_reference_for_every_size(KernelVariant variant)
    {
        foreach (int n in KernelCases.AllSizes)
        {
            var rng = KernelCases.Rng("lstm.bwd", variant, n);
            var act = KernelCases.Uniform(rng, 4 * n, 1);
            for (int k = 0; k < 4 * n; k++)
            {
                act[k] = k >= 2 * n && k < 3 * n ? act[k] : (act[k] + 1) / 2;
            }

            var cp = KernelCases.Uniform(rng, n, 2);
            var c = KernelCases.Uniform(rng, n, 2);
            var tc = new float[n];
            for (int j = 0; j < n; j++)
            {
                tc[j] = MathF.Tanh(c[j]);
            }

            var dh = KernelCases.Uniform(rng, n, 1);
            var dc = n % 3 == 0 ? [] : KernelCases.Uniform(rng, n, 1);
            var (dg, dcp) = GateReference.LstmBackward(act, cp, GateReference.ToDouble(tc), dh, dc, n);

            using var mem = new GuardedMemory();
            var a = mem.Alloc(act);
            var cps = mem.Alloc(cp);
            var tcs = mem.Alloc(tc);
            var dhs = mem.Alloc(dh);
            var dcs = dc.Length == 0 ? default : mem.Alloc(dc);
            var dgs = mem.Alloc(4 * n);
            var dcps = mem.Alloc(n);
            LstmGates.Backward(n, a, cps, default, tcs, dhs, dcs, dgs, dcps, variant);
            KernelCases.Close(dgs, dg, Atol, Rtol, $"dGates n={n}");
            KernelCases.Close(dcps, dcp, Atol, Rtol, $"dcPrev n={n}");

            // tanh(c) recomputed from c: same maths within the activation bound.
            var cs = mem.Alloc(c);
            var dgs2 = mem.Alloc(4 * n);
            var dcps2 = mem.Alloc(n);
            LstmGates.Backward(n, a, cps, cs, default, dhs, dcs, dgs2, dcps2, variant);
            var (dgC, dcpC) = GateReference.LstmBackward(act, cp, GateReference.ToDouble(tc), dh, dc, n);
            KernelCases.Close(dgs2, dgC, 2 * Atol, 2 * Rtol, $"dGates from c n={n}");
            KernelCases.Close(dcps2, dcpC, 2 * Atol, 2 * Rtol, $"dcPrev from c n={n}");

            // In place: dGates over the activations, dcPrev over dc: same bits.
            if (!dcs.IsEmpty)
            {
                LstmGates.Backward(n, a, cps, default, tcs, dhs, dcs, a, dcs, variant);
                Assert.True(a.SequenceEqual(dgs) && dcs.SequenceEqual(dcps), $"in place differs n={n}");
            }

            mem.Verify();
        }
    }

    [Theory]
    [MemberData(nameof(KernelCases.Variants), MemberType = typeof(KernelCases))]
    public void Forward_then_backward_matches_finite_differences(KernelVariant variant)
    {
        foreach (int n in KernelCases.FiniteDifferenceSizes)
        {
            var rng = KernelCases.Rng("lstm.fd", variant, n);
            var pre = KernelCases.Uniform(rng, 4 * n, 2);
            var bias = KernelCases.Uniform(rng, 4 * n, 0.5f);
            var cp = KernelCases.Uniform(rng, n, 1);
            var dh = KernelCases.Uniform(rng, n, 1);
            var dc = KernelCases.Uniform(rng, n, 1);

            var g = (float[])pre.Clone();
            var c = new float[n];
            var h = new float[n];
            var tc = new float[n];
            LstmGates.Forward(n, g, bias, cp, c, h, tc, saveActivations: true, variant);
            var dg = new float[4 * n];
            var dcp = new float[n];
            LstmGates.Backward(n, g, cp, default, tc, dh, dc, dg, dcp, variant);

            var preD = GateReference.ToDouble(pre);
            var biasD = GateReference.ToDouble(bias);
            var cpD = GateReference.ToDouble(cp);
            double Loss()
            {
                var (_, cc, hh, _) = GateReference.LstmForward(preD, biasD, cpD, n);
                return GateReference.Dot(hh, dh) + GateReference.Dot(cc, dc);
            }

            KernelCases.Close(dg, GateReference.Gradient(preD, Loss), 1e-5, 1e-5, $"dGates vs FD n={n}");
            KernelCases.Close(dcp, GateReference.Gradient(cpD, Loss), 1e-5, 1e-5, $"dcPrev vs FD n={n}");
        }
    }

    [Theory]
    [MemberData(nameof(KernelCases.Variants), MemberType = typeof(KernelCases))]
    public void Batch_rows_with_strides_equal_row_calls(KernelVariant variant)
    {
        foreach (int n in new[] { 1, 5, 17, 64 })
        {
            const int batch = 3;
            int gs = (4 * n) + 3, ss = n + 2;
            var rng = KernelCases.Rng("lstm.batch", variant, n);
            var pre = KernelCases.Uniform(rng, batch * gs, 3);
            var bias = KernelCases.Uniform(rng, 4 * n, 1);
            var cp = KernelCases.Uniform(rng, batch * ss, 2);
            var g = (float[])pre.Clone();
            var c = Filled(batch * ss);
            var h = Filled(batch * ss);
            var tc = Filled(batch * ss);
            LstmGates.Forward(batch, n, g, gs, bias, cp, ss, c, ss, h, ss, tc, ss, saveActivations: true, variant);

            var dh = KernelCases.Uniform(rng, batch * ss, 1);
            var dc = KernelCases.Uniform(rng, batch * ss, 1);
            var dg = Filled(batch * gs);
            var dcp = Filled(batch * ss);
            LstmGates.Backward(batch, n, g, gs, cp, ss, default, 0, tc, ss, dh, ss, dc, ss, dg, gs, dcp, ss, variant);

            for (int b = 0; b < batch; b++)
            {
                var gr = pre.AsSpan(b * gs, 4 * n).ToArray();
                var cr = new float[n];
                var hr = new float[n];
                var tcr = new float[n];
                LstmGates.Forward(n, gr, bias, cp.AsSpan(b * ss, n), cr, hr, tcr, saveActivations: true, variant);
                Assert.True(g.AsSpan(b * gs, 4 * n).SequenceEqual(gr) && c.AsSpan(b * ss, n).SequenceEqual(cr) && h.AsSpan(b * ss, n).SequenceEqual(hr), $"forward row {b} n={n}");
                var dgr = new float[4 * n];
                var dcpr = new float[n];
                LstmGates.Backward(n, gr, cp.AsSpan(b * ss, n), default, tcr, dh.AsSpan(b * ss, n), dc.AsSpan(b * ss, n), dgr, dcpr, variant);
                Assert.True(dg.AsSpan(b * gs, 4 * n).SequenceEqual(dgr) && dcp.AsSpan(b * ss, n).SequenceEqual(dcpr), $"backward row {b} n={n}");
                AssertPadding(c, b, ss, n);
                AssertPadding(h, b, ss, n);
                AssertPadding(dcp, b, ss, n);
                AssertPadding(dg, b, gs, 4 * n);
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
            var rng = KernelCases.Rng("lstm.extreme", variant, n);
            var pre = new float[4 * n];
            for (int k = 0; k < pre.Length; k++)
            {
                pre[k] = pool[rng.Next(pool.Length)];
            }

            var cp = KernelCases.Uniform(rng, n, 1e3f);
            var g = (float[])pre.Clone();
            var c = new float[n];
            var h = new float[n];
            var tc = new float[n];
            LstmGates.Forward(n, g, default, cp, c, h, tc, saveActivations: true, variant);
            for (int j = 0; j < n; j++)
            {
                bool nanCell = float.IsNaN(pre[j]) || float.IsNaN(pre[n + j]) || float.IsNaN(pre[(2 * n) + j]);
                bool nanH = nanCell || float.IsNaN(pre[(3 * n) + j]);
                Assert.Equal(nanCell, float.IsNaN(c[j]));
                Assert.Equal(nanH, float.IsNaN(h[j]));
                Assert.True(nanCell || float.IsFinite(c[j]), $"c[{j}] = {c[j]}");
                Assert.True(nanH || (h[j] >= -1 && h[j] <= 1), $"h[{j}] = {h[j]}");
            }

            for (int k = 0; k < 4 * n; k++)
            {
                Assert.True(float.IsNaN(pre[k]) == float.IsNaN(g[k]), $"gate {k}: {pre[k]} -> {g[k]}");
                Assert.True(float.IsNaN(g[k]) || Math.Abs(g[k]) <= 1, $"gate {k}: {pre[k]} -> {g[k]}");
            }

            var dh = KernelCases.Uniform(rng, n, 1);
            var dg = new float[4 * n];
            var dcp = new float[n];
            LstmGates.Backward(n, g, cp, default, tc, dh, default, dg, dcp, variant);
            for (int j = 0; j < n; j++)
            {
                bool anyNan = float.IsNaN(h[j]);
                Assert.True(anyNan || float.IsFinite(dcp[j]), $"dcPrev[{j}] = {dcp[j]}");
            }
        }
    }

    [Fact]
    public void Wrong_lengths_throw()
    {
        var g = new float[8];
        var s = new float[2];
        Assert.Throws<ArgumentException>(() => LstmGates.Forward(2, g, default, s, s, new float[3], default, true));
        Assert.Throws<ArgumentException>(() => LstmGates.Forward(2, g, new float[3], s, s, s, default, true));
        Assert.Throws<ArgumentException>(() => LstmGates.Backward(2, g, s, default, default, s, default, g, s));
        Assert.Throws<ArgumentException>(() => LstmGates.Forward(2, 2, new float[15], 8, default, new float[4], 2, new float[4], 2, new float[4], 2, default, 0, true));
        Assert.Throws<ArgumentException>(() => LstmGates.Forward(2, 2, new float[16], 7, default, new float[4], 2, new float[4], 2, new float[4], 2, default, 0, true));
    }

    internal static float[] Filled(int n)
    {
        var a = new float[n];
        Array.Fill(a, -7.25f);
        return a;
    }

    internal static void AssertPadding(float[] buffer, int row, int stride, int rowLength)
    {
        int end = Math.Min(buffer.Length, (row + 1) * stride);
        for (int k = (row * stride) + rowLength; k < end; k++)
        {
            Assert.True(buffer[k] == -7.25f, $"padding {k} written");
        }
    }
}
