using RecurrentCore.Cells;
using RecurrentCore.Kernels;
using RecurrentCore.Kernels.Gates;
using RecurrentCore.Kernels.Simd;
using Xunit;

namespace RecurrentCore.Tests.Kernels;

/// <summary>
/// The streaming step's product over gate panels with the gates applied in registers
/// (<see cref="ColumnGatesKernel{TS, TV}"/>): within the fused-gate bound of a double reference computed from the
/// row-major weights; bitwise equal to the column GEMV on [W_ihᵀ; W_hhᵀ] followed by the gate kernel where the chains
/// coincide (input size ≡ 0 mod 4, or fewer than 16 lanes) when the biases are added after the product; with the biases
/// as the panels' starting sums (the streaming step's layout) within the same bound; the same bits in either register
/// order, and with one register, with h_prev and h the same buffer.
/// </summary>
[Trait("Category", "Kernels")]
public class ColumnGatesTests
{
    // Input sizes ≡ 0, 1, 2, 3 mod 4 exercise the interleaved chains' leftovers in both segments.
    private static readonly int[] InputSizes = [1, 2, 3, 4, 5, 7, 8, 13, 16, 17];

    [Theory]
    [MemberData(nameof(KernelCases.Variants), MemberType = typeof(KernelCases))]
    public void Lstm_from_panels_matches_reference_and_product_then_gates(KernelVariant variant)
    {
        var call = new Check { Gru = false };
        Assert.True(KernelCatalog.Visit<Check, bool>(variant, ref call));
    }

    [Theory]
    [MemberData(nameof(KernelCases.Variants), MemberType = typeof(KernelCases))]
    public void Gru_from_panels_matches_reference_and_product_then_gates(KernelVariant variant)
    {
        var call = new Check { Gru = true };
        Assert.True(KernelCatalog.Visit<Check, bool>(variant, ref call));
    }

    /// <summary>
    /// The panels' storage starts on a 64-byte boundary whatever the GC's placement (it aligns to 8 bytes), with room
    /// for the whole length: many allocations of many lengths land at every 8-byte offset mod 64.
    /// </summary>
    [Fact]
    public unsafe void Panel_storage_starts_on_a_64_byte_boundary()
    {
        var offsets = new HashSet<long>();
        for (int length = 1; length <= 200; length++)
        {
            var array = ColumnGatePanels.Allocate(length, out int offset);
            fixed (float* start = array)
            {
                offsets.Add((long)start % 64);
                Assert.InRange(offset, 0, 15);
                Assert.True(array.Length >= offset + length, $"length {length}: {array.Length} floats from offset {offset}");
                Assert.Equal(0, (long)(start + offset) % 64);
            }
        }

        // The placement did vary, so the offsets were exercised rather than all zero.
        Assert.True(offsets.Count > 1, $"every allocation landed at {string.Join(", ", offsets)} mod 64");
    }

    private unsafe struct Check : ISimdVisitor<bool>
    {
        public bool Gru;

        public readonly bool Visit<TS, TV>()
            where TS : struct, ISimd<TV>
            where TV : unmanaged
        {
            // The scalar width keeps the product-then-gates path (the reference's unfused order).
            Assert.False(ColumnGatesKernel<TS, TV>.Fits(TS.Count + 1));
            if (TS.Count == 1)
            {
                Assert.False(ColumnGatesKernel<TS, TV>.Fits(16));
                return true;
            }

            foreach (int n in new[] { TS.Count, 2 * TS.Count, 3 * TS.Count })
            {
                Assert.True(ColumnGatesKernel<TS, TV>.Fits(n));
                foreach (int inputs in InputSizes)
                {
                    One<TS, TV>(n, inputs);
                }
            }

            return true;
        }

        private readonly void One<TS, TV>(int n, int inputs)
            where TS : struct, ISimd<TV>
            where TV : unmanaged
        {
            string what = $"{(Gru ? "gru" : "lstm")} {typeof(TS).Name} H={n} In={inputs}";
            var rng = KernelCases.Rng($"colgates.{what}", default, 0);
            int g = Gru ? 3 : 4, rows = inputs + n, cols = 4 * n;
            var wih = KernelCases.Uniform(rng, g * n * inputs, 0.5f);
            var whh = KernelCases.Uniform(rng, g * n * n, 0.5f);
            var x = KernelCases.Uniform(rng, inputs, 1);
            var prev = KernelCases.Uniform(rng, n, 1);
            var bias = KernelCases.Uniform(rng, g * n, 0.5f);
            var biasHh = KernelCases.Uniform(rng, 3 * n, 0.5f);

            // [W_ihᵀ; W_hhᵀ] with 4H columns ([i f g o], or GRU's [r z n_x n_h] with zero blocks) and its double product.
            var wt = new float[rows * cols];
            for (int r = 0; r < rows; r++)
            {
                for (int c = 0; c < cols; c++)
                {
                    int gate = c / n, unit = c % n;
                    bool inputRow = r < inputs;
                    if (Gru && gate == 3)
                    {
                        gate = inputRow ? -1 : 2;
                    }
                    else if (Gru && gate == 2 && !inputRow)
                    {
                        gate = -1;
                    }

                    wt[(r * cols) + c] = gate < 0 ? 0 : inputRow ? wih[(((gate * n) + unit) * inputs) + r] : whh[(((gate * n) + unit) * n) + r - inputs];
                }
            }

            var z = x.Concat(prev).ToArray();
            var sums = new double[cols];
            for (int c = 0; c < cols; c++)
            {
                for (int r = 0; r < rows; r++)
                {
                    sums[c] += (double)wt[(r * cols) + c] * z[r];
                }
            }

            var panels = new float[ColumnGatePanels.Length(inputs, n, g)];
            ColumnGatePanels.Pack(wih, whh, inputs, n, g, TS.Count, panels);

            // The streaming step's panels: each register's sums start from the biases the cell puts there.
            var startSums = new float[ColumnGatePanels.StartRegisters * n];
            if (Gru)
            {
                GruCell.PanelStartSums(bias, biasHh, n, startSums);
            }
            else
            {
                LstmCell.PanelStartSums(bias, new float[4 * n], n, startSums);
            }

            var started = new float[ColumnGatePanels.Length(inputs, n, g, startSums: true)];
            ColumnGatePanels.Pack(wih, whh, inputs, n, g, TS.Count, started, startSums);

            using var mem = new GuardedMemory();
            var gp = mem.Alloc(panels);
            var gs = mem.Alloc(started);
            var gwt = mem.Alloc(wt);
            var gx = mem.Alloc(x);
            var gz = mem.Alloc(z);
            var gb = mem.Alloc(bias);
            var gbh = mem.Alloc(biasHh);
            var gates = mem.Alloc(cols);
            var hPrev = mem.Alloc(prev);
            var stateA = mem.Alloc(prev);
            var stateB = mem.Alloc(prev);
            var stateC = mem.Alloc(prev);
            var hA = mem.Alloc(n);
            var hB = mem.Alloc(n);
            var hC = mem.Alloc(n);
            var stateS = mem.Alloc(prev);
            var stateT = mem.Alloc(prev);
            var hS = mem.Alloc(n);
            var hT = mem.Alloc(n);

            // One register: the stream's state is h_prev and h at once (the product reads all of it before the gates write).
            var stateU = mem.Alloc(prev);
            var hU = mem.Alloc(prev);
            fixed (float* pp = gp, ps = gs, pwt = gwt, px = gx, pz = gz, pb = gb, pbh = gbh, pg = gates, php = hPrev)
            fixed (float* sa = stateA, sb = stateB, sc = stateC, ha = hA, hb = hB, hc = hC)
            fixed (float* ss = stateS, st = stateT, su = stateU, hs = hS, ht = hT, hu = hU)
            {
                GemvKernel<TS, TV>.MultiplyTransposed(pwt, rows, cols, pz, pg, accumulate: false);
                if (Gru)
                {
                    GruGates.ForwardFused<TS, TV>(n, pg, pb, pbh, php, ha);
                    GruGates.ForwardFromProduct<TS, TV>(pp, inputs, n, px, php, false, false, pb, pbh, hb);
                    GruGates.ForwardFromProduct<TS, TV>(pp, inputs, n, px, php, true, false, pb, pbh, hc);
                    GruGates.ForwardFromProduct<TS, TV>(ps, inputs, n, px, php, false, true, null, null, hs);
                    GruGates.ForwardFromProduct<TS, TV>(ps, inputs, n, px, php, true, true, null, null, ht);
                    if (n == TS.Count)
                    {
                        GruGates.ForwardFromProduct<TS, TV>(ps, inputs, n, px, hu, false, true, null, null, hu);
                    }
                }
                else
                {
                    // c is updated in place in the state buffers.
                    LstmGates.Forward<TS, TV>(n, pg, pb, sa, sa, ha, null, false);
                    LstmGates.ForwardFromProduct<TS, TV>(pp, inputs, n, px, php, false, false, pb, sb, sb, hb);
                    LstmGates.ForwardFromProduct<TS, TV>(pp, inputs, n, px, php, true, false, pb, sc, sc, hc);
                    LstmGates.ForwardFromProduct<TS, TV>(ps, inputs, n, px, php, false, true, null, ss, ss, hs);
                    LstmGates.ForwardFromProduct<TS, TV>(ps, inputs, n, px, php, true, true, null, st, st, ht);
                    if (n == TS.Count)
                    {
                        LstmGates.ForwardFromProduct<TS, TV>(ps, inputs, n, px, hu, false, true, null, su, su, hu);
                    }
                }
            }

            Assert.True(hB.SequenceEqual(hC) && stateB.SequenceEqual(stateC), $"{what}: register order changed the bits");
            Assert.True(hS.SequenceEqual(hT) && stateS.SequenceEqual(stateT), $"{what}: register order changed the bits (start sums)");
            if (n == TS.Count)
            {
                Assert.True(hU.SequenceEqual(hS) && stateU.SequenceEqual(stateS), $"{what}: h in place changed the bits");
            }

            if (TS.Count < 16 || inputs % 4 == 0)
            {
                Assert.True(hA.SequenceEqual(hB), $"{what}: h differs from product-then-gates");
                Assert.True(stateA.SequenceEqual(stateB), $"{what}: c differs from product-then-gates");
            }

            double[] expectH;
            var dprev = Array.ConvertAll(prev, v => (double)v);
            if (Gru)
            {
                var gi = new double[3 * n];
                var gh = new double[3 * n];
                Array.Copy(sums, gi, 3 * n);
                Array.Copy(sums, 3 * n, gh, 2 * n, n);
                expectH = GateReference.GruForward(gi, gh, Array.ConvertAll(bias, v => (double)v), Array.ConvertAll(biasHh, v => (double)v), dprev, n).H;
            }
            else
            {
                var r = GateReference.LstmForward(sums, Array.ConvertAll(bias, v => (double)v), dprev, n);
                KernelCases.Close(stateB, r.C, 1e-5, 1e-5, $"{what} c");
                KernelCases.Close(stateS, r.C, 1e-5, 1e-5, $"{what} c (start sums)");
                expectH = r.H;
            }

            // The product's rounding (Σ|w·z| ≤ rows/2) on top of the gate kernel's 1e-6 bound.
            KernelCases.Close(hB, expectH, 1e-5, 1e-5, $"{what} h");
            KernelCases.Close(hS, expectH, 1e-5, 1e-5, $"{what} h (start sums)");
            mem.Verify();
        }
    }
}
