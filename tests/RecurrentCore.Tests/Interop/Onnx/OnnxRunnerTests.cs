using RecurrentCore.Interop.Onnx;
using RecurrentCore.Tests.Reference;
using Xunit;

namespace RecurrentCore.Tests.Interop.Onnx;

/// <summary>
/// <see cref="OnnxRunner"/>: the planned, caller-buffer run of a session. Its outputs are compared bitwise with
/// <see cref="OnnxSession.Run"/> (fresh tensors per call; the recurrent nodes and the MatMul, Gemm and Softmax
/// arithmetic are shared routines, so what this checks is the runner's planning: index maps, views, buffers, reuse
/// between calls) on exported stacks with
/// and without heads, bidirectional, sequence_lens, initial states, layout and reverse, and on PyTorch-exported models;
/// a warm run allocates nothing.
/// </summary>
public class OnnxRunnerTests
{
    public static TheoryData<string, bool, bool, bool, int> Exported() => new()
    {
        // cell, bidirectional, batchFirst, reverse, head (0 none, 1 every step + Sigmoid, 2 final state + Softmax)
        { "lstm", false, false, false, 0 },
        { "lstm", true, false, false, 1 },
        { "gru", false, true, false, 2 },
        { "gru", true, true, false, 0 },
        { "lstm", false, true, true, 2 },
        { "rnn-tanh", true, false, false, 1 },
        { "gru", false, false, true, 1 },
    };

    [Theory]
    [MemberData(nameof(Exported))]
    public void Runner_equals_session_run_bitwise_and_allocates_nothing(string cell, bool bidirectional, bool batchFirst, bool reverse, int head)
    {
        var cfg = new RecurrentConfig(CellKinds.Parse(cell), 3, 4, numLayers: 2, batchFirst: batchFirst, bidirectional: bidirectional);
        var rng = new Random(5);
        var p = RandomData.Parameters(cfg, rng, 0.5);
        int t = 5, b = 3, f = 3, k = cfg.OutputSize, states = cfg.NumLayers * cfg.NumDirections * b * cfg.HiddenSize;
        var linear = head == 0 ? null : new OnnxLinearHead(
            Close.ToFloat(RandomData.Normal(rng, f * k, 0.5)), Close.ToFloat(RandomData.Normal(rng, f, 0.2)), f,
            head == 1 ? OnnxHeadInput.EveryStep : OnnxHeadInput.FinalState, head == 1 ? OnnxHeadActivation.Sigmoid : OnnxHeadActivation.Softmax);
        byte[] model = OnnxModel.Export(p, new OnnxExportOptions { Head = linear, SequenceLens = true, InitialStates = true, Reverse = reverse });
        var session = OnnxModel.Load(model, "runner.onnx");
        int[] xShape = batchFirst ? [b, t, 3] : [t, b, 3];
        int[] stateShape = [cfg.NumLayers * cfg.NumDirections, b, cfg.HiddenSize];
        var x = Floats(RandomData.Normal(rng, t * b * 3));
        var h0 = Floats(RandomData.Normal(rng, states, 0.3));
        var c0 = Floats(RandomData.Normal(rng, states, 0.3));
        int[] lengths = [5, 2, 4];
        bool lstm = cfg.Cell == CellKind.Lstm;
        var feeds = new Dictionary<string, OnnxTensor>
        {
            [OnnxModel.Names.Input] = OnnxTensor.FromFloats([.. x.Select(v => (double)v)], xShape),
            [OnnxModel.Names.SequenceLens] = OnnxTensor.FromInt32s(lengths, b),
            [OnnxModel.Names.InitialH] = OnnxTensor.FromFloats([.. h0.Select(v => (double)v)], stateShape),
        };
        if (lstm)
        {
            feeds[OnnxModel.Names.InitialC] = OnnxTensor.FromFloats([.. c0.Select(v => (double)v)], stateShape);
        }

        var expected = session.Run(feeds);
        using var runner = session.CreateRunner(feeds.ToDictionary(e => e.Key, e => e.Value.Shape));
        var buffers = runner.Inputs.Select(v => v.Name switch
        {
            OnnxModel.Names.Input => (OnnxBuffer)x,
            OnnxModel.Names.SequenceLens => lengths,
            OnnxModel.Names.InitialH => h0,
            _ => c0,
        }).ToArray();
        var doubles = runner.Outputs.Select(v => new double[v.Length]).ToArray();
        var floats = runner.Outputs.Select(v => new float[v.Length]).ToArray();
        var outDoubles = doubles.Select(d => (OnnxBuffer)d).ToArray();
        var outFloats = floats.Select(d => (OnnxBuffer)d).ToArray();

        // First a run on other inputs and lengths into the same buffers: nothing of it may leak into the compared runs
        // (state carried between calls, padded steps left unwritten).
        var other = runner.Inputs.Select(v => v.Name switch
        {
            OnnxModel.Names.Input => (OnnxBuffer)Floats(RandomData.Normal(rng, x.Length)),
            OnnxModel.Names.SequenceLens => (int[])[1, 5, 3],
            OnnxModel.Names.InitialH => Floats(RandomData.Normal(rng, h0.Length)),
            _ => Floats(RandomData.Normal(rng, c0.Length)),
        }).ToArray();
        runner.Run(other, outDoubles);
        runner.Run(other, outFloats);
        runner.Run(buffers, outDoubles);
        runner.Run(buffers, outFloats);
        for (int o = 0; o < runner.Outputs.Count; o++)
        {
            var want = expected[runner.Outputs[o].Name];
            Assert.Equal(want.Shape, runner.Outputs[o].Shape);
            Assert.Equal(want.Data, doubles[o]); // bitwise
            Assert.Equal(want.Data.Select(v => (float)v).ToArray(), floats[o]);
        }

        AllocationAssert.Zero(() => runner.Run(buffers, outFloats));

        // The call docs/onnx.md shows: a collection expression of buffers lives on the stack.
        string[] order = lstm
            ? [OnnxModel.Names.Input, OnnxModel.Names.SequenceLens, OnnxModel.Names.InitialH, OnnxModel.Names.InitialC]
            : [OnnxModel.Names.Input, OnnxModel.Names.SequenceLens, OnnxModel.Names.InitialH];
        Assert.Equal(order, runner.Inputs.Select(v => v.Name));
        if (lstm)
        {
            AllocationAssert.Zero(() => runner.Run([x, lengths, h0, c0], outFloats));
        }
        else
        {
            AllocationAssert.Zero(() => runner.Run([x, lengths, h0], outFloats));
        }
    }

    public static TheoryData<string> TorchModels() => OnnxFixtureModelTests.TorchModels();

    [Theory]
    [MemberData(nameof(TorchModels))]
    public void Runner_equals_session_run_on_pytorch_exported_models(string name)
    {
        string path = Path.Combine(OnnxFixtureModelTests.Root("onnx_torch"), name + ".onnx");
        string dir = Path.Combine(OnnxFixtureModelTests.Root("onnx_torch"), name);
        foreach (bool fastPath in new[] { true, false })
        {
            var session = OnnxModel.Load(path, new OnnxSessionOptions { FastPath = fastPath });
            AssertRunnerMatches(session, session.Inputs.ToDictionary(v => v.Name, v => OnnxFixtureModelTests.Npy(Path.Combine(dir, v.Name + ".npy"), asFloat: true)), allocationFree: fastPath);
        }
    }

    public static TheoryData<string, int, string, bool> NodeCases() => new()
    {
        // op, layout, direction, clip (the general ONNX cell instead of PyTorch's)
        { "LSTM", 1, "bidirectional", false },
        { "GRU", 0, "reverse", true },
        { "LSTM", 0, "forward", true },
        { "RNN", 1, "reverse", false },
    };

    [Theory]
    [MemberData(nameof(NodeCases))]
    public void Node_with_layout_lengths_and_states_runs_bitwise_as_the_session_without_allocating(string op, int layout, string direction, bool clip)
    {
        var c = new OnnxNodeCase { Op = op, Layout = layout, Direction = direction, Lengths = [4, 1, 3], InitialH = "input", InitialC = op == "LSTM" ? "input" : null, Clip = clip ? 2.5f : null };
        var (model, feeds, _) = c.Build();
        AssertRunnerMatches(OnnxModel.Load(model, "node.onnx"), feeds, allocationFree: true);
    }

    [Fact]
    public void Runner_refuses_weights_fed_at_run_time_and_wrong_buffers_in_one_line()
    {
        var dir = Path.Combine(OnnxFixtureModelTests.Root("onnx_node"), "test_lstm_defaults");
        var feeds = OnnxFixtureModelTests.ReadSet(dir, "input");
        var session = OnnxModel.Load(File.ReadAllBytes(Path.Combine(dir, "model.onnx")), "node.onnx");
        var e = Assert.Throws<InteropFormatException>(() => session.CreateRunner(feeds.ToDictionary(f => f.Name, f => f.Tensor.Shape)));
        Assert.StartsWith("node.onnx: node ", e.Message, StringComparison.Ordinal);
        Assert.Contains("is fed at run time; OnnxRunner needs constant weights", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);

        var p = RandomData.Parameters(new RecurrentConfig(CellKind.Gru, 3, 4), new Random(1), 0.5);
        var s = OnnxModel.Load(OnnxModel.Export(p), "gru.onnx");
        var bad = Assert.Throws<InteropFormatException>(() => s.CreateRunner(new Dictionary<string, int[]> { ["input"] = [5, 2, 4] }));
        Assert.Equal("gru.onnx: input 'input' has shape (5, 2, 4), but the graph declares (seq, batch, 3)", bad.Message);
        using var runner = s.CreateRunner(new Dictionary<string, int[]> { ["input"] = [5, 2, 3] });
        var a = Assert.Throws<ArgumentException>(() => runner.Run([new float[29]], [new float[40], default]));
        Assert.StartsWith("input 'input': the buffer has 29 values, its shape (5, 2, 3) needs 30", a.Message, StringComparison.Ordinal);
        var count = Assert.Throws<ArgumentException>(() => runner.Run([new float[30]], [new float[40]]));
        Assert.Equal("Run takes 1 input and 2 output buffers (Inputs, Outputs), got 1 and 1", count.Message);
    }

    /// <summary>A runner over <paramref name="feeds"/>' shapes gives <see cref="OnnxSession.Run"/>'s outputs bitwise (float64 buffers).</summary>
    private static void AssertRunnerMatches(OnnxSession session, Dictionary<string, OnnxTensor> feeds, bool allocationFree)
    {
        var expected = session.Run(feeds);
        using var runner = session.CreateRunner(feeds.ToDictionary(e => e.Key, e => e.Value.Shape));
        var inputs = runner.Inputs.Select(v => (OnnxBuffer)feeds[v.Name].Data).ToArray();
        var outputs = runner.Outputs.Select(v => new double[v.Length]).ToArray();
        var buffers = outputs.Select(d => (OnnxBuffer)d).ToArray();
        runner.Run(inputs, buffers);
        for (int o = 0; o < outputs.Length; o++)
        {
            Assert.Equal(expected[runner.Outputs[o].Name].Shape, runner.Outputs[o].Shape);
            Assert.Equal(expected[runner.Outputs[o].Name].Data, outputs[o]);
        }

        if (allocationFree)
        {
            AllocationAssert.Zero(() => runner.Run(inputs, buffers));
        }
    }

    private static float[] Floats(double[] values) => [.. values.Select(v => (float)v)];
}
