using RecurrentCore.Kernels;
using RecurrentCore.Layers;
using RecurrentCore.Reference;
using RecurrentCore.Tests.Reference;
using Xunit;
using static RecurrentCore.Tests.Layers.FastPathHarness;

namespace RecurrentCore.Tests.Layers;

/// <summary>
/// The fast path against the double-precision reference over randomised configurations, for every kernel variant
/// this machine runs: outputs within 1e-5 and gradients within 1e-4, tensor-wise relative.
/// </summary>
[Trait("Category", "Kernels")]
public class FastPathPropertyTests
{
    public const double OutputTolerance = 1e-5;
    public const double GradientTolerance = 1e-4;

    public static TheoryData<KernelVariant, int> Cases()
    {
        var data = new TheoryData<KernelVariant, int>();
        foreach (var v in KernelCatalog.Supported)
        {
            for (int seed = 0; seed < 25; seed++)
            {
                data.Add(v, seed);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Forward_and_backward_match_the_reference(KernelVariant variant, int seed)
    {
        var rng = new Random(1000 + seed);
        // The fifth "cell" is the GRU that resets before W_hn (ONNX linear_before_reset = 0).
        var cells = new[] { CellKind.Lstm, CellKind.Gru, CellKind.RnnTanh, CellKind.RnnRelu, CellKind.Gru };
        int[] sizes = [1, 3, 5, 8, 13, 17, 33];
        var cfg = new RecurrentConfig(
            cells[seed % 5],
            sizes[rng.Next(sizes.Length)],
            sizes[rng.Next(sizes.Length)],
            numLayers: 1 + rng.Next(3),
            bias: rng.Next(4) != 0,
            batchFirst: rng.Next(2) == 0,
            bidirectional: rng.Next(2) == 0) { LinearBeforeReset = seed % 5 != 4 };
        int seqLen = 1 + rng.Next(9), batch = 1 + rng.Next(5);
        bool lengths = rng.Next(2) == 0, initial = rng.Next(2) == 0;
        var p = Parameters(cfg, rng, 1.0 / Math.Sqrt(cfg.HiddenSize) * 1.5);
        int states = cfg.NumLayers * cfg.NumDirections * batch * cfg.HiddenSize;
        bool lstm = cfg.Cell == CellKind.Lstm;
        var x = Round(RandomData.Normal(rng, seqLen * batch * cfg.InputSize));
        var h0 = initial ? Round(RandomData.Normal(rng, states, 0.5)) : null;
        var c0 = initial && lstm ? Round(RandomData.Normal(rng, states, 0.5)) : null;
        int[]? len = lengths ? Enumerable.Range(0, batch).Select(_ => 1 + rng.Next(seqLen)).ToArray() : null;
        var dy = Round(RandomData.Normal(rng, seqLen * batch * cfg.OutputSize));
        var dhn = Round(RandomData.Normal(rng, states));
        var dcn = lstm ? Round(RandomData.Normal(rng, states)) : null;

        var (refOut, refGrads) = ReferenceRnn.Backward(p, new SequenceInputs(seqLen, batch, x, h0, c0, len), new UpstreamGradients(dy, dhn, dcn));

        var layer = RecurrentLayer.FromParameters(p, variant);
        var ws = layer.CreateWorkspace(seqLen, batch, training: true);
        var output = new float[refOut.Output.Length];
        var hn = new float[states];
        var cn = lstm ? new float[states] : [];
        layer.Forward(ws, ToSingle(x), seqLen, batch, output, hn, cn, h0 is null ? default : ToSingle(h0), c0 is null ? default : ToSingle(c0), len);
        string what = $"{cfg} T={seqLen} B={batch} lengths={(len is null ? "-" : string.Join(",", len))} variant={variant}";
        Assert.True(RelativeError(output, refOut.Output) <= OutputTolerance, $"output: {RelativeError(output, refOut.Output):0.0e+0} {what}");
        Assert.True(RelativeError(hn, refOut.HN) <= OutputTolerance, $"h_n: {what}");
        if (lstm)
        {
            Assert.True(RelativeError(cn, refOut.CN!) <= OutputTolerance, $"c_n: {what}");
        }

        var grads = new RecurrentGradients(cfg);
        var dx = new float[x.Length];
        var dh0 = new float[states];
        var dc0 = lstm ? new float[states] : [];
        layer.Backward(ws, ToSingle(dy), ToSingle(dhn), dcn is null ? default : ToSingle(dcn), grads, dx, dh0, dc0);
        Assert.True(RelativeError(dx, refGrads.Input) <= GradientTolerance, $"grad_input: {RelativeError(dx, refGrads.Input):0.0e+0} {what}");
        Assert.True(RelativeError(dh0, refGrads.H0) <= GradientTolerance, $"grad_h0: {RelativeError(dh0, refGrads.H0):0.0e+0} {what}");
        if (lstm)
        {
            Assert.True(RelativeError(dc0, refGrads.C0!) <= GradientTolerance, $"grad_c0: {what}");
        }

        foreach (var ((name, _, fast), (_, _, reference)) in grads.Named().Zip(refGrads.Parameters.Named()))
        {
            double err = RelativeError(fast, reference);
            Assert.True(err <= GradientTolerance, $"{name}: {err:0.0e+0} {what}");
        }
    }
}

/// <summary>
/// One-row batches from H = 64 up take the row-blocked GEMV paths (forward W_hh·h, backward W_hhᵀ·dG) and the
/// streaming step's separate input GEMV; the random property cases stay below that size, so these cover them.
/// </summary>
[Trait("Category", "Kernels")]
public class FastPathLargeHiddenOneRowTests
{
    public static TheoryData<KernelVariant, CellKind, bool> Cases()
    {
        var data = new TheoryData<KernelVariant, CellKind, bool>();
        foreach (var v in KernelCatalog.Supported)
        {
            foreach (var cell in new[] { CellKind.Lstm, CellKind.Gru, CellKind.RnnTanh })
            {
                data.Add(v, cell, true);
            }

            data.Add(v, CellKind.Gru, false);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void One_row_at_hidden_80_matches_the_reference(KernelVariant variant, CellKind cell, bool linearBeforeReset)
    {
        var rng = new Random(80);
        var cfg = new RecurrentConfig(cell, 24, 80, numLayers: 2) { LinearBeforeReset = linearBeforeReset };
        var p = Parameters(cfg, rng, 1.0 / Math.Sqrt(80));
        const int T = 6;
        int states = 2 * 80;
        bool lstm = cell == CellKind.Lstm;
        var x = Round(RandomData.Normal(rng, T * 24));
        var dy = Round(RandomData.Normal(rng, T * 80));
        var (refOut, refGrads) = ReferenceRnn.Backward(p, new SequenceInputs(T, 1, x), new UpstreamGradients(dy));

        var layer = RecurrentLayer.FromParameters(p, variant);
        var ws = layer.CreateWorkspace(T, 1, training: true);
        var y = new float[T * 80];
        var hn = new float[states];
        layer.Forward(ws, ToSingle(x), T, 1, y, hn);
        Assert.True(RelativeError(y, refOut.Output) <= FastPathPropertyTests.OutputTolerance, $"output {RelativeError(y, refOut.Output):0.0e+0}");
        var grads = new RecurrentGradients(cfg);
        var dx = new float[x.Length];
        var dh0 = new float[states];
        layer.Backward(ws, ToSingle(dy), default, default, grads, dx, dh0, lstm ? new float[states] : default);
        Assert.True(RelativeError(dx, refGrads.Input) <= FastPathPropertyTests.GradientTolerance, $"grad_input {RelativeError(dx, refGrads.Input):0.0e+0}");
        Assert.True(RelativeError(dh0, refGrads.H0) <= FastPathPropertyTests.GradientTolerance, "grad_h0");
        foreach (var ((name, _, fast), (_, _, reference)) in grads.Named().Zip(refGrads.Parameters.Named()))
        {
            Assert.True(RelativeError(fast, reference) <= FastPathPropertyTests.GradientTolerance, name);
        }

        // The streaming step (its own one-row input GEMV) gives the same sequence.
        var stream = layer.CreateStream();
        var ys = new float[T * 80];
        stream.Step(ToSingle(x), T, ys);
        Assert.True(RelativeError(ys, refOut.Output) <= FastPathPropertyTests.OutputTolerance, "streamed output");
    }
}
