using BenchmarkDotNet.Attributes;
using RecurrentCore.Interop.Onnx;

namespace RecurrentCore.Benchmarks;

/// <summary>
/// <see cref="OnnxSession.Run"/> on one ONNX recurrent node (T = 32, B = 4, I = 32, H = 64, bidirectional), on the fast
/// path (PyTorch's cells for <c>lstm-default</c>, the general ONNX cells for the rest) and on the double reference path,
/// so the general cells are measured beside both the cells they generalise and the path they replace.
/// <c>dotnet run -c Release --project bench/RecurrentCore.Benchmarks -- --filter '*OnnxSession*' --job short --inProcess</c> (the out-of-process toolchain failed to build its boilerplate on this loaded machine).
/// </summary>
[MemoryDiagnoser]
public class OnnxSessionBenchmarks
{
    private const int T = 32, B = 4, I = 32, H = 64, D = 2;
    private OnnxSession _session = null!;
    private Dictionary<string, OnnxTensor> _feeds = null!;

    [Params("lstm-default", "lstm-peephole-clip", "gru-lbr0-hardsigmoid", "rnn-softplus")]
    public string Node { get; set; } = "lstm-default";

    [Params(true, false)]
    public bool FastPath { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        string op = Node.Split('-')[0].ToUpperInvariant();
        int g = op switch { "LSTM" => 4, "GRU" => 3, _ => 1 };
        var rng = new Random(3);
        double[] Rand(int n, double scale) => [.. Enumerable.Range(0, n).Select(_ => (double)(float)(scale * ((2 * rng.NextDouble()) - 1)))];
        var graph = new OnnxGraphProto { Name = "bench" };
        void Init(string name, long[] dims, double[] values) => graph.Initializers.Add(OnnxTensorProto.FromSingles(name, dims, values));
        Init("W", [D, g * H, I], Rand(D * g * H * I, 0.2));
        Init("R", [D, g * H, H], Rand(D * g * H * H, 0.2));
        Init("B", [D, 2 * g * H], Rand(D * 2 * g * H, 0.1));
        var node = new OnnxNodeProto { OpType = op, Name = "rec" };
        node.Inputs.AddRange(["X", "W", "R", "B"]);
        node.Outputs.AddRange(op == "LSTM" ? ["Y", "Y_h", "Y_c"] : ["Y", "Y_h"]);
        node.Attributes.Add(OnnxAttributeProto.String("direction", "bidirectional"));
        node.Attributes.Add(OnnxAttributeProto.Int("hidden_size", H));
        switch (Node)
        {
            case "lstm-peephole-clip":
                Init("P", [D, 3 * H], Rand(D * 3 * H, 0.2));
                node.Inputs.AddRange(["", "", "", "P"]);
                node.Attributes.Add(new OnnxAttributeProto { Name = "clip", Type = OnnxAttributeType.Float, F = 3 });
                break;
            case "gru-lbr0-hardsigmoid":
                node.Attributes.Add(OnnxAttributeProto.StringList("activations", "HardSigmoid", "Tanh", "HardSigmoid", "Tanh"));
                break;
            case "rnn-softplus":
                node.Attributes.Add(OnnxAttributeProto.StringList("activations", "Softplus", "Softplus"));
                break;
        }

        graph.Nodes.Add(node);
        graph.Inputs.Add(OnnxValueInfoProto.Tensor("X", OnnxDataType.Float, T, B, I));
        graph.Outputs.Add(OnnxValueInfoProto.Tensor("Y", OnnxDataType.Float, T, D, B, H));
        var model = new OnnxModelProto { IrVersion = 8, ProducerName = "bench", Graph = graph };
        model.OpsetImports.Add(new OnnxOpsetId(string.Empty, 14));
        _session = OnnxModel.Load(model.ToBytes(), Node, new OnnxSessionOptions { FastPath = FastPath });
        _feeds = new() { ["X"] = OnnxTensor.FromFloats(Rand(T * B * I, 1), T, B, I) };
    }

    [Benchmark]
    public IReadOnlyDictionary<string, OnnxTensor> Run() => _session.Run(_feeds);
}
