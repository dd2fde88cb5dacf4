using RecurrentCore.Kernels;
using RecurrentCore.Layers;
using RecurrentCore.Reference;
using RecurrentCore.Tests.Reference;
using RecurrentCore.Training;
using Xunit;
using static RecurrentCore.Tests.Layers.FastPathHarness;

namespace RecurrentCore.Tests.Reliability;

/// <summary>
/// Extreme values on the fast path, for every kernel variant: pre-activations around ±1e4 and ±∞ saturate like the
/// double reference (finite wherever the maths is finite), NaN inputs propagate to NaN outputs without exceptions (and
/// stay out of other rows and out of padding), <see cref="NumericCheck"/> locates the first non-finite value, and
/// gradient clipping catches a relu RNN whose gradients explode.
/// </summary>
[Trait("Category", "Reliability")]
public class NumericsTests
{
    private static readonly CellKind[] Cells = [CellKind.Lstm, CellKind.Gru, CellKind.RnnTanh, CellKind.RnnRelu];

    public static TheoryData<KernelVariant, CellKind> VariantsAndCells()
    {
        var data = new TheoryData<KernelVariant, CellKind>();
        foreach (var v in KernelCatalog.Supported)
        {
            foreach (var cell in Cells)
            {
                data.Add(v, cell);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(VariantsAndCells))]
    public void Pre_activations_near_1e4_saturate_like_the_reference(KernelVariant variant, CellKind cell)
    {
        var rng = new Random(31);
        // H = 19 and I = 7 are not multiples of any vector width, so every tail path sees the large values too.
        // A relu stack grows ~1e4 per step and layer; one layer keeps it inside float range (a second reaches 1e44,
        // where float32 can only give ∞ and then ∞ − ∞).
        var cfg = new RecurrentConfig(cell, 7, 19, numLayers: cell == CellKind.RnnRelu ? 1 : 2, bidirectional: true);
        var p = Parameters(cfg, rng, 1.0);
        foreach (var (_, _, data) in p.Named())
        {
            for (int i = 0; i < data.Length; i++)
            {
                data[i] = (float)(data[i] * 3000); // |W x| up to ~1e4 with |x| ~ 1
            }
        }

        const int T = 6, B = 3;
        var x = Round(RandomData.Normal(rng, T * B * cfg.InputSize));
        var reference = ReferenceRnn.Forward(p, new SequenceInputs(T, B, x, null, null));
        var (output, hn) = Fast(p, variant, x, T, B);
        CompareSaturated(output, reference.Output, cell, "output");
        CompareSaturated(hn, reference.HN, cell, "h_n");
    }

    [Theory]
    [MemberData(nameof(VariantsAndCells))]
    public void Infinite_inputs_saturate_where_the_maths_is_finite(KernelVariant variant, CellKind cell)
    {
        // One input feature and non-zero weights: W x = ±∞ exactly, never ∞ − ∞, so the maths stays defined.
        var rng = new Random(32);
        var cfg = new RecurrentConfig(cell, 1, 9, numLayers: 1);
        var p = Parameters(cfg, rng, 0.5);
        foreach (var (name, _, data) in p.Named())
        {
            for (int i = 0; i < data.Length; i++)
            {
                if (data[i] == 0 || (name.StartsWith("weight_ih", StringComparison.Ordinal) && Math.Abs(data[i]) < 0.05))
                {
                    data[i] = 0.25;
                }
            }
        }

        const int T = 4, B = 2;
        var x = new double[] { double.PositiveInfinity, double.NegativeInfinity, 0.5, double.NegativeInfinity, double.PositiveInfinity, 1e30, -1e4, 1e4 };
        var reference = ReferenceRnn.Forward(p, new SequenceInputs(T, B, x, null, null));
        var (output, hn) = Fast(p, variant, x, T, B);
        CompareSaturated(output, reference.Output, cell, "output");
        CompareSaturated(hn, reference.HN, cell, "h_n");
        if (cell != CellKind.RnnRelu)
        {
            // Bounded cells: every output is finite, whatever the input.
            Assert.Equal(-1, NumericCheck.FindFirstNonFinite(output));
        }
    }

    [Theory]
    [MemberData(nameof(VariantsAndCells))]
    public void Nan_inputs_propagate_to_nan_outputs_in_their_own_row_only(KernelVariant variant, CellKind cell)
    {
        var rng = new Random(33);
        var cfg = new RecurrentConfig(cell, 5, 11, numLayers: 2);
        var p = Parameters(cfg, rng, 0.4);
        var layer = RecurrentLayer.FromParameters(p, variant);
        const int T = 7, B = 3, NanStep = 2, NanRow = 1;
        var x = ToSingle(RandomData.Normal(rng, T * B * cfg.InputSize));
        var clean = Run(layer, x, T, B, lengths: null);
        x[(((NanStep * B) + NanRow) * cfg.InputSize) + 3] = float.NaN;
        var dirty = Run(layer, x, T, B, lengths: null);
        int hidden = cfg.HiddenSize;
        for (int t = 0; t < T; t++)
        {
            for (int b = 0; b < B; b++)
            {
                var got = dirty.AsSpan(((t * B) + b) * hidden, hidden);
                var want = clean.AsSpan(((t * B) + b) * hidden, hidden);
                if (b == NanRow && t >= NanStep)
                {
                    Assert.True(got.ToArray().All(float.IsNaN), $"t={t} b={b}: {string.Join(", ", got.ToArray())}");
                }
                else
                {
                    Assert.True(got.SequenceEqual(want), $"t={t} b={b} changed");
                }
            }
        }

        var found = NumericCheck.FindFirstNonFinite(layer, dirty, T, B);
        // The output is the top layer's (layer 1); the NaN reaches every unit, so feature 0 is the first.
        Assert.Equal(new NonFiniteValue(1, NanStep, NanRow, 0, float.NaN).ToString(), found?.ToString());
    }

    [Theory]
    [MemberData(nameof(VariantsAndCells))]
    public void Nan_in_padding_past_a_length_stays_out_of_the_outputs(KernelVariant variant, CellKind cell)
    {
        var rng = new Random(34);
        var cfg = new RecurrentConfig(cell, 4, 6, numLayers: 1, bidirectional: true);
        var layer = RecurrentLayer.FromParameters(Parameters(cfg, rng, 0.4), variant);
        const int T = 6, B = 3;
        int[] lengths = [6, 2, 4];
        var x = ToSingle(RandomData.Normal(rng, T * B * cfg.InputSize));
        var clean = Run(layer, x, T, B, lengths);
        for (int t = 0; t < T; t++)
        {
            for (int b = 0; b < B; b++)
            {
                if (t >= lengths[b])
                {
                    x.AsSpan(((t * B) + b) * cfg.InputSize, cfg.InputSize).Fill(t % 2 == 0 ? float.NaN : float.PositiveInfinity);
                }
            }
        }

        var dirty = Run(layer, x, T, B, lengths);
        Assert.Equal(clean, dirty);
        Assert.Null(NumericCheck.FindFirstNonFinite(layer, dirty, T, B));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void NumericCheck_reports_the_layer_and_step_where_a_value_first_overflows(bool batchFirst)
    {
        // Layer 0 is tame; layer 1 is a relu RNN whose recurrent weights grow h by ~1e10 a step: ∞ after a few steps.
        var cfg = new RecurrentConfig(CellKind.RnnRelu, 3, 4, numLayers: 2, batchFirst: batchFirst);
        var p = new RecurrentParameters(cfg);
        p[0, 0, ParameterKind.WeightIh].AsSpan().Fill(0.1);
        p[0, 0, ParameterKind.BiasIh].AsSpan().Fill(0.1);
        p[1, 0, ParameterKind.WeightIh].AsSpan().Fill(1);
        p[1, 0, ParameterKind.WeightHh].AsSpan().Fill(1e10);
        var layer = RecurrentLayer.FromParameters(p);
        const int T = 8, B = 2;
        var x = new float[T * B * 3];
        x.AsSpan().Fill(1);
        var ws = layer.CreateWorkspace(T, B, training: true);
        var y = new float[T * B * 4];
        layer.Forward(ws, x, T, B, y);
        var inWorkspace = NumericCheck.FindFirstNonFinite(ws);
        Assert.NotNull(inWorkspace);
        Assert.Equal(1, inWorkspace.Value.Layer);
        Assert.Equal(0, inWorkspace.Value.BatchIndex);
        Assert.True(float.IsPositiveInfinity(inWorkspace.Value.Value));
        // Layer 0 gives 0.4 per unit, so layer 1 starts at 1.6 and grows ×4e10 a step: 6.4e10, 2.6e21, 1e32, then
        // past float's 3.4e38 at step 4.
        Assert.Equal(4, inWorkspace.Value.Step);
        Assert.Equal(inWorkspace, NumericCheck.FindFirstNonFinite(layer, y, T, B));
        var inference = layer.CreateWorkspace(T, B);
        layer.Forward(inference, x, T, B, y);
        Assert.Equal(inWorkspace, NumericCheck.FindFirstNonFinite(inference));

        // All finite: null; before any forward: an invalid operation; wrong output length: an argument error.
        var tame = RecurrentLayer.FromParameters(new RecurrentParameters(cfg));
        var ws2 = tame.CreateWorkspace(T, B);
        Assert.Throws<InvalidOperationException>(() => NumericCheck.FindFirstNonFinite(ws2));
        tame.Forward(ws2, x, T, B, y);
        Assert.Null(NumericCheck.FindFirstNonFinite(ws2));
        Assert.Null(NumericCheck.FindFirstNonFinite(tame, y, T, B));
        Assert.Throws<ArgumentException>(() => NumericCheck.FindFirstNonFinite(tame, y.AsSpan(1), T, B));
    }

    [Fact]
    public void NumericCheck_allocates_nothing()
    {
        var cfg = new RecurrentConfig(CellKind.Lstm, 3, 8, numLayers: 2);
        var layer = RecurrentLayer.FromParameters(Parameters(cfg, new Random(1), 0.3));
        var ws = layer.CreateWorkspace(10, 2, training: true);
        var y = new float[10 * 2 * 8];
        layer.Forward(ws, new float[10 * 2 * 3], 10, 2, y);
        AllocationAssert.Zero(
            () =>
            {
                NumericCheck.FindFirstNonFinite(ws);
                NumericCheck.FindFirstNonFinite(layer, y, 10, 2);
            },
            iterations: 100);
    }

    [Fact]
    public void Exploding_relu_gradients_are_caught_by_global_norm_clipping()
    {
        // W_hh = 1.3·I (plus small noise) and positive inputs keep every unit active: dL/dh grows ~1.3× per step back.
        const int H = 8, I = 2, B = 2;
        var cfg = new RecurrentConfig(CellKind.RnnRelu, I, H);
        var p = new RecurrentParameters(cfg);
        var rng = new Random(9);
        var whh = p[0, 0, ParameterKind.WeightHh];
        for (int i = 0; i < H; i++)
        {
            for (int j = 0; j < H; j++)
            {
                whh[(i * H) + j] = (float)((i == j ? 1.3 : 0) + (0.01 * rng.NextDouble()));
            }
        }

        p[0, 0, ParameterKind.WeightIh].AsSpan().Fill(0.05);
        var layer = RecurrentLayer.FromParameters(p);
        foreach (var (seqLen, finite) in new[] { (80, true), (1500, false) })
        {
            var ws = layer.CreateWorkspace(seqLen, B, training: true);
            var x = new float[seqLen * B * I];
            x.AsSpan().Fill(0.01f);
            var y = new float[seqLen * B * H];
            layer.Forward(ws, x, seqLen, B, y);
            var grads = new RecurrentGradients(cfg);
            // L = Σ h_n: dL/dh_n = 1 back-propagates through all seqLen steps.
            var dhn = new float[B * H];
            dhn.AsSpan().Fill(1);
            layer.Backward(ws, new float[y.Length], dhn, default, grads);
            var set = new ParameterSet(grads.Named().Select(t => new Parameter(t.Name, t.Shape, new float[t.Data.Length], t.Data)));
            double before = GradientClipping.ClipByGlobalNorm(set, maxNorm: 1.0);
            if (finite)
            {
                Assert.True(before > 1e6, $"pre-clip norm {before}");
                Assert.True(double.IsFinite(before));
                double after = Math.Sqrt(grads.Named().SelectMany(t => t.Data).Sum(g => (double)g * g));
                Assert.InRange(after, 0.99, 1.0 + 1e-5);
                Assert.Equal(-1, NumericCheck.FindFirstNonFinite(grads[0, 0, ParameterKind.WeightHh]));
            }
            else
            {
                // Past float range the norm is ∞ (or NaN once ∞·0 appears) and clipping leaves the gradients as they
                // are, as documented: the caller's signal to skip the step. NumericCheck finds where.
                Assert.False(double.IsFinite(before), $"pre-clip norm {before}");
                Assert.True(NumericCheck.FindFirstNonFinite(grads[0, 0, ParameterKind.WeightHh]) >= 0);
            }
        }
    }

    private static float[] Run(RecurrentLayer layer, float[] x, int t, int b, int[]? lengths)
    {
        var cfg = layer.Config;
        var y = new float[t * b * cfg.OutputSize];
        layer.Forward(layer.CreateWorkspace(t, b), x, t, b, y, lengths: lengths);
        return y;
    }

    private static (float[] Output, float[] HN) Fast(RecurrentParameters p, KernelVariant variant, double[] x, int t, int b)
    {
        var cfg = p.Config;
        var layer = RecurrentLayer.FromParameters(p, variant);
        var y = new float[t * b * cfg.OutputSize];
        var hn = new float[cfg.NumLayers * cfg.NumDirections * b * cfg.HiddenSize];
        layer.Forward(layer.CreateWorkspace(t, b), ToSingle(x), t, b, y, hn);
        return (y, hn);
    }

    /// <summary>
    /// Saturated values are 0, ±1 or huge (relu); compare with an absolute tolerance on the bounded cells and a
    /// relative one on relu, and require the fast path to be finite wherever the reference is.
    /// </summary>
    private static void CompareSaturated(float[] fast, double[] reference, CellKind cell, string what)
    {
        Assert.Equal(reference.Length, fast.Length);
        for (int i = 0; i < fast.Length; i++)
        {
            double want = reference[i];
            float got = fast[i];
            if (double.IsNaN(want))
            {
                Assert.True(float.IsNaN(got), $"{what}[{i}]: reference NaN, fast {got}");
                continue;
            }

            Assert.False(float.IsNaN(got), $"{what}[{i}]: fast NaN, reference {want}");
            if (double.IsInfinity(want) || Math.Abs(want) > float.MaxValue)
            {
                Assert.True(float.IsInfinity(got) && Math.Sign(got) == Math.Sign(want), $"{what}[{i}]: reference {want}, fast {got}");
                continue;
            }

            Assert.True(float.IsFinite(got), $"{what}[{i}]: reference {want} is finite, fast {got}");
            // Saturation in float32 happens a few ulps earlier than in double, and a saturated gate switches a whole
            // block; with |pre-activation| ≥ ~10 almost everywhere, the saturated values agree to ~1e-4.
            double tolerance = cell == CellKind.RnnRelu ? 1e-4 * Math.Max(1, Math.Abs(want)) : 2e-3;
            Assert.True(Math.Abs(got - want) <= tolerance, $"{what}[{i}]: fast {got} vs reference {want}");
        }
    }
}
