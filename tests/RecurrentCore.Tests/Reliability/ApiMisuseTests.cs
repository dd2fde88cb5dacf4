using RecurrentCore.Layers;
using RecurrentCore.Tests.Reference;
using Xunit;
using static RecurrentCore.Tests.Layers.FastPathHarness;

namespace RecurrentCore.Tests.Reliability;

/// <summary>
/// Misuse of the layer, workspace, gradient and stream APIs: each is refused with an ArgumentException (or, for a
/// call in the wrong state, an InvalidOperationException) whose message names the problem, and nothing is corrupted —
/// the next correct call gives the same bits as a fresh layer with a fresh workspace.
/// </summary>
[Trait("Category", "Reliability")]
public class ApiMisuseTests
{
    private const int T = 5, B = 3;

    public static TheoryData<CellKind, bool> Configs() => new()
    {
        { CellKind.Lstm, false },
        { CellKind.Lstm, true },
        { CellKind.Gru, false },
        { CellKind.RnnTanh, true },
        { CellKind.RnnRelu, false },
    };

    [Theory]
    [MemberData(nameof(Configs))]
    public void Forward_with_wrong_spans_is_refused_and_the_workspace_still_gives_fresh_bits(CellKind cell, bool bidirectional)
    {
        var s = Setup.Create(cell, bidirectional);
        var ws = s.Layer.CreateWorkspace(T, B, training: true);
        var good = s.Run(ws);
        var goodGradients = s.Gradients(ws);
        int states = s.States;
        bool lstm = cell == CellKind.Lstm;
        var cases = new List<(string Name, Action Call, string Word)>
        {
            ("input short", () => s.Layer.Forward(ws, s.X.AsSpan(1), T, B, new float[s.OutLength]), "input"),
            ("input long", () => s.Layer.Forward(ws, new float[s.X.Length + 1], T, B, new float[s.OutLength]), "input"),
            ("output short", () => s.Layer.Forward(ws, s.X, T, B, new float[s.OutLength - 1]), "output"),
            ("hN wrong", () => s.Layer.Forward(ws, s.X, T, B, new float[s.OutLength], new float[states + 1]), "hN"),
            ("h0 wrong", () => s.Layer.Forward(ws, s.X, T, B, new float[s.OutLength], h0: new float[states - 1]), "h0"),
            ("c0 wrong", () => s.Layer.Forward(ws, s.X, T, B, new float[s.OutLength], c0: new float[states * 2]), "c0"),
            ("cN wrong", () => s.Layer.Forward(ws, s.X, T, B, new float[s.OutLength], cN: new float[1]), "cN"),
            ("lengths count", () => s.Layer.Forward(ws, s.X, T, B, new float[s.OutLength], lengths: new[] { T, T }), "lengths"),
            ("length zero", () => s.Layer.Forward(ws, s.X, T, B, new float[s.OutLength], lengths: new[] { T, 0, T }), "lengths[1] = 0"),
            ("length past T", () => s.Layer.Forward(ws, s.X, T, B, new float[s.OutLength], lengths: new[] { T, T, T + 1 }), "outside 1..5"),
            ("seqLen 0", () => s.Layer.Forward(ws, [], 0, B, []), "seqLen"),
            ("batch negative", () => s.Layer.Forward(ws, [], T, -1, []), "batch"),
            ("T too large for the input", () => s.Layer.Forward(ws, s.X, T - 1, B, new float[s.OutLength]), "input"),
        };
        if (!lstm)
        {
            cases.Add(("c0 for non-LSTM", () => s.Layer.Forward(ws, s.X, T, B, new float[s.OutLength], c0: new float[states]), "only an LSTM"));
        }

        foreach (var (name, call, word) in cases)
        {
            var e = Assert.ThrowsAny<ArgumentException>(call);
            Assert.Contains(word, e.Message, StringComparison.Ordinal);
            Assert.DoesNotContain('\n', e.Message.Split(" (Parameter")[0]);
            // A refused call changes nothing: backward still sees the last good forward, and a new one gives the same bits.
            Assert.Equal(goodGradients, s.Gradients(ws));
            Assert.Equal(good, s.Run(ws));
        }

        Assert.Equal(good, s.Run(s.Layer.CreateWorkspace(T, B, training: true)));
        var fresh = Setup.Create(cell, bidirectional);
        Assert.Equal(good, fresh.Run(fresh.Layer.CreateWorkspace(T, B)));
    }

    [Theory]
    [MemberData(nameof(Configs))]
    public void Backward_with_wrong_spans_is_refused_and_leaves_gradients_untouched(CellKind cell, bool bidirectional)
    {
        var s = Setup.Create(cell, bidirectional);
        var ws = s.Layer.CreateWorkspace(T, B, training: true);
        s.Run(ws);
        var fresh = s.Gradients(ws);
        int states = s.States;
        var dy = s.Dy;
        var cases = new List<(string Name, Action<RecurrentGradients> Call, string Word)>
        {
            ("gradOutput short", g => s.Layer.Backward(ws, dy.AsSpan(1), default, default, g), "gradOutput"),
            ("gradHN wrong", g => s.Layer.Backward(ws, dy, new float[states + 3], default, g), "gradHN"),
            ("gradInput wrong", g => s.Layer.Backward(ws, dy, default, default, g, new float[s.X.Length - 1]), "gradInput"),
            ("gradH0 wrong", g => s.Layer.Backward(ws, dy, default, default, g, default, new float[1]), "gradH0"),
            ("gradCN wrong", g => s.Layer.Backward(ws, dy, default, new float[states + 1], g), "gradCN"),
            ("gradC0 wrong", g => s.Layer.Backward(ws, dy, default, default, g, default, default, new float[2]), "gradC0"),
            ("gradients of another configuration", g => s.Layer.Backward(ws, dy, default, default, new RecurrentGradients(s.Config with { HiddenSize = s.Config.HiddenSize + 1 })), "another configuration"),
            ("gradients of another cell", g => s.Layer.Backward(ws, dy, default, default, new RecurrentGradients(s.Config with { Cell = cell == CellKind.Gru ? CellKind.Lstm : CellKind.Gru })), "another configuration"),
        };
        foreach (var (name, call, word) in cases)
        {
            var g = new RecurrentGradients(s.Config);
            var e = Assert.ThrowsAny<ArgumentException>(() => call(g));
            Assert.Contains(word, e.Message, StringComparison.Ordinal);
            Assert.All(g.Named(), t => Assert.All(t.Data, v => Assert.Equal(0f, v)));
            // The forward is still there: a correct backward gives what it gave before.
            Assert.Equal(fresh, s.Gradients(ws));
        }
    }

    [Fact]
    public void Backward_without_forward_or_in_an_inference_workspace_is_an_invalid_operation()
    {
        var s = Setup.Create(CellKind.Lstm, false);
        var g = new RecurrentGradients(s.Config);
        var training = s.Layer.CreateWorkspace(T, B, training: true);
        var e = Assert.Throws<InvalidOperationException>(() => s.Layer.Backward(training, s.Dy, default, default, g));
        Assert.Contains("forward", e.Message, StringComparison.Ordinal);

        var inference = s.Layer.CreateWorkspace(T, B);
        s.Run(inference);
        e = Assert.Throws<InvalidOperationException>(() => s.Layer.Backward(inference, s.Dy, default, default, g));
        Assert.Contains("training workspace", e.Message, StringComparison.Ordinal);

        // After EnsureCapacity grows it, the old forward is gone too.
        s.Run(training);
        training.EnsureCapacity(T + 1, B);
        Assert.Throws<InvalidOperationException>(() => s.Layer.Backward(training, s.Dy, default, default, g));
        Assert.All(g.Named(), t => Assert.All(t.Data, v => Assert.Equal(0f, v)));
    }

    [Fact]
    public void A_refused_forward_after_a_good_one_does_not_let_backward_reuse_stale_state()
    {
        // Regression: Forward used to record the new T and B (and part of the lengths) before validating the lengths,
        // leaving HasForward set from the previous run, so Backward accepted spans of the refused call's shapes and ran
        // over the previous forward's buffers with them.
        var s = Setup.Create(CellKind.Gru, false);
        var ws = s.Layer.CreateWorkspace(T + 2, B + 2, training: true);
        s.Run(ws);
        var expected = s.Gradients(ws);
        int bigOut = (T + 2) * (B + 2) * s.Config.OutputSize;
        var x = new float[(T + 2) * (B + 2) * s.Config.InputSize];
        Assert.ThrowsAny<ArgumentException>(() => s.Layer.Forward(ws, x, T + 2, B + 2, new float[bigOut], lengths: new[] { 1, 2, 3, 4, 99 }));
        var e = Assert.Throws<ArgumentException>(() => s.Layer.Backward(ws, new float[bigOut], default, default, new RecurrentGradients(s.Config)));
        Assert.Contains("gradOutput", e.Message, StringComparison.Ordinal);
        Assert.Equal(expected, s.Gradients(ws));
    }

    [Fact]
    public void A_too_small_workspace_is_refused_then_EnsureCapacity_makes_it_work()
    {
        var s = Setup.Create(CellKind.Lstm, true);
        var good = s.Run(s.Layer.CreateWorkspace(T, B, training: true));
        foreach (var (t, b) in new[] { (T - 1, B), (T, B - 1), (1, 1) })
        {
            var ws = s.Layer.CreateWorkspace(t, b, training: true);
            var e = Assert.Throws<ArgumentException>(() => s.Run(ws));
            Assert.Contains("EnsureCapacity", e.Message, StringComparison.Ordinal);
            Assert.Contains($"T = {T}, B = {B}", e.Message, StringComparison.Ordinal);
            ws.EnsureCapacity(T, B);
            Assert.Equal(good, s.Run(ws));
            Assert.Equal(s.Gradients(s.Layer.CreateWorkspace(T, B, training: true), run: true), s.Gradients(ws));
        }
    }

    [Fact]
    public void EnsureCapacity_refusing_an_impossible_size_leaves_the_workspace_working()
    {
        // Regression: Allocate assigned the new views one by one, so a size refused part-way (more floats than one
        // array holds) left views that no longer matched the block, and every later call failed.
        var s = Setup.Create(CellKind.Lstm, true);
        var good = s.Run(s.Layer.CreateWorkspace(T, B, training: true));
        var ws = s.Layer.CreateWorkspace(T, B, training: true);
        Assert.Throws<ArgumentOutOfRangeException>(() => ws.EnsureCapacity(int.MaxValue / 64, 8));
        Assert.Throws<ArgumentOutOfRangeException>(() => ws.EnsureCapacity(0, B));
        Assert.Throws<ArgumentOutOfRangeException>(() => ws.EnsureCapacity(T, -1));
        Assert.Equal(T, ws.MaxSeqLen);
        Assert.Equal(B, ws.MaxBatch);
        Assert.Equal(good, s.Run(ws));
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => s.Layer.CreateWorkspace(int.MaxValue, int.MaxValue));
        Assert.Contains("more than one array can hold", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_workspace_from_another_layer_is_refused_by_forward_and_backward()
    {
        var a = Setup.Create(CellKind.Lstm, false);
        var b = Setup.Create(CellKind.Lstm, false);
        var wsB = b.Layer.CreateWorkspace(T, B, training: true);
        var e = Assert.Throws<ArgumentException>(() => a.Run(wsB));
        Assert.Contains("another layer", e.Message, StringComparison.Ordinal);
        b.Run(wsB);
        e = Assert.Throws<ArgumentException>(() => a.Layer.Backward(wsB, a.Dy, default, default, new RecurrentGradients(a.Config)));
        Assert.Contains("another layer", e.Message, StringComparison.Ordinal);
        Assert.Equal(a.Run(a.Layer.CreateWorkspace(T, B)), b.Run(b.Layer.CreateWorkspace(T, B)));
    }

    [Fact]
    public void Streams_refuse_bidirectional_layers_wrong_spans_and_bad_indices_without_changing_state()
    {
        var bi = Setup.Create(CellKind.Gru, true);
        var e = Assert.Throws<InvalidOperationException>(() => bi.Layer.CreateStream());
        Assert.Contains("bidirectional", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => Setup.Create(CellKind.Gru, false).Layer.CreateStream(0));

        foreach (var cell in new[] { CellKind.Lstm, CellKind.Gru, CellKind.RnnTanh })
        {
            var s = Setup.Create(cell, false);
            int i = s.Config.InputSize, h = s.Config.HiddenSize;
            var stream = s.Layer.CreateStream(2);
            var x = ToSingle(RandomData.Normal(new Random(3), 4 * 2 * i));
            var y = new float[4 * 2 * h];
            stream.Step(x, 4, y);
            var hBefore = stream.HiddenState.ToArray();
            var cBefore = stream.CellState.ToArray();
            var bad = new List<(Action Call, string Word)>
            {
                (() => stream.Step(x.AsSpan(0, (2 * i) - 1), new float[2 * h]), "x has"),
                (() => stream.Step(x.AsSpan(0, 2 * i), new float[(2 * h) + 1]), "y has"),
                (() => stream.Step(x, 3, y), "x has"),
                (() => stream.Step(x, 4, y.AsSpan(1)), "y has"),
                (() => stream.Step(x, 0, y), "steps"),
                (() => stream.Reset(2), "stream"),
                (() => stream.Reset(-1), "stream"),
            };
            foreach (var (call, word) in bad)
            {
                var ae = Assert.ThrowsAny<ArgumentException>(call);
                Assert.Contains(word, ae.Message, StringComparison.Ordinal);
                Assert.Equal(hBefore, stream.HiddenState.ToArray());
                Assert.Equal(cBefore, stream.CellState.ToArray());
            }

            // The stream goes on exactly like one that never saw the bad calls.
            var clean = s.Layer.CreateStream(2);
            clean.Step(x, 4, new float[y.Length]);
            var y1 = new float[2 * h];
            var y2 = new float[2 * h];
            stream.Step(x.AsSpan(0, 2 * i), y1);
            clean.Step(x.AsSpan(0, 2 * i), y2);
            Assert.Equal(y2, y1);
        }
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(1, 3)]
    [InlineData(4, 1)]
    [InlineData(4, 3)]
    [InlineData(4, 64)]
    public void A_disposed_workspace_is_refused_at_every_call_size(int threads, int batch)
    {
        // Regression: only calls big enough to use the worker threads threw; small ones kept working after Dispose.
        var s = Setup.Create(CellKind.Gru, false);
        var ws = s.Layer.CreateWorkspace(T, batch, training: true, threads: threads);
        var x = new float[T * batch * s.Config.InputSize];
        var y = new float[T * batch * s.Config.OutputSize];
        s.Layer.Forward(ws, x, T, batch, y);
        ws.Dispose();
        ws.Dispose(); // idempotent
        Assert.Throws<ObjectDisposedException>(() => s.Layer.Forward(ws, x, T, batch, y));
        Assert.Throws<ObjectDisposedException>(() => s.Layer.Forward(ws, x.AsSpan(0, s.Config.InputSize), 1, 1, y.AsSpan(0, s.Config.OutputSize)));
        Assert.Throws<ObjectDisposedException>(() => s.Layer.Backward(ws, y, [], [], new RecurrentGradients(s.Config)));
    }

    [Fact]
    public void Building_a_layer_from_bad_arrays_names_the_tensor()
    {
        var s = Setup.Create(CellKind.Lstm, false);
        var arrays = s.Parameters.Named().ToDictionary(n => n.Name, n => ToSingle(n.Data));
        arrays.Remove("bias_hh_l0");
        var e = Assert.Throws<ArgumentException>(() => RecurrentLayer.FromArrays(s.Config, arrays));
        Assert.Contains("'bias_hh_l0' is missing", e.Message, StringComparison.Ordinal);
        arrays["bias_hh_l0"] = new float[3];
        e = Assert.Throws<ArgumentException>(() => RecurrentLayer.FromArrays(s.Config, arrays));
        Assert.Contains("'bias_hh_l0' has 3 values", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<ArgumentException>(() => RecurrentLayer.FromParameters(s.Parameters, (RecurrentCore.Kernels.KernelVariant)42));
        Assert.Contains("not supported", e.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// A finite double that rounds past float32's range would become ±∞ in the layer: refused, naming the parameter and
    /// the index (the safetensors/state_dict readers refuse it the same way); the largest double that still rounds to
    /// float.MaxValue is kept as it is.
    /// </summary>
    [Fact]
    public void Building_a_layer_from_parameters_beyond_float32_names_the_parameter()
    {
        var s = Setup.Create(CellKind.Gru, false);
        var w = s.Parameters[0, 0, ParameterKind.WeightHh];
        w[5] = -1e39;
        var e = Assert.Throws<ArgumentException>(() => RecurrentLayer.FromParameters(s.Parameters));
        Assert.Contains("parameter 'weight_hh_l0': value -1E+39 at index 5 is beyond float32's range", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => QuantizedLayer.FromParameters(s.Parameters, WeightFormat.Int8));

        // float.MaxValue plus a quarter of its ULP (2^104) rounds back to float.MaxValue: a finite weight, accepted.
        w[5] = (double)float.MaxValue + Math.Pow(2, 102);
        Assert.Equal(float.MaxValue, (float)w[5]);
        Assert.NotNull(RecurrentLayer.FromParameters(s.Parameters));
    }

    /// <summary>One layer with fixed data; Run returns the bits of output, h_n (and c_n).</summary>
    private sealed record Setup(RecurrentConfig Config, RecurrentParameters Parameters, RecurrentLayer Layer, float[] X, float[] H0, float[] C0, float[] Dy)
    {
        public int States => Config.NumLayers * Config.NumDirections * B * Config.HiddenSize;

        public int OutLength => T * B * Config.OutputSize;

        public static Setup Create(CellKind cell, bool bidirectional)
        {
            var rng = new Random(77);
            var cfg = new RecurrentConfig(cell, 4, 6, numLayers: 2, bidirectional: bidirectional);
            var p = RecurrentCore.Tests.Layers.FastPathHarness.Parameters(cfg, rng, 0.4);
            int states = cfg.NumLayers * cfg.NumDirections * B * cfg.HiddenSize;
            return new Setup(
                cfg, p, RecurrentLayer.FromParameters(p),
                ToSingle(RandomData.Normal(rng, T * B * cfg.InputSize)),
                ToSingle(RandomData.Normal(rng, states, 0.5)),
                cell == CellKind.Lstm ? ToSingle(RandomData.Normal(rng, states, 0.5)) : [],
                ToSingle(RandomData.Normal(rng, T * B * cfg.OutputSize)));
        }

        public float[] Run(RecurrentWorkspace ws)
        {
            var y = new float[OutLength];
            var hn = new float[States];
            var cn = new float[C0.Length];
            Layer.Forward(ws, X, T, B, y, hn, cn, H0, C0, new[] { T, 2, 4 });
            return [.. y, .. hn, .. cn];
        }

        /// <summary>Every gradient, flattened, from a backward over the forward held by <paramref name="ws"/>.</summary>
        public float[] Gradients(RecurrentWorkspace ws, bool run = false)
        {
            if (run)
            {
                Run(ws);
            }

            var g = new RecurrentGradients(Config);
            var dx = new float[X.Length];
            var dh0 = new float[States];
            Layer.Backward(ws, Dy, default, default, g, dx, dh0);
            return [.. g.Named().SelectMany(t => t.Data), .. dx, .. dh0];
        }
    }
}
