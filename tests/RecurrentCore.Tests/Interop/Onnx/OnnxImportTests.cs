using RecurrentCore.Interop;
using RecurrentCore.Interop.Onnx;
using RecurrentCore.Reference;
using RecurrentCore.Tests.Reference;
using Xunit;
using static RecurrentCore.Tests.Interop.InteropAssert;

namespace RecurrentCore.Tests.Interop.Onnx;

/// <summary>Import of our exports (exact round trip) and of models made by torch.onnx.export and onnx.helper (tests/fixtures/gen_onnx.py).</summary>
public class OnnxImportTests
{
    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "fixtures", "onnx", name);

    [Theory]
    [MemberData(nameof(OnnxExportTests.Cases), MemberType = typeof(OnnxExportTests))]
    public void Export_then_import_gives_identical_parameters(string cellName, int layers, bool bidirectional, bool bias, bool batchFirst, bool lengths, bool states)
    {
        var cfg = new RecurrentConfig(CellKinds.Parse(cellName), inputSize: 3, hiddenSize: 5, numLayers: layers, bias: bias, batchFirst: batchFirst, bidirectional: bidirectional);
        var p = RandomData.Parameters(cfg, new Random(layers * 7 + cellName.Length), scale: 0.7);
        var imported = OnnxModel.Import(OnnxModel.Export(p, new OnnxExportOptions { SequenceLens = lengths, InitialStates = states }), "roundtrip.onnx");
        Assert.Equal(cfg, imported.Config);
        foreach (var (name, shape, data) in p.Named())
        {
            var other = imported.Parameters.Named().Single(t => t.Name == name);
            Assert.Equal(shape, other.Shape);
            Assert.Equal(Close.ToFloat(data), other.Data);
        }

        Assert.Equal(layers, imported.Description.Nodes.Count);
        Assert.Equal(lengths ? OnnxModel.Names.SequenceLens : null, imported.Description.Nodes[0].SequenceLens);
    }

    [Fact]
    public void Round_trips_a_gru_with_linear_before_reset_0()
    {
        var cfg = new RecurrentConfig(CellKind.Gru, 2, 3, 2, bidirectional: true) { LinearBeforeReset = false };
        var p = RandomData.Parameters(cfg, new Random(3), 0.5);
        var imported = OnnxModel.Import(OnnxModel.Export(p), "lbr0.onnx");
        Assert.False(imported.Config.LinearBeforeReset);
        Assert.Equal(cfg, imported.Config);
    }

    [Fact]
    public void Accepts_weights_from_constant_nodes_and_float16()
    {
        var cfg = new RecurrentConfig(CellKind.Lstm, 2, 3);
        var p = RandomData.Parameters(cfg, new Random(4), 0.5);
        var model = OnnxExporter.Build(p, new OnnxExportOptions());
        var g = model.Graph!;
        var w = g.Initializers.Single(t => t.Name == "W_l0");
        g.Initializers.Remove(w);
        var constant = new OnnxNodeProto { OpType = "Constant", Name = "w_const" };
        constant.Outputs.Add("W_l0");
        constant.Attributes.Add(new OnnxAttributeProto { Name = "value", Type = OnnxAttributeType.Tensor, T = w });
        g.Nodes.Insert(0, constant);
        var r = g.Initializers.Single(t => t.Name == "R_l0");
        var half = r.RawData!.Chunk(4).SelectMany(f => BitConverter.GetBytes((Half)BitConverter.ToSingle(f))).ToArray();
        r.RawData = half;
        r.DataType = 10;

        var imported = OnnxModel.Import(model.ToBytes(), "const.onnx").Parameters;
        Assert.Equal(Close.ToFloat(p[0, 0, ParameterKind.WeightIh]), imported[0, 0, ParameterKind.WeightIh]);
        Assert.Equal(p[0, 0, ParameterKind.WeightHh].Select(v => (double)(Half)(float)v), imported[0, 0, ParameterKind.WeightHh]);
    }

    [Fact]
    public void Imports_torch_exported_stacked_bidirectional_batch_first_lstm()
    {
        var model = OnnxModel.Import(Fixture("torch_lstm_l2_bi_bf.onnx"));
        Assert.Equal(new RecurrentConfig(CellKind.Lstm, 3, 4, numLayers: 2, bias: true, batchFirst: true, bidirectional: true), model.Config);
        Assert.Equal(["input"], model.Description.Inputs.Select(i => i.Name));
        Assert.NotNull(model.Description.Nodes[0].InitialH); // zeros computed inside the graph
        CompareWithOrt(Fixture("torch_lstm_l2_bi_bf.onnx"), model.Parameters, t: 5, b: 2, lengths: null, withH0: false, onnxLayout: false);
    }

    [Fact]
    public void Imports_torch_exported_gru_with_h0_input()
    {
        var model = OnnxModel.Import(Fixture("torch_gru_h0.onnx"));
        Assert.Equal(new RecurrentConfig(CellKind.Gru, 3, 5), model.Config);
        Assert.True(model.Config.LinearBeforeReset);
        Assert.Equal("h0", model.Description.Nodes[0].InitialH);
        CompareWithOrt(Fixture("torch_gru_h0.onnx"), model.Parameters, t: 4, b: 2, lengths: null, withH0: true, onnxLayout: false);
    }

    [Fact]
    public void Imports_torch_exported_relu_rnn_without_bias()
    {
        var model = OnnxModel.Import(Fixture("torch_rnn_relu_l2.onnx"));
        Assert.Equal(new RecurrentConfig(CellKind.RnnRelu, 4, 3, numLayers: 2, bias: false), model.Config);
        CompareWithOrt(Fixture("torch_rnn_relu_l2.onnx"), model.Parameters, t: 6, b: 3, lengths: null, withH0: false, onnxLayout: false);
    }

    /// <summary>
    /// The imported weights reproduce PyTorch itself: the generator saved the export arguments and the float64 outputs
    /// of a float64 copy of the module (same float32 weights, widened exactly), so agreement is to rounding.
    /// </summary>
    [Theory]
    [InlineData("torch_lstm_l2_bi_bf", 5, 2)]
    [InlineData("torch_gru_h0", 4, 2)]
    [InlineData("torch_rnn_relu_l2", 6, 2)]
    public void Imported_torch_models_match_pytorch_outputs(string name, int t, int b)
    {
        var p = OnnxModel.Import(Fixture(name + ".onnx")).Parameters;
        HostTensor? Load(string tensor) => File.Exists(Fixture($"{name}/{tensor}.npy")) ? Npy.ReadFile(Fixture($"{name}/{tensor}.npy")) : null;
        var input = Load("input")!;
        Assert.Equal(p.Config.BatchFirst ? [b, t, p.Config.InputSize] : new[] { t, b, p.Config.InputSize }, input.Shape);
        var o = ReferenceRnn.Forward(p, new SequenceInputs(t, b, input.ToDouble(), Load("h0")?.ToDouble()));
        Close.Assert("output", Load("output")!.ToDouble(), o.Output, 1e-12);
        Close.Assert("h_n", Load("h_n")!.ToDouble(), o.HN, 1e-12);
        if (Load("c_n") is { } cn)
        {
            Close.Assert("c_n", cn.ToDouble(), o.CN!, 1e-12);
        }
    }

    [Fact]
    public void Imports_helper_built_gru_with_linear_before_reset_0_float_data_and_sequence_lens()
    {
        var model = OnnxModel.Import(Fixture("helper_gru_lbr0_bi.onnx"));
        Assert.Equal(new RecurrentConfig(CellKind.Gru, 3, 4, bidirectional: true) { LinearBeforeReset = false }, model.Config);
        Assert.Equal(["X", "sequence_lens", "initial_h"], model.Description.Inputs.Select(i => i.Name));
        CompareWithOrt(Fixture("helper_gru_lbr0_bi.onnx"), model.Parameters, t: 5, b: 3, lengths: [3, 5, 1], withH0: true, onnxLayout: true);
    }

    [Fact]
    public void Imports_helper_built_double_gru_without_bias()
    {
        var model = OnnxModel.Import(Fixture("helper_gru_fp64.onnx"));
        Assert.Equal(new RecurrentConfig(CellKind.Gru, 2, 3, bias: false), model.Config);
        // ONNX Runtime has no double GRU kernel: the generator computed Y and Y_h from the ONNX equations in numpy.
        double[] x = Npy.ReadFile(Fixture("helper_gru_fp64/X.npy")).ToDouble();
        var y = Npy.ReadFile(Fixture("helper_gru_fp64/Y.npy"));
        Assert.Equal([4, 1, 2, 3], y.Shape);
        var expected = ReferenceRnn.Forward(model.Parameters, new SequenceInputs(4, 2, x));
        Close.Assert("output", Close.YToOutput(y.ToDouble(), 4, 1, 2, 3), expected.Output, 1e-12);
        Close.Assert("h_n", Npy.ReadFile(Fixture("helper_gru_fp64/Y_h.npy")).ToDouble(), expected.HN, 1e-12);
    }

    [Fact]
    public void Refuses_peepholes_from_helper_built_model()
    {
        string path = Fixture("helper_lstm_peephole.onnx");
        Fails(() => OnnxModel.Import(path), path, "node 'peephole_lstm' (LSTM)", "input 'P'", "peephole");
    }

    /// <summary>
    /// Runs the model file through ORT on random inputs (every graph input fed by name, in the order the description
    /// lists) and compares every output with the reference forward of the imported parameters.
    /// </summary>
    private static void CompareWithOrt(string path, RecurrentParameters p, int t, int b, int[]? lengths, bool withH0, bool onnxLayout)
    {
        var cfg = p.Config;
        var rng = new Random(path.Length);
        double[] Round(double[] v) => Close.ToFloat(v);
        OrtTensor Tensor(double[] v, params long[] shape) => OrtTensor.Float(v, shape);
        var described = OnnxModel.Import(path).Description.Inputs;
        int states = cfg.NumLayers * cfg.NumDirections * b * cfg.HiddenSize;
        var input = Round(RandomData.Normal(rng, t * b * cfg.InputSize));
        var h0 = withH0 ? Round(RandomData.Normal(rng, states, 0.5)) : null;
        var feeds = new Dictionary<string, OrtTensor>
        {
            [described[0].Name] = cfg.BatchFirst ? Tensor(input, b, t, cfg.InputSize) : Tensor(input, t, b, cfg.InputSize),
        };
        foreach (var v in described.Skip(1))
        {
            feeds[v.Name] = v.ElementType == "int32"
                ? OrtTensor.Int32(lengths!, b)
                : Tensor(h0!, cfg.NumLayers * cfg.NumDirections, b, cfg.HiddenSize);
        }

        var expected = ReferenceRnn.Forward(p, new SequenceInputs(t, b, input, h0, null, lengths));
        var actual = OrtRunner.Run(File.ReadAllBytes(path), feeds);
        var outputs = actual.Values.ToList();
        const double tol = 1e-5;
        var y = outputs[0].Values();
        Close.Assert("output", expected.Output, onnxLayout ? Close.YToOutput(y, t, cfg.NumDirections, b, cfg.HiddenSize) : y, tol);
        Close.Assert("h_n", expected.HN, outputs[1].Values(), tol);
        if (cfg.Cell == CellKind.Lstm)
        {
            Close.Assert("c_n", expected.CN!, outputs[2].Values(), tol);
        }
    }
}
