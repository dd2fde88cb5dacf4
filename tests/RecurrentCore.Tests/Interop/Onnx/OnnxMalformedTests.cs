using RecurrentCore.Interop.Onnx;
using RecurrentCore.Tests.Reference;
using Xunit;
using static RecurrentCore.Tests.Interop.InteropAssert;

namespace RecurrentCore.Tests.Interop.Onnx;

/// <summary>Malformed protobuf and unsupported ONNX content: one-line <see cref="InteropFormatException"/>s naming the source and the problem.</summary>
public class OnnxMalformedTests
{
    private const string Src = "bad.onnx";

    private static RecurrentParameters Params(CellKind cell, int layers = 1, bool bidirectional = false) =>
        RandomData.Parameters(new RecurrentConfig(cell, 2, 3, layers, bidirectional: bidirectional), new Random(5), 0.5);

    /// <summary>Our export of <paramref name="p"/>, changed by <paramref name="edit"/> before serializing.</summary>
    private static byte[] Edited(RecurrentParameters p, Action<OnnxGraphProto> edit, OnnxExportOptions? options = null)
    {
        var model = OnnxExporter.Build(p, options ?? new OnnxExportOptions());
        edit(model.Graph!);
        return model.ToBytes();
    }

    private static OnnxNodeProto Rnn(OnnxGraphProto g, int k = 0) => g.Nodes.Where(n => n.OpType is "LSTM" or "GRU" or "RNN").ElementAt(k);

    private static void Import(byte[] bytes) => OnnxModel.Import(bytes, Src);

    // ---- protobuf wire format ----

    [Fact]
    public void Every_truncation_of_a_model_fails_cleanly()
    {
        byte[] full = OnnxModel.Export(Params(CellKind.Lstm, layers: 2, bidirectional: true), new OnnxExportOptions { InitialStates = true, SequenceLens = true });
        for (int length = 0; length < full.Length; length++)
        {
            var e = Assert.Throws<InteropFormatException>(() => Import(full[..length]));
            Assert.StartsWith(Src + ": ", e.Message, StringComparison.Ordinal);
            Assert.DoesNotContain('\n', e.Message);
        }
    }

    [Fact]
    public void Random_corruptions_fail_cleanly_or_import()
    {
        byte[] full = OnnxModel.Export(Params(CellKind.Gru, layers: 2), new OnnxExportOptions { InitialStates = true });
        var rng = new Random(2024);
        for (int trial = 0; trial < 3000; trial++)
        {
            byte[] bytes = (byte[])full.Clone();
            int flips = 1 + rng.Next(3);
            for (int i = 0; i < flips; i++)
            {
                bytes[rng.Next(bytes.Length)] = (byte)rng.Next(256);
            }

            try
            {
                Import(bytes);
            }
            catch (InteropFormatException e)
            {
                Assert.StartsWith(Src + ": ", e.Message, StringComparison.Ordinal);
                Assert.DoesNotContain('\n', e.Message);
            }
        }
    }

    [Fact]
    public void Empty_input_has_no_graph() => Fails(() => Import([]), Src, "no graph");

    [Fact]
    public void Refuses_a_varint_longer_than_10_bytes() =>
        Fails(() => Import([0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]), Src, "ModelProto", "varint");

    [Fact]
    public void Refuses_a_truncated_varint() => Fails(() => Import([0x08, 0x80]), Src, "truncated varint");

    [Fact]
    public void Refuses_a_wrong_wire_type() =>
        Fails(() => Import([0x38, 0x01]), Src, "'graph'", "wire type 0", "expected 2");

    [Fact]
    public void Refuses_a_length_past_the_end() =>
        Fails(() => Import([0x3a, 0x05, 0x0a, 0x00]), Src, "'graph' declares 5 bytes but only 2 remain");

    [Fact]
    public void Refuses_a_hostile_huge_length_without_allocating()
    {
        // graph field with length 2^62: must fail on the bounds check, not try to allocate.
        byte[] bytes = [0x3a, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x40];
        long before = GC.GetAllocatedBytesForCurrentThread();
        Fails(() => Import(bytes), Src, "declares 4611686018427387904 bytes");
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1 << 20);
    }

    [Fact]
    public void Refuses_hostile_raw_data_length_inside_a_tensor()
    {
        // A TensorProto in a graph in a model, whose raw_data claims 2^31 bytes.
        byte[] tensor = [0x4a, 0x80, 0x80, 0x80, 0x80, 0x08];
        byte[] graph = [0x2a, (byte)tensor.Length, .. tensor];
        byte[] model = [0x3a, (byte)graph.Length, .. graph];
        Fails(() => Import(model), Src, "TensorProto", "'raw_data' declares 2147483648 bytes");
    }

    [Fact]
    public void Refuses_field_number_zero() => Fails(() => Import([0x00, 0x00]), Src, "invalid field number 0");

    [Fact]
    public void Refuses_group_wire_type() => Fails(() => Import([0xf3, 0x01, 0xf4, 0x01]), Src, "field 30 uses the unsupported group wire type 3");

    [Fact]
    public void Refuses_invalid_wire_type_7() => Fails(() => Import([0x0f]), Src, "invalid wire type 7");

    [Fact]
    public void Refuses_invalid_utf8_in_a_string() => Fails(() => Import([0x12, 0x02, 0xc3, 0x28]), Src, "'producer_name' is not valid UTF-8");

    [Fact]
    public void Refuses_packed_floats_not_a_multiple_of_4()
    {
        byte[] attr = [0x3a, 0x03, 0x00, 0x00, 0x00];
        byte[] node = [0x2a, (byte)attr.Length, .. attr];
        byte[] graph = [0x0a, (byte)node.Length, .. node];
        Fails(() => Import([0x3a, (byte)graph.Length, .. graph]), Src, "AttributeProto", "'floats' has 3 bytes, not a multiple of 4");
    }

    [Fact]
    public void File_errors_name_the_path()
    {
        string path = Path.Combine(Path.GetTempPath(), $"rc-bad-{Guid.NewGuid():N}.onnx");
        try
        {
            File.WriteAllBytes(path, [0x3a, 0x7f]);
            Fails(() => OnnxModel.Import(path), path, "declares 127 bytes");
        }
        finally
        {
            File.Delete(path);
        }
    }

    // ---- model content ----

    [Fact]
    public void Refuses_a_model_without_default_opset()
    {
        var model = OnnxExporter.Build(Params(CellKind.Lstm), new OnnxExportOptions());
        model.OpsetImports.Clear();
        model.OpsetImports.Add(new OnnxOpsetId("com.example", 1));
        Fails(() => Import(model.ToBytes()), Src, "no default-domain");
    }

    [Fact]
    public void Refuses_a_graph_without_recurrent_nodes() =>
        Fails(() => Import(Edited(Params(CellKind.Lstm), g => g.Nodes.RemoveAll(n => n.OpType == "LSTM"))), Src, "no RNN, LSTM or GRU node");

    [Theory]
    [InlineData("clip", "'clip'")]
    [InlineData("activation_alpha", "'activation_alpha'")]
    [InlineData("input_forget", "'input_forget' = 1")]
    [InlineData("layout", "'layout' = 1")]
    [InlineData("hidden_size", "'hidden_size' = 7 does not match input 'R'")]
    [InlineData("activations", "'activations' = [Sigmoid, Relu, Tanh]")]
    [InlineData("mystery", "'mystery' is not an attribute of LSTM")]
    public void Refuses_unsupported_lstm_attributes(string attribute, string expected)
    {
        byte[] bytes = Edited(Params(CellKind.Lstm), g =>
        {
            var n = Rnn(g);
            n.Attributes.RemoveAll(a => a.Name == attribute);
            n.Attributes.Add(attribute switch
            {
                "clip" => new OnnxAttributeProto { Name = "clip", Type = OnnxAttributeType.Float, F = 3 },
                "activation_alpha" => new OnnxAttributeProto { Name = "activation_alpha", Type = OnnxAttributeType.Ints },
                "input_forget" or "layout" => OnnxAttributeProto.Int(attribute, 1),
                "hidden_size" => OnnxAttributeProto.Int(attribute, 7),
                "direction" => OnnxAttributeProto.String(attribute, "reverse"),
                "activations" => OnnxAttributeProto.StringList(attribute, "Sigmoid", "Relu", "Tanh"),
                _ => OnnxAttributeProto.Int(attribute, 0),
            });
        });
        Fails(() => Import(bytes), Src, "node 'lstm_l0' (LSTM) (layer 0)", expected);
    }

    [Fact]
    public void Refuses_rnn_with_other_activation() =>
        Fails(() => Import(Edited(Params(CellKind.RnnTanh), g => Rnn(g).Attributes.Add(OnnxAttributeProto.StringList("activations", "Sigmoid")))), Src, "'activations' = [Sigmoid]", "Tanh or Relu");

    [Fact]
    public void Refuses_an_attribute_of_the_wrong_type() =>
        Fails(() => Import(Edited(Params(CellKind.Gru), g =>
        {
            var n = Rnn(g);
            n.Attributes.RemoveAll(a => a.Name == "hidden_size");
            n.Attributes.Add(OnnxAttributeProto.String("hidden_size", "3"));
        })), Src, "'hidden_size' has type STRING, expected INT");

    [Fact]
    public void Refuses_linear_before_reset_2() =>
        Fails(() => Import(Edited(Params(CellKind.Gru), g =>
        {
            var n = Rnn(g);
            n.Attributes.RemoveAll(a => a.Name == "linear_before_reset");
            n.Attributes.Add(OnnxAttributeProto.Int("linear_before_reset", 2));
        })), Src, "'linear_before_reset' = 2");

    [Fact]
    public void Refuses_weights_that_are_not_initializers() =>
        Fails(() => Import(Edited(Params(CellKind.Gru), g => g.Initializers.RemoveAll(t => t.Name == "R_l0"))), Src, "input 'R' ('R_l0') is not an initializer");

    [Fact]
    public void Refuses_weight_dims_that_do_not_fit() =>
        Fails(() => Import(Edited(Params(CellKind.Lstm), g =>
        {
            var w = g.Initializers.Single(t => t.Name == "W_l0");
            w.Dims[1] = 11;
        })), Src, "input 'W' has dims (1, 11, 2)");

    [Fact]
    public void Refuses_raw_data_shorter_than_dims() =>
        Fails(() => Import(Edited(Params(CellKind.Lstm), g =>
        {
            var b = g.Initializers.Single(t => t.Name == "B_l0");
            b.RawData = b.RawData![..^4];
        })), Src, "input 'B' ('B_l0')", "92 bytes of raw_data", "need 24 × 4 = 96");

    [Fact]
    public void Refuses_non_finite_weights() =>
        Fails(() => Import(Edited(Params(CellKind.RnnTanh), g =>
        {
            var r = g.Initializers.Single(t => t.Name == "R_l0");
            BitConverter.GetBytes(float.NaN).CopyTo(r.RawData!, 8);
        })), Src, "input 'R' ('R_l0') holds a non-finite value (NaN) at flat index 2");

    [Fact]
    public void Refuses_external_data() =>
        Fails(() => Import(Edited(Params(CellKind.Lstm), g => g.Initializers.Single(t => t.Name == "W_l0").IsExternal = true)), Src, "data_location=EXTERNAL");

    [Fact]
    public void Refuses_integer_weights() =>
        Fails(() => Import(Edited(Params(CellKind.Lstm), g => g.Initializers.Single(t => t.Name == "W_l0").DataType = 7)), Src, "data_type int64; expected float, double or float16");

    [Fact]
    public void Refuses_mixed_cell_kinds() =>
        Fails(() => Import(Edited(Params(CellKind.RnnTanh, layers: 2), g => Rnn(g, 1).Attributes.Add(OnnxAttributeProto.StringList("activations", "Relu")))), Src, "layer 1", "rnn-relu but layer 0 is rnn-tanh");

    [Fact]
    public void Refuses_a_broken_layer_chain() =>
        Fails(() => Import(Edited(Params(CellKind.Gru, layers: 2), g => Rnn(g, 1).Inputs[0] = OnnxModel.Names.Input)), Src, "layer 1", "input 'X' ('input') is not computed from node 'gru_l0'");

    [Fact]
    public void Refuses_a_non_zero_constant_initial_state() =>
        Fails(() => Import(Edited(Params(CellKind.Gru), g =>
        {
            g.Initializers.Add(OnnxTensorProto.FromSingles("h_init", [1, 1, 3], [0, 0.5, 0]));
            var n = Rnn(g);
            while (n.Inputs.Count < 6)
            {
                n.Inputs.Add(string.Empty);
            }

            n.Inputs[5] = "h_init";
        })), Src, "input 'initial_h' ('h_init') is a non-zero constant");

    [Fact]
    public void Refuses_too_many_inputs() =>
        Fails(() => Import(Edited(Params(CellKind.Gru), g => Rnn(g).Inputs.AddRange(["", "", "", "x"]))), Src, "has 8 inputs; GRU takes at most 6");

    [Fact]
    public void Refuses_duplicate_initializers() =>
        Fails(() => Import(Edited(Params(CellKind.Gru), g => g.Initializers.Add(g.Initializers.Single(t => t.Name == "R_l0")))), Src, "initializer 'R_l0' appears twice");

    /// <summary>
    /// One attribute reader for Import and Load: a malformed attribute gets the same one-line problem from both, and
    /// what Import refuses as beyond PyTorch Load runs.
    /// </summary>
    [Theory]
    [InlineData("hidden_size string", "attribute 'hidden_size' has type STRING, expected INT")]
    [InlineData("linear_before_reset 2", "attribute 'linear_before_reset' = 2 is not 0 or 1")]
    [InlineData("clip -1", "attribute 'clip' = -1 is not a positive finite threshold")]
    [InlineData("activations x2", "attribute 'activations' has 4 entries; GRU with direction forward takes 2 (2 per direction)")]
    [InlineData("activations Gelu", "attribute 'activations' entry 'Gelu' is not an activation of the ONNX spec")]
    [InlineData("alpha unused", "attribute 'activation_alpha' has 1 and 'activation_beta' 0 values, but activations [Sigmoid, Tanh] use only 0 and 0")]
    [InlineData("mystery", "attribute 'mystery' is not an attribute of GRU")]
    public void Import_and_load_refuse_a_malformed_attribute_with_the_same_problem(string edit, string problem)
    {
        byte[] bytes = Edited(Params(CellKind.Gru), g =>
        {
            var n = Rnn(g);
            switch (edit)
            {
                case "hidden_size string":
                    n.Attributes.RemoveAll(a => a.Name == "hidden_size");
                    n.Attributes.Add(OnnxAttributeProto.String("hidden_size", "3"));
                    break;
                case "linear_before_reset 2":
                    n.Attributes.RemoveAll(a => a.Name == "linear_before_reset");
                    n.Attributes.Add(OnnxAttributeProto.Int("linear_before_reset", 2));
                    break;
                case "clip -1":
                    n.Attributes.Add(new OnnxAttributeProto { Name = "clip", Type = OnnxAttributeType.Float, F = -1 });
                    break;
                case "activations x2":
                    n.Attributes.Add(OnnxAttributeProto.StringList("activations", "Sigmoid", "Tanh", "Sigmoid", "Tanh"));
                    break;
                case "activations Gelu":
                    n.Attributes.Add(OnnxAttributeProto.StringList("activations", "Sigmoid", "Gelu"));
                    break;
                case "alpha unused":
                    n.Attributes.Add(OnnxAttributeProto.StringList("activations", "Sigmoid", "Tanh"));
                    n.Attributes.Add(new OnnxAttributeProto { Name = "activation_alpha", Type = OnnxAttributeType.Floats, Floats = { 0.5f } });
                    break;
                default:
                    n.Attributes.Add(OnnxAttributeProto.Int(edit, 0));
                    break;
            }
        });
        var imported = Fails(() => Import(bytes), Src, problem);
        var loaded = Fails(() => OnnxModel.Load(bytes, Src), Src, problem);
        Assert.Equal(imported.Message[imported.Message.IndexOf(problem, StringComparison.Ordinal)..], loaded.Message[loaded.Message.IndexOf(problem, StringComparison.Ordinal)..]);
    }

    [Fact]
    public void What_import_refuses_as_beyond_pytorch_load_runs_on_the_fast_path()
    {
        byte[] bytes = Edited(Params(CellKind.Lstm), g => Rnn(g).Attributes.Add(new OnnxAttributeProto { Name = "clip", Type = OnnxAttributeType.Float, F = 3 }));
        Fails(() => Import(bytes), Src, "'clip' (cell clipping at 3) is not supported: PyTorch does not clip; OnnxModel.Load runs it");
        Assert.Equal("fast (general cell: clip)", OnnxModel.Load(bytes, Src).RecurrentNodes.Single().Path);
    }
}
