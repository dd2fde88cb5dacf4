using RecurrentCore.Cells;
using RecurrentCore.Kernels;
using RecurrentCore.Kernels.Quantized;
using RecurrentCore.Kernels.Simd;
using RecurrentCore.Tests.Kernels;
using Xunit;

namespace RecurrentCore.Tests.Quantized;

/// <summary>
/// The bfloat16 and int8 GEMV on every variant: bfloat16 against the double product of the widened weights within the
/// float32 accumulation bound; int8 bit for bit against a scalar emulation of the integer arithmetic.
/// </summary>
[Trait("Category", "Kernels")]
public unsafe class QuantizedGemvTests
{
    private static readonly (int Rows, int Cols)[] Shapes =
        [(1, 1), (1, 64), (3, 7), (4, 63), (5, 65), (7, 130), (16, 256), (17, 333), (64, 1031)];

    public static TheoryData<KernelVariant> Variants() => KernelCases.Variants();

    [Theory]
    [MemberData(nameof(Variants))]
    public void BFloat16_matches_double_on_widened_weights(KernelVariant variant)
    {
        foreach (var (rows, cols) in Shapes)
        {
            foreach (bool accumulate in new[] { false, true })
            {
                var rng = KernelCases.Rng(nameof(BFloat16_matches_double_on_widened_weights), variant, (rows * 10_000) + cols);
                var w = KernelCases.Uniform(rng, rows * cols, 1f);
                var x = KernelCases.Uniform(rng, cols, 2f);
                var y0 = KernelCases.Uniform(rng, rows, 1f);
                var m = new QuantizedMatrix(w, rows, cols, WeightFormat.BFloat16);
                var dq = m.Dequantize();
                var xp = new float[m.Stride];
                var y = (float[])y0.Clone();
                fixed (float* px0 = x)
                fixed (float* px = xp)
                fixed (float* py = y)
                {
                    var call = new Bf16Call { M = m, X0 = px0, X = px, Y = py, Accumulate = accumulate };
                    KernelCatalog.Visit<Bf16Call, bool>(variant, ref call);
                }

                for (int r = 0; r < rows; r++)
                {
                    double e = accumulate ? y0[r] : 0, mag = accumulate ? Math.Abs(y0[r]) : 0;
                    for (int c = 0; c < cols; c++)
                    {
                        e += dq[(r * cols) + c] * x[c];
                        mag += Math.Abs(dq[(r * cols) + c] * x[c]);
                    }

                    // Each product is exact in a fused step; at most stride + 8 roundings of 2⁻²⁴ on partial sums ≤ mag.
                    double bound = (m.Stride + 8) * Math.Pow(2, -24) * mag;
                    Assert.True(Math.Abs(y[r] - e) <= bound, $"{rows}x{cols} row {r} acc={accumulate}: {y[r]:R} vs {e:R}, bound {bound:E2}");
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void Int8_matches_the_integer_emulation_bitwise(KernelVariant variant)
    {
        foreach (var (rows, cols) in Shapes)
        {
            foreach (bool extreme in new[] { false, true })
            {
                var rng = KernelCases.Rng(nameof(Int8_matches_the_integer_emulation_bitwise), variant, (rows * 10_000) + cols + (extreme ? 1 : 0));
                // Extreme: every weight and input at ±max, so every product is ±127·127 (the largest sums).
                var w = extreme ? Signs(rng, rows * cols, 0.75f) : KernelCases.Uniform(rng, rows * cols, 0.5f);
                var x = extreme ? Signs(rng, cols, 3f) : KernelCases.Uniform(rng, cols, 3f);
                var m = new QuantizedMatrix(w, rows, cols, WeightFormat.Int8);
                var u = new byte[m.Stride];
                float sx;
                fixed (float* px = x)
                fixed (byte* pu = u)
                {
                    sx = Int8Quantizer.QuantizeUnsigned(px, cols, pu);
                }

                var y0 = KernelCases.Uniform(rng, rows, 1f);
                foreach (bool accumulate in new[] { false, true })
                {
                    var y = (float[])y0.Clone();
                    fixed (byte* pu = u)
                    fixed (float* py = y)
                    {
                        var call = new Int8Call { M = m, U = pu, Scale = sx, Y = py, Accumulate = accumulate };
                        KernelCatalog.Visit<Int8Call, bool>(variant, ref call);
                    }

                    var q = m.Int8Values;
                    for (int r = 0; r < rows; r++)
                    {
                        long dot = 0;
                        for (int c = 0; c < cols; c++)
                        {
                            dot += q[(r * m.Stride) + c] * (u[c] - 128);
                        }

                        float v = (float)dot * (m.Scales[r] * sx);
                        float e = accumulate ? y0[r] + v : v;
                        Assert.True(BitConverter.SingleToInt32Bits(e) == BitConverter.SingleToInt32Bits(y[r]), $"{rows}x{cols} row {r} extreme={extreme} acc={accumulate}: {y[r]:R} vs {e:R}");
                    }
                }
            }
        }
    }

    [Fact]
    public void Int8_quantization_is_symmetric_round_to_nearest()
    {
        var rng = new Random(3);
        var v = KernelCases.Uniform(rng, 1000, 5f);
        v[17] = -5.5f;
        float s = Int8Quantizer.Scale(v);
        Assert.Equal(5.5 / 127, s, 1e-7);
        var u = new byte[v.Length];
        fixed (float* pv = v)
        fixed (byte* pu = u)
        {
            Assert.Equal(s, Int8Quantizer.QuantizeUnsigned(pv, v.Length, pu));
        }

        for (int i = 0; i < v.Length; i++)
        {
            int q = u[i] - 128;
            Assert.InRange(q, -127, 127);
            Assert.True(Math.Abs((q * (double)s) - v[i]) <= (s / 2) * (1 + 1e-6), $"{i}: {v[i]} → {q}");
            Assert.Equal(q, Int8Quantizer.Quantize(v[i], s));
        }

        Assert.Equal(-127, u[17] - 128);
        Assert.Throws<ArgumentException>(() => Int8Quantizer.Scale([1f, float.NaN]));
    }

    private static float[] Signs(Random rng, int n, float value)
    {
        var a = new float[n];
        for (int i = 0; i < n; i++)
        {
            a[i] = rng.Next(2) == 0 ? value : -value;
        }

        return a;
    }

    private struct Bf16Call : ISimdVisitor<bool>
    {
        public QuantizedMatrix M;
        public float* X0;
        public float* X;
        public float* Y;
        public bool Accumulate;

        public readonly bool Visit<TS, TV>()
            where TS : struct, ISimd<TV>
            where TV : unmanaged
        {
            BFloat16GemvKernel<TS, TV>.PrepareInput(X0, M.Columns, M.Stride, X);
            BFloat16GemvKernel<TS, TV>.Multiply(M.BFloat16Bits, M.Rows, M.Stride, X, Y, Accumulate);
            return true;
        }
    }

    private struct Int8Call : ISimdVisitor<bool>
    {
        public QuantizedMatrix M;
        public byte* U;
        public float Scale;
        public float* Y;
        public bool Accumulate;

        public readonly bool Visit<TS, TV>()
            where TS : struct, ISimd<TV>
            where TV : unmanaged
        {
            Int8GemvKernel<TS, TV>.Multiply(M.Int8, M.RowSums, M.Scales, M.Rows, M.Stride, U, Scale, Y, Accumulate);
            return true;
        }
    }
}
