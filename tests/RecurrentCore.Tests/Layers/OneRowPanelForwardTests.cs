using RecurrentCore.Kernels;
using RecurrentCore.Layers;
using RecurrentCore.Reference;
using RecurrentCore.Tests.Reference;
using Xunit;
using static RecurrentCore.Tests.Layers.FastPathHarness;

namespace RecurrentCore.Tests.Layers;

/// <summary>
/// One-row inference of an LSTM or GRU whose H fills whole registers runs on W_hh's gate panels (one pass per step, the
/// gates in registers, the whole-sequence projection as the additive term). Checked against the double reference,
/// against the product path the training workspace runs on the same layer (masks, both directions, stacked layers,
/// batch-first, initial states, no bias), and for bitwise repeatability across runs, workspaces and thread counts.
/// </summary>
[Trait("Category", "Kernels")]
public class OneRowPanelForwardTests
{
    public static TheoryData<KernelVariant, CellKind, int> Cases()
    {
        var data = new TheoryData<KernelVariant, CellKind, int>();
        foreach (var v in KernelCatalog.Supported)
        {
            foreach (var cell in new[] { CellKind.Lstm, CellKind.Gru })
            {
                for (int shape = 0; shape < 4; shape++)
                {
                    data.Add(v, cell, shape);
                }
            }
        }

        return data;
    }

    /// <summary>(I, H, layers, bidirectional, batch-first, bias, T, initial states).</summary>
    private static (int I, int H, int Layers, bool Bi, bool BatchFirst, bool Bias, int T, bool Initial) Shape(int shape) => shape switch
    {
        0 => (20, 48, 2, true, true, true, 9, true),
        1 => (64, 64, 1, false, false, false, 7, false),
        2 => (7, 32, 3, false, true, true, 11, true),
        _ => (16, 16, 2, true, false, true, 1, false),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Panel_forward_matches_the_reference_and_the_product_path(KernelVariant variant, CellKind cell, int shape)
    {
        var (inputs, hidden, layers, bi, batchFirst, bias, T, initial) = Shape(shape);
        var cfg = new RecurrentConfig(cell, inputs, hidden, numLayers: layers, bias: bias, batchFirst: batchFirst, bidirectional: bi);
        var rng = new Random(4100 + (shape * 7) + (int)cell);
        var p = Parameters(cfg, rng, 1.5 / Math.Sqrt(hidden));
        bool lstm = cell == CellKind.Lstm;
        int states = cfg.NumLayers * cfg.NumDirections * hidden;
        var x = Round(RandomData.Normal(rng, T * inputs));
        var h0 = initial ? Round(RandomData.Normal(rng, states, 0.5)) : null;
        var c0 = initial && lstm ? Round(RandomData.Normal(rng, states, 0.5)) : null;
        var reference = ReferenceRnn.Forward(p, new SequenceInputs(T, 1, x, h0, c0, null));
        var layer = RecurrentLayer.FromParameters(p, variant);

        (float[] Y, float[] Hn, float[] Cn) Run(RecurrentWorkspace ws)
        {
            var y = new float[T * cfg.OutputSize];
            var hn = new float[states];
            var cn = lstm ? new float[states] : [];
            layer.Forward(ws, ToSingle(x), T, 1, y, hn, cn, h0 is null ? default : ToSingle(h0), c0 is null ? default : ToSingle(c0));
            return (y, hn, cn);
        }

        using var ws = layer.CreateWorkspace(T, 1);
        var panels = Run(ws);
        string what = $"{cfg} T={T} variant={variant}";
        Assert.True(RelativeError(panels.Y, reference.Output) <= FastPathPropertyTests.OutputTolerance, $"output {RelativeError(panels.Y, reference.Output):0.0e+0}: {what}");
        Assert.True(RelativeError(panels.Hn, reference.HN) <= FastPathPropertyTests.OutputTolerance, $"h_n: {what}");
        if (lstm)
        {
            Assert.True(RelativeError(panels.Cn, reference.CN!) <= FastPathPropertyTests.OutputTolerance, $"c_n: {what}");
        }

        // The product path (a training workspace's forward) on the same float32 weights: both within the bound of the
        // reference, so within twice it of each other.
        var products = Run(layer.CreateWorkspace(T, 1, training: true));
        double apart = Math.Max(RelativeError(panels.Y, Array.ConvertAll(products.Y, v => (double)v)), RelativeError(panels.Hn, Array.ConvertAll(products.Hn, v => (double)v)));
        Assert.True(apart <= 2 * FastPathPropertyTests.OutputTolerance, $"panels vs products {apart:0.0e+0}: {what}");

        void Same((float[] Y, float[] Hn, float[] Cn) again, string how)
        {
            Assert.True(again.Y.AsSpan().SequenceEqual(panels.Y) && again.Hn.AsSpan().SequenceEqual(panels.Hn) && again.Cn.AsSpan().SequenceEqual(panels.Cn), $"{how}: {what}");
        }

        Same(Run(ws), "run again");
        Same(Run(layer.CreateWorkspace(T + 2, 3)), "a larger workspace");
        using var threaded = layer.CreateWorkspace(T, 1, threads: 3);
        Same(Run(threaded), "3 threads");

        // The panels are what the loop computes with (not a path beside it that the checks above would also pass):
        // NaN in the first layer's forward panels reaches the output. The scalar width keeps the product path.
        if (variant != KernelVariant.Scalar)
        {
            int lanes = variant switch { KernelVariant.Avx512 => 16, KernelVariant.Avx2Fma => 8, _ => 4 };
            int blocks = lstm ? 4 : 3;
            unsafe
            {
                new Span<float>(layer.Model.Weights(0, 0).HiddenPanels(lanes), ColumnGatePanels.Length(0, hidden, blocks)).Fill(float.NaN);
            }

            Assert.Contains(Run(ws).Y, float.IsNaN);
        }
    }

    /// <summary>
    /// A one-row length L below T: inference runs the row's first L steps on the same loop (the reverse direction from
    /// L − 1), then zero rows, so it is bitwise the row alone; against the reference with lengths; and the training
    /// workspace (masked product path) within the bound.
    /// </summary>
    [Theory]
    [InlineData(CellKind.Lstm, 32)]
    [InlineData(CellKind.Gru, 32)]
    [InlineData(CellKind.Lstm, 13)]
    public void A_padded_row_is_the_row_alone_then_zeros(CellKind cell, int hidden)
    {
        var cfg = new RecurrentConfig(cell, 6, hidden, numLayers: 2, bidirectional: true);
        var rng = new Random(4200 + (int)cell + hidden);
        var p = Parameters(cfg, rng, 0.25);
        var layer = RecurrentLayer.FromParameters(p);
        const int T = 8, Len = 5;
        int states = cfg.NumLayers * cfg.NumDirections * hidden;
        var xd = Round(RandomData.Normal(rng, T * cfg.InputSize));
        var x = ToSingle(xd);
        var padded = new float[T * cfg.OutputSize];
        var hnPadded = new float[states];
        layer.Forward(layer.CreateWorkspace(T, 1), x, T, 1, padded, hnPadded, lengths: [Len]);
        var alone = new float[Len * cfg.OutputSize];
        var hnAlone = new float[states];
        layer.Forward(layer.CreateWorkspace(T, 1), x.AsSpan(0, Len * cfg.InputSize), Len, 1, alone, hnAlone);
        Assert.True(padded.AsSpan(0, alone.Length).SequenceEqual(alone), $"{cfg}: padded differs from alone");
        Assert.Equal(hnAlone, hnPadded);
        Assert.All(padded[alone.Length..], v => Assert.Equal(0f, v));

        var reference = ReferenceRnn.Forward(p, new SequenceInputs(T, 1, xd, Lengths: [Len]));
        Assert.True(RelativeError(padded, reference.Output) <= FastPathPropertyTests.OutputTolerance, $"{cfg}: output vs reference");
        Assert.True(RelativeError(hnPadded, reference.HN) <= FastPathPropertyTests.OutputTolerance, $"{cfg}: h_n vs reference");
        var masked = new float[padded.Length];
        layer.Forward(layer.CreateWorkspace(T, 1, training: true), x, T, 1, masked, lengths: [Len]);
        Assert.True(RelativeError(padded, Array.ConvertAll(masked, v => (double)v)) <= 2 * FastPathPropertyTests.OutputTolerance, $"{cfg}: vs the masked product path");
    }

    /// <summary>A workspace built before RefreshWeights (its panels laid out then) must run on the new weights.</summary>
    [Theory]
    [InlineData(CellKind.Lstm)]
    [InlineData(CellKind.Gru)]
    public void A_workspace_built_before_refresh_runs_the_new_weights(CellKind cell)
    {
        var cfg = new RecurrentConfig(cell, 5, 16, numLayers: 2);
        var rng = new Random(4300 + (int)cell);
        var layer = RecurrentLayer.FromParameters(Parameters(cfg, rng, 0.4));
        const int T = 4;
        var x = ToSingle(RandomData.Normal(rng, T * 5));
        using var early = layer.CreateWorkspace(T, 1);
        var before = new float[T * cfg.OutputSize];
        layer.Forward(early, x, T, 1, before);

        var p2 = Parameters(cfg, rng, 0.4);
        Overwrite(layer, p2);

        layer.RefreshWeights();
        var rebuilt = RecurrentLayer.FromParameters(p2);
        var a = new float[before.Length];
        var b = new float[before.Length];
        layer.Forward(early, x, T, 1, a);
        rebuilt.Forward(rebuilt.CreateWorkspace(T, 1), x, T, 1, b);
        Assert.Equal(b, a);
        Assert.NotEqual(before, a);
    }
}
