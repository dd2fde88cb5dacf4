using RecurrentCore.Interop.Onnx;
using RecurrentCore.Tests.Reference;

namespace RecurrentCore.Tests.Interop.Onnx;

/// <summary>
/// One single-node RNN / LSTM / GRU model built with the protobuf codec, with its random float32-representable data:
/// attributes as given, W/R/B as initializers, Constant nodes or graph inputs, optional sequence_lens / initial states /
/// peepholes as graph inputs or constants.
/// </summary>
internal sealed record OnnxNodeCase
{
    public required string Op { get; init; }

    public string Direction { get; init; } = "forward";

    public int T { get; init; } = 4;

    public int B { get; init; } = 3;

    public int I { get; init; } = 3;

    public int H { get; init; } = 4;

    public int Layout { get; init; }

    public string[]? Activations { get; init; }

    public float[]? Alpha { get; init; }

    public float[]? Beta { get; init; }

    public float? Clip { get; init; }

    public int? InputForget { get; init; }

    public int? LinearBeforeReset { get; init; }

    public bool Bias { get; init; } = true;

    /// <summary>"initializer", "constant" (Constant nodes) or "input" (fed at run time).</summary>
    public string Weights { get; init; } = "initializer";

    public int[]? Lengths { get; init; }

    /// <summary>null (absent), "input" or "constant".</summary>
    public string? InitialH { get; init; }

    public string? InitialC { get; init; }

    public string? Peepholes { get; init; }

    /// <summary>Whether a given constant initial state or P is all zeros.</summary>
    public bool ZeroConstants { get; init; }

    public int Seed { get; init; } = 1;

    public int D => Direction == "bidirectional" ? 2 : 1;

    public int G => Op switch { "LSTM" => 4, "GRU" => 3, _ => 1 };

    public override string ToString() => Op + " " + Direction;

    /// <summary>The model and the values of every graph input (all float32-representable, as double).</summary>
    public (byte[] Model, Dictionary<string, OnnxTensor> Feeds, Dictionary<string, double[]> Data) Build()
    {
        var rng = new Random(Seed);
        double[] Rand(int n, double scale) => Close.ToFloat(RandomData.Normal(rng, n, scale));
        var data = new Dictionary<string, double[]>
        {
            ["X"] = Rand(T * B * I, 1.0),
            ["W"] = Rand(D * G * H * I, 0.5),
            ["R"] = Rand(D * G * H * H, 0.5),
        };
        if (Bias)
        {
            data["B"] = Rand(D * 2 * G * H, 0.3);
        }

        int[] state = Layout == 0 ? [D, B, H] : [B, D, H];
        if (InitialH is not null)
        {
            data["initial_h"] = ZeroConstants && InitialH == "constant" ? new double[D * B * H] : Rand(D * B * H, 0.5);
        }

        if (InitialC is not null)
        {
            data["initial_c"] = ZeroConstants && InitialC == "constant" ? new double[D * B * H] : Rand(D * B * H, 0.5);
        }

        if (Peepholes is not null)
        {
            data["P"] = ZeroConstants && Peepholes == "constant" ? new double[D * 3 * H] : Rand(D * 3 * H, 0.4);
        }

        var shapes = new Dictionary<string, int[]>
        {
            ["X"] = Layout == 0 ? [T, B, I] : [B, T, I],
            ["W"] = [D, G * H, I],
            ["R"] = [D, G * H, H],
            ["B"] = [D, 2 * G * H],
            ["initial_h"] = state,
            ["initial_c"] = state,
            ["P"] = [D, 3 * H],
        };
        var g = new OnnxGraphProto { Name = "case" };
        var feeds = new Dictionary<string, OnnxTensor>();
        void AddFloat(string name, string how)
        {
            var t = OnnxTensorProto.FromSingles(name, [.. shapes[name].Select(d => (long)d)], data[name]);
            switch (how)
            {
                case "initializer":
                    g.Initializers.Add(t);
                    break;
                case "constant":
                    var c = new OnnxNodeProto { OpType = "Constant", Name = "const_" + name };
                    c.Outputs.Add(name);
                    c.Attributes.Add(new OnnxAttributeProto { Name = "value", Type = OnnxAttributeType.Tensor, T = t });
                    g.Nodes.Add(c);
                    break;
                default:
                    g.Inputs.Add(OnnxValueInfoProto.Tensor(name, OnnxDataType.Float, [.. shapes[name].Cast<object>()]));
                    feeds[name] = OnnxTensor.FromFloats(data[name], shapes[name]);
                    break;
            }
        }

        AddFloat("X", "input");
        AddFloat("W", Weights);
        AddFloat("R", Weights);
        if (Bias)
        {
            AddFloat("B", Weights);
        }

        if (Lengths is not null)
        {
            g.Inputs.Add(OnnxValueInfoProto.Tensor("sequence_lens", OnnxDataType.Int32, B));
            feeds["sequence_lens"] = OnnxTensor.FromInt32s(Lengths, B);
        }

        foreach (var (name, how) in new[] { ("initial_h", InitialH), ("initial_c", InitialC), ("P", Peepholes) })
        {
            if (how is not null)
            {
                AddFloat(name, how == "constant" ? "initializer" : "input");
            }
        }

        var node = new OnnxNodeProto { OpType = Op, Name = "rec" };
        node.Inputs.AddRange(["X", "W", "R", Bias ? "B" : "", Lengths is null ? "" : "sequence_lens", InitialH is null ? "" : "initial_h"]);
        if (Op == "LSTM")
        {
            node.Inputs.AddRange([InitialC is null ? "" : "initial_c", Peepholes is null ? "" : "P"]);
        }

        while (node.Inputs[^1].Length == 0)
        {
            node.Inputs.RemoveAt(node.Inputs.Count - 1);
        }

        node.Outputs.AddRange(Op == "LSTM" ? ["Y", "Y_h", "Y_c"] : ["Y", "Y_h"]);
        node.Attributes.Add(OnnxAttributeProto.String("direction", Direction));
        node.Attributes.Add(OnnxAttributeProto.Int("hidden_size", H));
        if (Layout != 0)
        {
            node.Attributes.Add(OnnxAttributeProto.Int("layout", Layout));
        }

        if (Activations is not null)
        {
            node.Attributes.Add(OnnxAttributeProto.StringList("activations", Activations));
        }

        if (Alpha is not null)
        {
            node.Attributes.Add(Floats("activation_alpha", Alpha));
        }

        if (Beta is not null)
        {
            node.Attributes.Add(Floats("activation_beta", Beta));
        }

        if (Clip is float clip)
        {
            node.Attributes.Add(new OnnxAttributeProto { Name = "clip", Type = OnnxAttributeType.Float, F = clip });
        }

        if (InputForget is int f)
        {
            node.Attributes.Add(OnnxAttributeProto.Int("input_forget", f));
        }

        if (LinearBeforeReset is int lbr)
        {
            node.Attributes.Add(OnnxAttributeProto.Int("linear_before_reset", lbr));
        }

        g.Nodes.Add(node);
        int[] y = Layout == 0 ? [T, D, B, H] : [B, T, D, H];
        g.Outputs.Add(OnnxValueInfoProto.Tensor("Y", OnnxDataType.Float, [.. y.Cast<object>()]));
        g.Outputs.Add(OnnxValueInfoProto.Tensor("Y_h", OnnxDataType.Float, [.. state.Cast<object>()]));
        if (Op == "LSTM")
        {
            g.Outputs.Add(OnnxValueInfoProto.Tensor("Y_c", OnnxDataType.Float, [.. state.Cast<object>()]));
        }

        var model = new OnnxModelProto { IrVersion = 8, ProducerName = "tests", Graph = g };
        model.OpsetImports.Add(new OnnxOpsetId(string.Empty, 14));
        return (model.ToBytes(), feeds, data);
    }

    private static OnnxAttributeProto Floats(string name, float[] values)
    {
        var a = new OnnxAttributeProto { Name = name, Type = OnnxAttributeType.Floats };
        a.Floats.AddRange(values);
        return a;
    }
}
