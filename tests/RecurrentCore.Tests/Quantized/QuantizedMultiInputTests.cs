using RecurrentCore.Cells;
using RecurrentCore.Kernels;
using RecurrentCore.Kernels.Quantized;
using RecurrentCore.Kernels.Simd;
using RecurrentCore.Layers;
using RecurrentCore.Tests.Kernels;
using RecurrentCore.Tests.Reference;
using Xunit;
using static RecurrentCore.Tests.Layers.FastPathHarness;

namespace RecurrentCore.Tests.Quantized;

/// <summary>
/// What a quantized Forward adds to the step: the multi-input bf16/int8 products equal the one-input kernels bit for bit
/// on every variant and shape (row and input remainders included); the vectorised per-step quantizer equals the scalar
/// one; and Forward over several chunks equals stepping, bit for bit.
/// </summary>
[Trait("Category", "Kernels")]
public unsafe class QuantizedMultiInputTests
{
    private static readonly (int Rows, int Cols, int Inputs)[] Shapes =
        [(1, 1, 1), (3, 7, 5), (4, 63, 4), (5, 65, 8), (7, 130, 3), (17, 333, 9), (64, 256, 32), (300, 129, 6), (1024, 64, 4), (129, 70, 5)];

    public static TheoryData<KernelVariant> Variants() => KernelCases.Variants();

    [Theory]
    [MemberData(nameof(Variants))]
    public void BFloat16_many_inputs_equal_one_at_a_time(KernelVariant variant)
    {
        foreach (var (rows, cols, inputs) in Shapes)
        {
            var rng = KernelCases.Rng(nameof(BFloat16_many_inputs_equal_one_at_a_time), variant, (rows * 1000) + cols + inputs);
            var m = new QuantizedMatrix(KernelCases.Uniform(rng, rows * cols, 1f), rows, cols, WeightFormat.BFloat16);
            var x = KernelCases.Uniform(rng, inputs * cols, 2f);
            int yStride = rows + 3;
            var many = new float[inputs * yStride];
            var one = new float[inputs * yStride];
            fixed (float* px = x)
            fixed (float* pm = many)
            fixed (float* po = one)
            {
                var call = new Bf16Many { M = m, X = px, Inputs = inputs, Many = pm, One = po, YStride = yStride };
                KernelCatalog.Visit<Bf16Many, bool>(variant, ref call);
            }

            Assert.True(many.AsSpan().SequenceEqual(one), $"{rows}x{cols}, {inputs} inputs");
        }
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void Int8_many_inputs_equal_one_at_a_time(KernelVariant variant)
    {
        foreach (var (rows, cols, inputs) in Shapes)
        {
            var rng = KernelCases.Rng(nameof(Int8_many_inputs_equal_one_at_a_time), variant, (rows * 1000) + cols + inputs);
            var m = new QuantizedMatrix(KernelCases.Uniform(rng, rows * cols, 1f), rows, cols, WeightFormat.Int8);
            var x = KernelCases.Uniform(rng, inputs * cols, 2f);
            var u = new byte[inputs * m.Stride];
            var scales = new float[inputs];
            fixed (float* px = x)
            fixed (byte* pu = u)
            {
                for (int j = 0; j < inputs; j++)
                {
                    scales[j] = Int8Quantizer.QuantizeUnsigned(px + (j * cols), cols, pu + (j * m.Stride));
                }
            }

            int yStride = rows + 1;
            var many = new float[inputs * yStride];
            var one = new float[inputs * yStride];
            fixed (byte* pu = u)
            fixed (float* ps = scales)
            fixed (float* pm = many)
            fixed (float* po = one)
            {
                var call = new Int8Many { M = m, U = pu, Scales = ps, Inputs = inputs, Many = pm, One = po, YStride = yStride };
                KernelCatalog.Visit<Int8Many, bool>(variant, ref call);
            }

            Assert.True(many.AsSpan().SequenceEqual(one), $"{rows}x{cols}, {inputs} inputs");
        }
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void BFloat16_column_product_matches_double_on_widened_weights(KernelVariant variant)
    {
        foreach (var (rows, cols, _) in Shapes)
        {
            foreach (bool accumulate in new[] { false, true })
            {
                var rng = KernelCases.Rng(nameof(BFloat16_column_product_matches_double_on_widened_weights), variant, (rows * 1000) + cols);
                var m = new QuantizedMatrix(KernelCases.Uniform(rng, rows * cols, 1f), rows, cols, WeightFormat.BFloat16);
                var dq = m.Dequantize();
                // One float past the columns holds NaN: an odd last column must not read it.
                var x = KernelCases.Uniform(rng, cols + 1, 2f);
                x[cols] = float.NaN;
                var y0 = KernelCases.Uniform(rng, rows, 1f);
                var y = (float[])y0.Clone();
                fixed (float* px = x)
                fixed (float* py = y)
                {
                    var call = new Bf16Columns { M = m, X = px, Y = py, Accumulate = accumulate };
                    KernelCatalog.Visit<Bf16Columns, bool>(variant, ref call);
                }

                for (int r = 0; r < rows; r++)
                {
                    double e = accumulate ? y0[r] : 0, mag = accumulate ? Math.Abs(y0[r]) : 0;
                    for (int c = 0; c < cols; c++)
                    {
                        e += dq[(r * cols) + c] * x[c];
                        mag += Math.Abs(dq[(r * cols) + c] * x[c]);
                    }

                    // Sequential fused sum: at most cols + 1 roundings of 2⁻²⁴ on partial sums ≤ mag.
                    double bound = (cols + 1) * Math.Pow(2, -24) * mag;
                    Assert.True(Math.Abs(y[r] - e) <= bound, $"{rows}x{cols} row {r} acc={accumulate}: {y[r]:R} vs {e:R}, bound {bound:E2}");
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void Int8_column_packed_product_equals_the_row_product(KernelVariant variant)
    {
        foreach (var (rows, cols, extreme) in Shapes.Select(s => (s.Rows, s.Cols, false)).Concat([(300, 129, false), (1024, 256, false), (33, 2, false), (70, 258, true), (16, 64, true)]))
        {
            var rng = KernelCases.Rng(nameof(Int8_column_packed_product_equals_the_row_product), variant, (rows * 1000) + cols);
            // Extreme: every weight and input at ±max, so every pair of products is ±2·127·127 (the largest 16-bit sums).
            var m = new QuantizedMatrix(extreme ? Signs(rng, rows * cols, 0.5f) : KernelCases.Uniform(rng, rows * cols, 1f), rows, cols, WeightFormat.Int8);
            var x = extreme ? Signs(rng, cols, 3f) : KernelCases.Uniform(rng, cols, 2f);
            var u = new byte[m.Stride];
            u.AsSpan().Fill(0xA5); // the padding a column product may read must not matter
            float sx;
            fixed (float* px = x)
            fixed (byte* pu = u)
            {
                sx = Int8Quantizer.QuantizeUnsigned(px, cols, pu);
            }

            var y0 = KernelCases.Uniform(rng, rows, 1f);
            foreach (bool accumulate in new[] { false, true })
            {
                var rowsY = (float[])y0.Clone();
                var colsY = (float[])y0.Clone();
                fixed (byte* pu = u)
                fixed (float* pr = rowsY)
                fixed (float* pc = colsY)
                {
                    var call = new Int8Columns { M = m, U = pu, Scale = sx, Rows = pr, Columns = pc, Accumulate = accumulate };
                    KernelCatalog.Visit<Int8Columns, bool>(variant, ref call);
                }

                Assert.True(rowsY.AsSpan().SequenceEqual(colsY), $"{rows}x{cols} acc={accumulate}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void Vectorised_quantizer_equals_the_scalar_one(KernelVariant variant)
    {
        var rng = KernelCases.Rng(nameof(Vectorised_quantizer_equals_the_scalar_one), variant, 0);
        var cases = new List<float[]>();
        foreach (int n in new[] { 1, 3, 15, 16, 17, 64, 70, 257 })
        {
            cases.Add(KernelCases.Uniform(rng, n, 3f));
        }

        // Ties (k + 1/2 after scaling by 127 / max), zeros, a non-finite value, values whose |x| sum overflows.
        cases.Add([.. Enumerable.Range(-127, 255).Select(k => k + 0.5f), 127.5f]);
        cases.Add(new float[40]);
        cases.Add([.. KernelCases.Uniform(rng, 33, 1f), float.NaN, 0.5f]);
        cases.Add([.. KernelCases.Uniform(rng, 20, 1f), float.NegativeInfinity]);
        cases.Add([.. Enumerable.Repeat(3e38f, 24), -1e38f]);
        foreach (var x in cases)
        {
            var expected = new byte[x.Length];
            var actual = new byte[x.Length];
            var scratch = new float[x.Length];
            float se, sa;
            fixed (float* px = x)
            fixed (byte* pe = expected)
            fixed (byte* pa = actual)
            fixed (float* pscr = scratch)
            {
                se = Int8Quantizer.QuantizeUnsigned(px, x.Length, pe);
                var call = new Quantize { X = px, N = x.Length, U = pa, Scratch = pscr };
                sa = KernelCatalog.Visit<Quantize, float>(variant, ref call);
            }

            Assert.Equal(BitConverter.SingleToInt32Bits(se), BitConverter.SingleToInt32Bits(sa));
            Assert.Equal(expected, actual);
        }
    }

    public static TheoryData<KernelVariant, CellKind, WeightFormat> LayerCases()
    {
        var data = new TheoryData<KernelVariant, CellKind, WeightFormat>();
        foreach (var v in KernelCatalog.Supported)
        {
            foreach (var cell in new[] { CellKind.Lstm, CellKind.Gru, CellKind.RnnTanh })
            {
                data.Add(v, cell, WeightFormat.BFloat16);
                data.Add(v, cell, WeightFormat.Int8);
            }
        }

        return data;
    }

    /// <summary>T·B = 120 rows: four chunks of 30 (t, b) rows (ChunkInputs / B = 10 steps), the last one short, two layers.</summary>
    [Theory]
    [MemberData(nameof(LayerCases))]
    public void Forward_over_chunks_equals_stepping(KernelVariant variant, CellKind cell, WeightFormat format)
    {
        var rng = new Random(31);
        var cfg = new RecurrentConfig(cell, 70, 45, numLayers: 2, batchFirst: true);
        var q = QuantizedLayer.FromParameters(Parameters(cfg, rng, 0.3), format, variant);
        const int T = 37, B = 3;
        var x = ToSingle(RandomData.Normal(rng, T * B * cfg.InputSize));
        var y = new float[T * B * cfg.HiddenSize];
        var hN = new float[cfg.NumLayers * B * cfg.HiddenSize];
        q.Forward(q.CreateStream(B), x, T, y, hN);

        var stream = q.CreateStream(B);
        var xt = new float[B * cfg.InputSize];
        var yt = new float[B * cfg.HiddenSize];
        for (int t = 0; t < T; t++)
        {
            for (int b = 0; b < B; b++)
            {
                x.AsSpan(((b * T) + t) * cfg.InputSize, cfg.InputSize).CopyTo(xt.AsSpan(b * cfg.InputSize));
            }

            stream.Step(xt, yt);
            for (int b = 0; b < B; b++)
            {
                Assert.True(yt.AsSpan(b * cfg.HiddenSize, cfg.HiddenSize).SequenceEqual(y.AsSpan(((b * T) + t) * cfg.HiddenSize, cfg.HiddenSize)), $"t {t} b {b}");
            }
        }

        Assert.Equal(hN, stream.HiddenState.ToArray());
    }

    private static float[] Signs(Random rng, int n, float value) =>
        [.. Enumerable.Range(0, n).Select(_ => rng.Next(2) == 0 ? value : -value)];

    private struct Bf16Many : ISimdVisitor<bool>
    {
        public QuantizedMatrix M;
        public float* X;
        public int Inputs;
        public float* Many;
        public float* One;
        public int YStride;

        public readonly bool Visit<TS, TV>()
            where TS : struct, ISimd<TV>
            where TV : unmanaged
        {
            ushort* packed = M.BFloat16Columns(TS.Count);
            for (int j = 0; j < Inputs; j++)
            {
                BFloat16GemvKernel<TS, TV>.MultiplyColumns(packed, M.Rows, M.Columns, X + (j * M.Columns), One + (j * YStride), accumulate: false);
            }

            BFloat16GemvKernel<TS, TV>.MultiplyManyColumns(packed, M.Rows, M.Columns, X, M.Columns, Inputs, Many, YStride);
            return true;
        }
    }

    private struct Int8Many : ISimdVisitor<bool>
    {
        public QuantizedMatrix M;
        public byte* U;
        public float* Scales;
        public int Inputs;
        public float* Many;
        public float* One;
        public int YStride;

        public readonly bool Visit<TS, TV>()
            where TS : struct, ISimd<TV>
            where TV : unmanaged
        {
            for (int j = 0; j < Inputs; j++)
            {
                Int8GemvKernel<TS, TV>.Multiply(M.Int8, M.RowSums, M.Scales, M.Rows, M.Stride, U + (j * M.Stride), Scales[j], One + (j * YStride), accumulate: false);
            }

            Int8GemvKernel<TS, TV>.MultiplyMany(M.Int8, M.RowSums, M.Scales, M.Rows, M.Stride, U, Scales, Inputs, Many, YStride);
            return true;
        }
    }

    private struct Bf16Columns : ISimdVisitor<bool>
    {
        public QuantizedMatrix M;
        public float* X;
        public float* Y;
        public bool Accumulate;

        public readonly bool Visit<TS, TV>()
            where TS : struct, ISimd<TV>
            where TV : unmanaged
        {
            BFloat16GemvKernel<TS, TV>.MultiplyColumns(M.BFloat16Columns(TS.Count), M.Rows, M.Columns, X, Y, Accumulate);
            return true;
        }
    }

    private struct Int8Columns : ISimdVisitor<bool>
    {
        public QuantizedMatrix M;
        public byte* U;
        public float Scale;
        public float* Rows;
        public float* Columns;
        public bool Accumulate;

        public readonly bool Visit<TS, TV>()
            where TS : struct, ISimd<TV>
            where TV : unmanaged
        {
            Int8GemvKernel<TS, TV>.Multiply(M.Int8, M.RowSums, M.Scales, M.Rows, M.Stride, U, Scale, Rows, Accumulate);
            var q = new sbyte[M.Stride];
            var magnitudes = new byte[M.Stride];
            fixed (sbyte* pq = q)
            fixed (byte* pm = magnitudes)
            {
                Int8Quantizer.SplitSigns(U, M.Columns, pq, pm);
                Int8GemvKernel<TS, TV>.MultiplyColumns(M.Int8Columns(TS.Count), M.Scales, M.Rows, M.Columns, pm, pq, Scale, Columns, Accumulate);
            }

            return true;
        }
    }

    private struct Quantize : ISimdVisitor<float>
    {
        public float* X;
        public int N;
        public byte* U;
        public float* Scratch;

        public readonly float Visit<TS, TV>()
            where TS : struct, ISimd<TV>
            where TV : unmanaged => Int8Quantizer.QuantizeUnsigned<TS, TV>(X, N, U, Scratch);
    }
}
