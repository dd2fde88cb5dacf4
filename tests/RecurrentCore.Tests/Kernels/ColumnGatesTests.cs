using RecurrentCore.Kernels;
using RecurrentCore.Kernels.Gates;
using RecurrentCore.Kernels.Simd;
using Xunit;

namespace RecurrentCore.Tests.Kernels;

/// <summary>
/// The streaming step's product with the gates applied in registers (<see cref="ColumnGatesKernel{TS, TV}"/>): bitwise
/// equal to the column GEMV followed by the gate kernel, and within the fused-gate bound of a double reference computed
/// from the weights (not from either kernel).
/// </summary>
[Trait("Category", "Kernels")]
public class ColumnGatesTests
{
    // Rows (In + H) ≡ 0, 1, 2, 3 mod 4 exercise the interleaved chains' leftovers.
    private static readonly int[] RowCounts = [1, 2, 3, 4, 5, 6, 7, 17, 30, 32, 67];

    [Theory]
    [MemberData(nameof(KernelCases.Variants), MemberType = typeof(KernelCases))]
    public void Lstm_from_product_equals_product_then_gates(KernelVariant variant)
    {
        var call = new Check { Gru = false };
        Assert.True(KernelCatalog.Visit<Check, bool>(variant, ref call));
    }

    [Theory]
    [MemberData(nameof(KernelCases.Variants), MemberType = typeof(KernelCases))]
    public void Gru_from_product_equals_product_then_gates(KernelVariant variant)
    {
        var call = new Check { Gru = true };
        Assert.True(KernelCatalog.Visit<Check, bool>(variant, ref call));
    }

    private unsafe struct Check : ISimdVisitor<bool>
    {
        public bool Gru;

        public readonly bool Visit<TS, TV>()
            where TS : struct, ISimd<TV>
            where TV : unmanaged
        {
            Assert.Equal(TS.Count == 1, ColumnGatesKernel<TS, TV>.Fits(TS.Count + 1));
            foreach (int n in new[] { TS.Count, 2 * TS.Count, 3 * TS.Count, 4 * TS.Count })
            {
                foreach (int rows in RowCounts)
                {
                    Assert.True(ColumnGatesKernel<TS, TV>.Fits(n));
                    One<TS, TV>(n, rows);
                }
            }

            return true;
        }

        private readonly void One<TS, TV>(int n, int rows)
            where TS : struct, ISimd<TV>
            where TV : unmanaged
        {
            string what = $"{(Gru ? "gru" : "lstm")} {typeof(TS).Name} n={n} rows={rows}";
            var rng = KernelCases.Rng($"colgates.{what}", default, 0);
            int cols = 4 * n;
            var w = KernelCases.Uniform(rng, rows * cols, 0.5f);
            var z = KernelCases.Uniform(rng, rows, 1);
            var bias = KernelCases.Uniform(rng, Gru ? 3 * n : 4 * n, 0.5f);
            var biasHh = KernelCases.Uniform(rng, 3 * n, 0.5f);
            var prev = KernelCases.Uniform(rng, n, 1);

            // Independent expectation: the double product, then the double gate reference.
            var sums = new double[cols];
            for (int c = 0; c < cols; c++)
            {
                for (int r = 0; r < rows; r++)
                {
                    sums[c] += (double)w[(r * cols) + c] * z[r];
                }
            }

            using var mem = new GuardedMemory();
            var gw = mem.Alloc(w);
            var gz = mem.Alloc(z);
            var gb = mem.Alloc(bias);
            var gbh = mem.Alloc(biasHh);
            var gates = mem.Alloc(cols);
            var prevA = mem.Alloc(prev);
            var prevB = mem.Alloc(prev);
            var hA = mem.Alloc(n);
            var hB = mem.Alloc(n);
            fixed (float* pw = gw, pz = gz, pb = gb, pbh = gbh, pg = gates, pa = prevA, pbb = prevB, ha = hA, hb = hB)
            {
                GemvKernel<TS, TV>.MultiplyTransposed(pw, rows, cols, pz, pg, accumulate: false);
                if (Gru)
                {
                    GruGates.ForwardFused<TS, TV>(n, pg, pb, pbh, pa, ha);
                    GruGates.ForwardFromProduct<TS, TV>(pw, rows, n, pz, pb, pbh, pbb, hb);
                }
                else
                {
                    // c is updated in place (c_prev buffers A and B), h goes to its own buffer.
                    LstmGates.Forward<TS, TV>(n, pg, pb, pa, pa, ha, null, false);
                    LstmGates.ForwardFromProduct<TS, TV>(pw, rows, n, pz, pb, pbb, pbb, hb);
                }
            }

            Assert.True(hA.SequenceEqual(hB), $"{what}: h differs from product-then-gates");
            Assert.True(prevA.SequenceEqual(prevB), $"{what}: c differs from product-then-gates");
            double[] expectH;
            if (Gru)
            {
                var gi = new double[3 * n];
                var gh = new double[3 * n];
                for (int k = 0; k < 2 * n; k++)
                {
                    gi[k] = sums[k];
                }

                for (int k = 0; k < n; k++)
                {
                    gi[(2 * n) + k] = sums[(2 * n) + k];
                    gh[(2 * n) + k] = sums[(3 * n) + k];
                }

                expectH = GateReference.GruForward(gi, gh, Array.ConvertAll(bias, v => (double)v), Array.ConvertAll(biasHh, v => (double)v), Array.ConvertAll(prev, v => (double)v), n).H;
            }
            else
            {
                var r = GateReference.LstmForward(sums, Array.ConvertAll(bias, v => (double)v), Array.ConvertAll(prev, v => (double)v), n);
                KernelCases.Close(prevB, r.C, 1e-5, 1e-5, $"{what} c");
                expectH = r.H;
            }

            // The product adds its own rounding (Σ|w·z| ≤ rows/2) to the gate kernel's bound.
            KernelCases.Close(hB, expectH, 1e-5, 1e-5, $"{what} h");
            mem.Verify();
        }
    }
}
