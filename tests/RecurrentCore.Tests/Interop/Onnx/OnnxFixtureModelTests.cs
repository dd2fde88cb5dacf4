using RecurrentCore.Interop.Onnx;
using Xunit;

namespace RecurrentCore.Tests.Interop.Onnx;

/// <summary>
/// Whole models written by others (tests/fixtures/gen_onnx_models.py): ONNX's own backend node tests for RNN, LSTM
/// and GRU (expected outputs from onnx's numpy implementations), and torch.onnx.export of recurrent models with
/// Linear heads (expected outputs from PyTorch in float64), each run by <see cref="OnnxSession"/> on the reference
/// and the fast path and, where it runs the model, by ONNX Runtime.
/// </summary>
public class OnnxFixtureModelTests
{
    internal static string Root(string folder) => Path.Combine(AppContext.BaseDirectory, "fixtures", folder);

    public static TheoryData<string> NodeTests() => [.. Directory.GetDirectories(Root("onnx_node")).Select(d => Path.GetFileName(d)!).Order(StringComparer.Ordinal)];

    public static TheoryData<string> TorchModels() => [.. Directory.GetFiles(Root("onnx_torch"), "*.onnx").Select(f => Path.GetFileNameWithoutExtension(f)!).Order(StringComparer.Ordinal)];

    [Fact]
    public void All_twelve_node_tests_of_onnx_1_12_are_present()
    {
        Assert.Equal(12, NodeTests().Count);
    }

    [Theory]
    [MemberData(nameof(NodeTests))]
    public void Onnx_backend_node_test_passes(string name)
    {
        string dir = Path.Combine(Root("onnx_node"), name);
        byte[] model = File.ReadAllBytes(Path.Combine(dir, "model.onnx"));
        var inputs = ReadSet(dir, "input");
        var expected = ReadSet(dir, "output");
        foreach (bool fastPath in new[] { false, true })
        {
            var session = OnnxModel.Load(model, name, new OnnxSessionOptions { FastPath = fastPath });
            var actual = session.Run(inputs.ToDictionary(t => t.Name, t => t.Tensor));
            Assert.Equal(expected.Count, actual.Count);
            foreach (var (n, t) in expected)
            {
                Assert.Equal(t.Shape, actual[n].Shape);

                // onnx computes the expected values in float32 numpy.
                Close.Assert($"{name} ({(fastPath ? "fast" : "reference")}) {n}", t.Data, actual[n].Data, 2e-5);
            }
        }
    }

    /// <summary>What ONNX Runtime 1.31.1 does with the same node tests: it passes all but layout = 1 (batchwise), which it refuses.</summary>
    [Theory]
    [MemberData(nameof(NodeTests))]
    public void Onnx_runtime_passes_the_node_test_or_refuses_layout_1(string name)
    {
        string dir = Path.Combine(Root("onnx_node"), name);
        byte[] model = File.ReadAllBytes(Path.Combine(dir, "model.onnx"));
        var feeds = ReadSet(dir, "input").ToDictionary(t => t.Name, t => OnnxOperatorOrtTests.ToOrt(t.Tensor));
        if (name.EndsWith("_batchwise", StringComparison.Ordinal))
        {
            Assert.ThrowsAny<Exception>(() => OrtRunner.Run(model, feeds));
            return;
        }

        var actual = OrtRunner.Run(model, feeds);
        foreach (var (n, t) in ReadSet(dir, "output"))
        {
            Close.Assert($"{name} ORT {n}", t.Data, actual[n].Values(), 2e-5);
        }
    }

    [Theory]
    [MemberData(nameof(TorchModels))]
    public void Torch_exported_model_with_head_matches_pytorch_and_onnx_runtime(string name)
    {
        string path = Path.Combine(Root("onnx_torch"), name + ".onnx");
        string dir = Path.Combine(Root("onnx_torch"), name);
        var session = OnnxModel.Load(path, new OnnxSessionOptions { FastPath = false });
        var feeds = session.Inputs.ToDictionary(v => v.Name, v => Npy(Path.Combine(dir, v.Name + ".npy"), asFloat: true));
        var reference = session.Run(feeds);
        var fast = OnnxModel.Load(path).Run(feeds);
        var ort = OrtRunner.Run(File.ReadAllBytes(path), feeds.ToDictionary(f => f.Key, f => OnnxOperatorOrtTests.ToOrt(f.Value)));
        foreach (var o in session.Outputs)
        {
            var torch = Npy(Path.Combine(dir, o.Name + ".npy"), asFloat: false);
            Assert.Equal(torch.Shape, reference[o.Name].Shape);

            // Same float32 weights and inputs, both in double: agreement to rounding.
            Close.Assert($"{name} reference vs PyTorch {o.Name}", torch.Data, reference[o.Name].Data, 1e-10);
            Close.Assert($"{name} fast path vs PyTorch {o.Name}", torch.Data, fast[o.Name].Data, 2e-5);
            Close.Assert($"{name} ONNX Runtime vs reference {o.Name}", reference[o.Name].Data, ort[o.Name].Values(), 2e-5);
        }
    }

    [Fact]
    public void Torch_lstm_classifier_runs_its_lstm_on_the_fast_path()
    {
        var session = OnnxModel.Load(Path.Combine(Root("onnx_torch"), "lstm_last_step_softmax.onnx"));
        Assert.Equal("fast", session.RecurrentNodes.Single().Path);
    }

    [Fact]
    public void Import_refuses_a_head_instead_of_dropping_it()
    {
        string path = Path.Combine(Root("onnx_torch"), "lstm_last_step_softmax.onnx");
        var e = Assert.Throws<InteropFormatException>(() => OnnxModel.Import(path));
        Assert.Contains("(Gemm) is not part of a recurrent layer stack", e.Message, StringComparison.Ordinal);
        Assert.Contains("OnnxModel.Load runs the whole graph", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_refuses_an_unsupported_node_naming_it_and_its_op_type()
    {
        var c = new OnnxNodeCase { Op = "GRU" };
        var model = OnnxModelProto.Parse(c.Build().Model, "m");
        var conv = new OnnxNodeProto { OpType = "Conv", Name = "conv1" };
        conv.Inputs.AddRange(["Y", "W"]);
        conv.Outputs.Add("Z");
        model.Graph!.Nodes.Add(conv);
        var e = Assert.Throws<InteropFormatException>(() => OnnxModel.Load(model.ToBytes(), "m.onnx"));
        Assert.StartsWith("m.onnx: node 'conv1' (Conv) is not supported", e.Message, StringComparison.Ordinal);
    }

    internal static List<(string Name, OnnxTensor Tensor)> ReadSet(string dir, string kind)
    {
        var files = Directory.GetFiles(Path.Combine(dir, "test_data_set_0"), kind + "_*.pb")
            .OrderBy(f => int.Parse(Path.GetFileNameWithoutExtension(f)[(kind.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture));
        return [.. files.Select(f => OnnxModel.ReadTensor(File.ReadAllBytes(f), f))];
    }

    internal static OnnxTensor Npy(string path, bool asFloat)
    {
        var t = RecurrentCore.Interop.Npy.ReadFile(path);
        double[] data = t.ToDouble();
        return asFloat ? OnnxTensor.FromFloats(Close.ToFloat(data), [.. t.Shape]) : OnnxTensor.FromDoubles(data, [.. t.Shape]);
    }
}
