using System.Text.Json;
using RecurrentCore.Interop;
using RecurrentCore.Layers;
using RecurrentCore.Reference;
using RecurrentCore.Tests.Interop.Onnx;
using RecurrentCore.Tests.Reference;
using RecurrentCore.Training;
using Xunit;

namespace RecurrentCore.Tests.Layers;

/// <summary>
/// LSTM proj_size on the fast path: forward, backward, streaming and training, checked against PyTorch 1.13's float64
/// results (tests/fixtures/torch_proj, written by gen_torch_proj.py), against the double reference on random
/// configurations (stacked, bidirectional, batch-first, packed lengths, no bias, B = 1), and the fast gradients
/// against double-precision central finite differences of the reference loss.
/// </summary>
public class ProjectedLstmTests
{
    private const double Float32Tolerance = 2e-5;

    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        foreach (var d in Directory.GetDirectories(FixtureRoot).Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetFileName(d));
        }

        return data;
    }

    private static string FixtureRoot => Path.Combine(AppContext.BaseDirectory, "fixtures", "torch_proj");

    [Theory]
    [MemberData(nameof(Cases))]
    public void Fast_forward_and_backward_match_pytorch(string name)
    {
        var f = Fixture.Open(name);
        var layer = RecurrentLayer.FromParameters(f.Parameters);
        var cfg = layer.Config;
        Assert.True(cfg.ProjSize > 0);
        using var ws = layer.CreateWorkspace(f.SeqLen, f.Batch, training: true);
        var y = new float[f.Output.Length];
        var hn = new float[f.HN.Length];
        var cn = new float[f.CN.Length];
        layer.Forward(ws, FastPathHarness.ToSingle(f.Input), f.SeqLen, f.Batch, y, hn, cn, FastPathHarness.ToSingle(f.H0), FastPathHarness.ToSingle(f.C0), f.Lengths);
        Within("output", y, f.Output);
        Within("h_n", hn, f.HN);
        Within("c_n", cn, f.CN);

        var grads = new RecurrentGradients(cfg);
        var dx = new float[f.Input.Length];
        var dh0 = new float[f.H0.Length];
        var dc0 = new float[f.C0.Length];
        layer.Backward(ws, FastPathHarness.ToSingle(f.GradOutput), FastPathHarness.ToSingle(f.GradHN), FastPathHarness.ToSingle(f.GradCN), grads, dx, dh0, dc0);
        Within("grad_input", dx, f.Load("grad_input"));
        Within("grad_h0", dh0, f.Load("grad_h0"));
        Within("grad_c0", dc0, f.Load("grad_c0"));
        foreach (var (tensor, _, data) in grads.Named())
        {
            Within("grad " + tensor, data, f.Load("grad_" + tensor));
        }

        Assert.Contains(grads.Named(), t => t.Name == "weight_hr_l0");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Reference_matches_pytorch(string name)
    {
        var f = Fixture.Open(name);
        var (o, g) = ReferenceRnn.Backward(f.Parameters, new SequenceInputs(f.SeqLen, f.Batch, f.Input, f.H0, f.C0, f.Lengths), new UpstreamGradients(f.GradOutput, f.GradHN, f.GradCN));
        Close.Assert("output", f.Output, o.Output, 1e-9);
        Close.Assert("h_n", f.HN, o.HN, 1e-9);
        Close.Assert("grad_input", f.Load("grad_input"), g.Input, 1e-9);
        foreach (var (tensor, _, data) in g.Parameters.Named())
        {
            Close.Assert("grad " + tensor, f.Load("grad_" + tensor), data, 1e-9);
        }
    }

    public static TheoryData<int, bool, bool, bool, bool, int> Shapes() => new()
    {
        // layers, bidirectional, batch-first, lengths, bias, batch
        { 1, false, false, false, true, 3 },
        { 2, false, false, true, true, 4 },
        { 2, true, true, true, false, 3 },
        { 3, true, false, false, true, 1 },
        { 1, false, true, false, true, 1 },
        { 2, false, false, false, false, 5 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Fast_path_matches_the_reference(int layers, bool bidirectional, bool batchFirst, bool lengths, bool bias, int batch)
    {
        var cfg = new RecurrentConfig(CellKind.Lstm, 5, 9, layers, bias, batchFirst, bidirectional) { ProjSize = 4 };
        var rng = new Random(1000 + (layers * 16) + batch);
        var p = FastPathHarness.Parameters(cfg, rng, 0.5);
        int t = 6, hStates = layers * cfg.NumDirections * batch * 4, cStates = layers * cfg.NumDirections * batch * 9;
        var x = FastPathHarness.Round(RandomData.Normal(rng, t * batch * 5));
        var h0 = FastPathHarness.Round(RandomData.Normal(rng, hStates));
        var c0 = FastPathHarness.Round(RandomData.Normal(rng, cStates));
        int[]? lens = lengths ? [.. Enumerable.Range(0, batch).Select(b => 1 + ((b * 5) + 3) % t)] : null;
        var dy = FastPathHarness.Round(RandomData.Normal(rng, t * batch * cfg.OutputSize));
        var dhn = FastPathHarness.Round(RandomData.Normal(rng, hStates));
        var dcn = FastPathHarness.Round(RandomData.Normal(rng, cStates));
        if (lens is not null)
        {
            ZeroPast(dy, lens, t, batch, cfg.OutputSize, batchFirst);
        }

        var (ro, rg) = ReferenceRnn.Backward(p, new SequenceInputs(t, batch, x, h0, c0, lens), new UpstreamGradients(dy, dhn, dcn));
        var (fo, fg) = RunFast(RecurrentLayer.FromParameters(p), t, batch, x, h0, c0, lens, dy, dhn, dcn, threads: 1);
        Within("output", fo.Output, ro.Output);
        Within("h_n", fo.HN, ro.HN);
        Within("c_n", fo.CN!, ro.CN!);
        Within("grad_input", fg.Input, rg.Input);
        Within("grad_h0", fg.H0, rg.H0);
        Within("grad_c0", fg.C0!, rg.C0!);
        foreach (var ((tensor, _, fast), (_, _, reference)) in fg.Parameters.Named().Zip(rg.Parameters.Named()))
        {
            Within("grad " + tensor, fast, reference);
        }

        // A workspace with more threads gives the same bits (the projected loop runs on the caller's thread).
        var (fo2, fg2) = RunFast(RecurrentLayer.FromParameters(p), t, batch, x, h0, c0, lens, dy, dhn, dcn, threads: 3);
        Assert.Equal(fo.Output, fo2.Output);
        Assert.Equal(fg.Parameters.Named().SelectMany(e => e.Data), fg2.Parameters.Named().SelectMany(e => e.Data));
    }

    [Fact]
    public void Fast_gradients_match_finite_differences_of_the_reference()
    {
        // Double-precision central differences of the reference loss: independent of both backward passes.
        var cfg = new RecurrentConfig(CellKind.Lstm, 3, 5, numLayers: 2, bidirectional: true) { ProjSize = 2 };
        var rng = new Random(77);
        var p = FastPathHarness.Parameters(cfg, rng, 0.6);
        int t = 4, batch = 2, hStates = 4 * batch * 2, cStates = 4 * batch * 5;
        var x = FastPathHarness.Round(RandomData.Normal(rng, t * batch * 3));
        var h0 = FastPathHarness.Round(RandomData.Normal(rng, hStates));
        var c0 = FastPathHarness.Round(RandomData.Normal(rng, cStates));
        int[] lens = [4, 2];
        var up = new UpstreamGradients(FastPathHarness.Round(RandomData.Normal(rng, t * batch * 4)), FastPathHarness.Round(RandomData.Normal(rng, hStates)), FastPathHarness.Round(RandomData.Normal(rng, cStates)));
        ZeroPast(up.Output, lens, t, batch, 4, batchFirst: false);
        var (_, fg) = RunFast(RecurrentLayer.FromParameters(p), t, batch, x, h0, c0, lens, up.Output, up.HN!, up.CN!, threads: 1);
        double Loss() => RandomData.Loss(ReferenceRnn.Forward(p, new SequenceInputs(t, batch, x, h0, c0, lens)), up);
        foreach (var ((tensor, _, data), (_, _, fast)) in p.Named().Zip(fg.Parameters.Named()))
        {
            FiniteDifference.AssertGradient(tensor, data, fast, Loss, eps: 1e-6, relativeTolerance: 1e-4);
        }

        FiniteDifference.AssertGradient("input", x, fg.Input, Loss, eps: 1e-6, relativeTolerance: 1e-4);
        FiniteDifference.AssertGradient("h0", h0, fg.H0, Loss, eps: 1e-6, relativeTolerance: 1e-4);
        FiniteDifference.AssertGradient("c0", c0, fg.C0!, Loss, eps: 1e-6, relativeTolerance: 1e-4);
    }

    [Fact]
    public void Streaming_steps_equal_the_sequence_forward_and_allocate_nothing()
    {
        var cfg = new RecurrentConfig(CellKind.Lstm, 4, 8, numLayers: 2) { ProjSize = 3 };
        var rng = new Random(5);
        var layer = RecurrentLayer.FromParameters(FastPathHarness.Parameters(cfg, rng, 0.5));
        int t = 5, batch = 2;
        var x = FastPathHarness.ToSingle(RandomData.Normal(rng, t * batch * 4));
        var y = new float[t * batch * 3];
        var hn = new float[2 * batch * 3];
        var cn = new float[2 * batch * 8];
        using (var ws = layer.CreateWorkspace(t, batch))
        {
            layer.Forward(ws, x, t, batch, y, hn, cn);
        }

        var stream = layer.CreateStream(batch);
        Assert.Equal(2 * batch * 3, stream.HiddenState.Length);
        Assert.Equal(2 * batch * 8, stream.CellState.Length);
        var step = new float[batch * 3];
        stream.Step(x.AsSpan(0, batch * 4), step);
        Assert.Equal(y.AsSpan(0, batch * 3).ToArray(), step);
        for (int s = 1; s < t; s++)
        {
            stream.Step(x.AsSpan(s * batch * 4, batch * 4), step);
            Assert.Equal(y.AsSpan(s * batch * 3, batch * 3).ToArray(), step);
        }

        Assert.Equal(hn, stream.HiddenState.ToArray());
        Assert.Equal(cn, stream.CellState.ToArray());

        // Allocation-free steady state.
        AllocationAssert.Zero(() => stream.Step(x.AsSpan(0, batch * 4), step), iterations: 10);
    }

    [Fact]
    public void Training_reduces_the_loss_and_updates_weight_hr()
    {
        var cfg = new RecurrentConfig(CellKind.Lstm, 2, 8) { ProjSize = 3 };
        var model = TrainableRecurrent.Create(cfg, new SeededRandom(3));
        Assert.True(model.Parameters.Contains("weight_hr_l0"));
        var hr = model.Layer.ParameterStorage(0, 0, ParameterKind.WeightHr);
        var hrBefore = (float[])hr.Clone();
        int t = 6, batch = 4;
        var rng = new Random(9);
        var x = FastPathHarness.ToSingle(RandomData.Normal(rng, t * batch * 2));
        // The target is a teacher of the same shape, so the student can fit it.
        var teacher = TrainableRecurrent.Create(cfg, new SeededRandom(4)).Layer;
        var target = new float[t * batch * 3];
        using (var tws = teacher.CreateWorkspace(t, batch))
        {
            teacher.Forward(tws, x, t, batch, target);
        }

        using var ws = model.Layer.CreateWorkspace(t, batch, training: true);
        var y = new float[target.Length];
        var dy = new float[target.Length];
        double Step()
        {
            model.Layer.Forward(ws, x, t, batch, y);
            double loss = 0;
            for (int i = 0; i < y.Length; i++)
            {
                double e = y[i] - target[i];
                loss += e * e;
                dy[i] = (float)(2 * e / y.Length);
            }

            model.Gradients.Clear();
            model.Layer.Backward(ws, dy, default, default, model.Gradients);
            foreach (var prm in model.Parameters)
            {
                var v = prm.Value.Span;
                var g = prm.Grad.Span;
                for (int i = 0; i < v.Length; i++)
                {
                    v[i] -= 2f * g[i];
                }
            }

            model.RefreshWeights();
            return loss / y.Length;
        }

        double first = Step();
        double last = first;
        for (int i = 0; i < 100; i++)
        {
            last = Step();
        }

        Assert.True(last < 0.5 * first, $"loss {first} -> {last}");
        Assert.NotEqual(hrBefore, hr);
    }

    private static void ZeroPast(double[] dy, int[] lens, int t, int batch, int features, bool batchFirst)
    {
        for (int b = 0; b < batch; b++)
        {
            for (int s = lens[b]; s < t; s++)
            {
                int row = batchFirst ? (b * t) + s : (s * batch) + b;
                Array.Clear(dy, row * features, features);
            }
        }
    }

    private static (SequenceOutputs Outputs, SequenceGradients Gradients) RunFast(
        RecurrentLayer layer, int t, int batch, double[] x, double[] h0, double[] c0, int[]? lens, double[] dy, double[] dhn, double[] dcn, int threads)
    {
        var cfg = layer.Config;
        using var ws = layer.CreateWorkspace(t, batch, training: true, threads: threads);
        var y = new float[dy.Length];
        var hn = new float[h0.Length];
        var cn = new float[c0.Length];
        layer.Forward(ws, FastPathHarness.ToSingle(x), t, batch, y, hn, cn, FastPathHarness.ToSingle(h0), FastPathHarness.ToSingle(c0), lens);
        var grads = new RecurrentGradients(cfg);
        var dx = new float[x.Length];
        var dh0 = new float[h0.Length];
        var dc0 = new float[c0.Length];
        layer.Backward(ws, FastPathHarness.ToSingle(dy), FastPathHarness.ToSingle(dhn), FastPathHarness.ToSingle(dcn), grads, dx, dh0, dc0);
        static double[] D(float[] a) => Array.ConvertAll(a, v => (double)v);
        return (new SequenceOutputs(D(y), D(hn), D(cn)), new SequenceGradients(grads.ToDouble(), D(dx), D(dh0), D(dc0)));
    }

    private static void Within(string what, ReadOnlySpan<float> fast, double[] expected) =>
        Assert.True(FastPathHarness.RelativeError(fast, expected) <= Float32Tolerance, $"{what}: relative error {FastPathHarness.RelativeError(fast, expected):E2}");

    private static void Within(string what, double[] fast, double[] expected) => Within(what, Array.ConvertAll(fast, v => (float)v), expected);

    private sealed record Fixture(string Dir, RecurrentParameters Parameters, int SeqLen, int Batch, int[]? Lengths)
    {
        public double[] Input => Load("input");

        public double[] H0 => Load("h0");

        public double[] C0 => Load("c0");

        public double[] Output => Load("output");

        public double[] HN => Load("h_n");

        public double[] CN => Load("c_n");

        public double[] GradOutput => Load("grad_output");

        public double[] GradHN => Load("grad_h_n");

        public double[] GradCN => Load("grad_c_n");

        public static Fixture Open(string name)
        {
            string dir = Path.Combine(FixtureRoot, name);
            using var meta = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(dir, "meta.json")));
            var m = meta.RootElement;
            var tensors = Directory.GetFiles(dir, "*.npy").Select(f => Path.GetFileNameWithoutExtension(f)!)
                .Where(n => n.StartsWith("weight_", StringComparison.Ordinal) || n.StartsWith("bias_", StringComparison.Ordinal))
                .Select(n => new KeyValuePair<string, HostTensor>(n, Npy.ReadFile(Path.Combine(dir, n + ".npy"))));
            var p = PyTorchStateDict.ToParameters(CellKind.Lstm, tensors, name, m.GetProperty("batch_first").GetBoolean());
            int[]? lengths = m.GetProperty("lengths").ValueKind == JsonValueKind.Null ? null : [.. m.GetProperty("lengths").EnumerateArray().Select(e => e.GetInt32())];
            return new Fixture(dir, p, m.GetProperty("seq_len").GetInt32(), m.GetProperty("batch").GetInt32(), lengths);
        }

        public double[] Load(string file) => Npy.ReadFile(Path.Combine(Dir, file + ".npy")).ToDouble();
    }
}
