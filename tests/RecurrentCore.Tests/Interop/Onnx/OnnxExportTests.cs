using RecurrentCore.Interop.Onnx;
using RecurrentCore.Reference;
using RecurrentCore.Tests.Reference;
using Xunit;

namespace RecurrentCore.Tests.Interop.Onnx;

/// <summary>Our export, run through ONNX Runtime, gives the reference forward's outputs.</summary>
public class OnnxExportTests
{
    public static TheoryData<string, int, bool, bool, bool, bool, bool> Cases()
    {
        var data = new TheoryData<string, int, bool, bool, bool, bool, bool>();
        foreach (string cell in new[] { "lstm", "gru", "rnn-tanh", "rnn-relu" })
        {
            // cell, layers, bidirectional, bias, batchFirst, sequence_lens, initial states
            data.Add(cell, 1, false, true, false, false, false);
            data.Add(cell, 1, false, false, false, true, true);
            data.Add(cell, 2, false, true, true, false, true);
            data.Add(cell, 1, true, true, false, true, true);
            data.Add(cell, 2, true, true, true, true, true);
            data.Add(cell, 2, true, false, false, false, false);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Ort_runs_the_export_like_the_reference(string cellName, int layers, bool bidirectional, bool bias, bool batchFirst, bool lengths, bool states)
    {
        var cfg = new RecurrentConfig(CellKinds.Parse(cellName), inputSize: 3, hiddenSize: 5, numLayers: layers, bias: bias, batchFirst: batchFirst, bidirectional: bidirectional);
        var rng = new Random(TestSeed.Of(cellName, layers, bidirectional, bias, batchFirst, lengths, states));
        RunAndCompare(cfg, rng, lengths, states);
    }

    [Theory]
    [InlineData(1, false)]
    [InlineData(2, true)]
    public void Ort_runs_a_linear_after_reset_gru_like_the_reference(int layers, bool bidirectional)
    {
        var cfg = new RecurrentConfig(CellKind.Gru, 3, 4, layers, bidirectional: bidirectional) { LinearBeforeReset = false };
        RunAndCompare(cfg, new Random(11 + layers), lengths: true, states: true);
    }

    [Fact]
    public void Writes_a_file_with_the_documented_interface()
    {
        var cfg = new RecurrentConfig(CellKind.Lstm, 2, 3, numLayers: 2, bidirectional: true);
        string path = Path.Combine(Path.GetTempPath(), $"rc-onnx-{Guid.NewGuid():N}.onnx");
        try
        {
            OnnxModel.Export(RandomData.Parameters(cfg, new Random(1), 0.5), path, new OnnxExportOptions { SequenceLens = true, InitialStates = true, Opset = 17 });
            var d = OnnxModel.Import(path).Description;
            Assert.Equal(path, d.Source);
            Assert.Equal(17, d.Opset);
            Assert.Equal("RecurrentCore", d.ProducerName);
            Assert.Equal(["input", "sequence_lens", "h0", "c0"], d.Inputs.Select(i => i.Name));
            Assert.Equal(["seq", "batch", "2"], d.Inputs[0].Shape);
            Assert.Equal("int32", d.Inputs[1].ElementType);
            Assert.Equal(["output", "h_n", "c_n"], d.Outputs.Select(o => o.Name));
            Assert.Equal(["4", "batch", "3"], d.Outputs[1].Shape);
            Assert.Equal(2, d.Nodes.Count);
            Assert.All(d.Nodes, n => Assert.Equal("LSTM", n.OpType));
            Assert.Equal("bidirectional", d.Nodes[1].Direction);
            Assert.Equal(["input", "X_l1"], d.Nodes.Select(n => n.X));
            Assert.Equal(["sequence_lens", "sequence_lens"], d.Nodes.Select(n => n.SequenceLens));
            Assert.Equal(["h0_l0", "h0_l1"], d.Nodes.Select(n => n.InitialH));
            Assert.Equal(["c0_l0", "c0_l1"], d.Nodes.Select(n => n.InitialC));
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>
    /// Pins ONNX Runtime behaviour that docs/onnx.md describes: a sequence of length 0 (which PyTorch and the reference
    /// refuse) gets zero Y and a zero Y_h/Y_c, not its initial state; lengths above T are an error.
    /// </summary>
    [Theory]
    [InlineData("lstm")]
    [InlineData("gru")]
    [InlineData("rnn-tanh")]
    public void Ort_zeroes_y_h_of_a_zero_length_sequence(string cellName)
    {
        var cfg = new RecurrentConfig(CellKinds.Parse(cellName), 2, 2, bidirectional: true);
        var model = OnnxModel.Export(RandomData.Parameters(cfg, new Random(1), 0.5), new OnnxExportOptions { SequenceLens = true, InitialStates = true });
        var feeds = new Dictionary<string, OrtTensor>
        {
            [OnnxModel.Names.Input] = OrtTensor.Float(Enumerable.Range(0, 12).Select(i => 0.1 * i).ToArray(), 3, 2, 2),
            [OnnxModel.Names.SequenceLens] = OrtTensor.Int32([0, 2], 2),
            [OnnxModel.Names.InitialH] = OrtTensor.Float(Enumerable.Repeat(0.7, 8).ToArray(), 2, 2, 2),
        };
        if (cfg.Cell == CellKind.Lstm)
        {
            feeds[OnnxModel.Names.InitialC] = OrtTensor.Float(Enumerable.Repeat(0.3, 8).ToArray(), 2, 2, 2);
        }

        var r = OrtRunner.Run(model, feeds);
        var hn = r[OnnxModel.Names.HN].Values(); // (D = 2, B = 2, H = 2): batch entry 0 is the empty one
        Assert.Equal([0.0, 0.0], hn[0..2]);
        Assert.Equal([0.0, 0.0], hn[4..6]);
        Assert.NotEqual(0.0, hn[2]);
        var y = r[OnnxModel.Names.Output].Values(); // (T = 3, B = 2, 4)
        Assert.All(Enumerable.Range(0, 3).SelectMany(t => y.Skip(t * 8).Take(4)), v => Assert.Equal(0.0, v));

        feeds[OnnxModel.Names.SequenceLens] = OrtTensor.Int32([4, 2], 2);
        Assert.ThrowsAny<Exception>(() => OrtRunner.Run(model, feeds));
    }

    /// <summary>Pins why batch-first export uses Transposes: ONNX Runtime's CPU LSTM does not run layout = 1.</summary>
    [Fact]
    public void Ort_does_not_run_layout_1()
    {
        var p = RandomData.Parameters(new RecurrentConfig(CellKind.Lstm, 2, 3), new Random(2), 0.5);
        var model = OnnxExporter.Build(p, new OnnxExportOptions());
        var g = model.Graph!;
        var lstm = g.Nodes.Single(n => n.OpType == "LSTM");
        lstm.Attributes.Add(OnnxAttributeProto.Int("layout", 1));
        lstm.Outputs[0] = "Y";
        g.Nodes.Clear();
        g.Nodes.Add(lstm);
        g.Outputs.Clear();
        g.Outputs.Add(OnnxValueInfoProto.Tensor("Y", OnnxDataType.Float, "batch", "seq", 1, 3));
        g.Outputs.Add(OnnxValueInfoProto.Tensor(OnnxModel.Names.HN, OnnxDataType.Float, "batch", 1, 3));
        g.Outputs.Add(OnnxValueInfoProto.Tensor(OnnxModel.Names.CN, OnnxDataType.Float, "batch", 1, 3));
        var feeds = new Dictionary<string, OrtTensor> { [OnnxModel.Names.Input] = OrtTensor.Float(new double[12], 3, 2, 2) };
        var e = Assert.ThrowsAny<Exception>(() => OrtRunner.Run(model.ToBytes(), feeds));
        Assert.Contains("layout", e.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Refuses_options_out_of_range()
    {
        var p = new RecurrentParameters(new RecurrentConfig(CellKind.Gru, 2, 2));
        Assert.Throws<ArgumentException>(() => OnnxModel.Export(p, new OnnxExportOptions { Opset = 13 }));
        Assert.Throws<ArgumentException>(() => OnnxModel.Export(new RecurrentParameters(new RecurrentConfig(CellKind.Lstm, 2, 2) { LinearBeforeReset = false })));
    }

    internal static void RunAndCompare(RecurrentConfig cfg, Random rng, bool lengths, bool states)
    {
        const int T = 5, B = 3;
        var p = RandomData.Parameters(cfg, rng, scale: 0.7);
        foreach (var (_, _, data) in p.Named())
        {
            Close.ToFloat(data).CopyTo(data, 0);
        }

        int stateCount = cfg.NumLayers * cfg.NumDirections * B * cfg.HiddenSize;
        bool lstm = cfg.Cell == CellKind.Lstm;
        var input = Close.ToFloat(RandomData.Normal(rng, T * B * cfg.InputSize));
        var h0 = states ? Close.ToFloat(RandomData.Normal(rng, stateCount, 0.5)) : null;
        var c0 = states && lstm ? Close.ToFloat(RandomData.Normal(rng, stateCount, 0.5)) : null;
        int[]? lens = lengths ? [T, 2, 4] : null;
        var expected = ReferenceRnn.Forward(p, new SequenceInputs(T, B, input, h0, c0, lens));

        byte[] model = OnnxModel.Export(p, new OnnxExportOptions { SequenceLens = lengths, InitialStates = states });
        var feeds = new Dictionary<string, OrtTensor>
        {
            [OnnxModel.Names.Input] = cfg.BatchFirst ? OrtTensor.Float(input, B, T, cfg.InputSize) : OrtTensor.Float(input, T, B, cfg.InputSize),
        };
        long[] stateShape = [cfg.NumLayers * cfg.NumDirections, B, cfg.HiddenSize];
        if (lens is not null)
        {
            feeds[OnnxModel.Names.SequenceLens] = OrtTensor.Int32(lens, B);
        }

        if (h0 is not null)
        {
            feeds[OnnxModel.Names.InitialH] = OrtTensor.Float(h0, stateShape);
        }

        if (c0 is not null)
        {
            feeds[OnnxModel.Names.InitialC] = OrtTensor.Float(c0, stateShape);
        }

        var actual = OrtRunner.Run(model, feeds);

        // The same file imported back runs the same in the reference: ORT's outputs are the import's outputs too.
        var imported = OnnxModel.Import(model, "export.onnx");
        Assert.Equal(cfg, imported.Config);
        var reimported = ReferenceRnn.Forward(imported.Parameters, new SequenceInputs(T, B, input, h0, c0, lens));
        Assert.Equal(expected.Output, reimported.Output);
        Assert.Equal(expected.HN, reimported.HN);
        long[] outShape = cfg.BatchFirst ? [B, T, cfg.OutputSize] : [T, B, cfg.OutputSize];
        Assert.Equal(outShape, actual[OnnxModel.Names.Output].Shape);
        Assert.Equal(stateShape, actual[OnnxModel.Names.HN].Shape);
        Close.Assert("output", expected.Output, actual[OnnxModel.Names.Output].Values());
        Close.Assert("h_n", expected.HN, actual[OnnxModel.Names.HN].Values());
        if (lstm)
        {
            Close.Assert("c_n", expected.CN!, actual[OnnxModel.Names.CN].Values());
        }
        else
        {
            Assert.False(actual.ContainsKey(OnnxModel.Names.CN));
        }
    }
}
