using RecurrentCore.Interop.Onnx;
using Xunit;

namespace RecurrentCore.Tests.Interop.Onnx;

/// <summary>
/// Every attribute and input of ONNX RNN / LSTM / GRU, one feature per model: ONNX Runtime 1.31.1 (float32) against
/// <see cref="OnnxSession"/> on the reference path (double, <c>RecurrentOperatorReference</c>) and on the fast path
/// (<c>RecurrentLayer</c> where it runs the node, else the reference transparently).
/// </summary>
public class OnnxOperatorOrtTests
{
    private static readonly string[] AllActivations =
        ["Relu", "Tanh", "Sigmoid", "Affine", "LeakyRelu", "ThresholdedRelu", "ScaledTanh", "HardSigmoid", "Elu", "Softsign", "Softplus"];

    internal static readonly Dictionary<string, OnnxNodeCase> Cases = BuildCases();

    public static TheoryData<string> Names() => [.. Cases.Keys];

    private static Dictionary<string, OnnxNodeCase> BuildCases()
    {
        var c = new Dictionary<string, OnnxNodeCase>();
        foreach (string op in new[] { "RNN", "LSTM", "GRU" })
        {
            foreach (string dir in new[] { "forward", "reverse", "bidirectional" })
            {
                c[$"{op} {dir}"] = new OnnxNodeCase { Op = op, Direction = dir };
                c[$"{op} {dir} lengths, initial states"] = new OnnxNodeCase
                {
                    Op = op, Direction = dir, Lengths = [2, 4, 1], InitialH = "input", InitialC = op == "LSTM" ? "input" : null, Seed = 2,
                };
                c[$"{op} {dir} a length of 0"] = new OnnxNodeCase { Op = op, Direction = dir, Lengths = [3, 0, 4], InitialH = "input", InitialC = op == "LSTM" ? "input" : null, Seed = 3 };
            }

            c[$"{op} no bias"] = new OnnxNodeCase { Op = op, Bias = false, Seed = 4 };
            c[$"{op} weights from Constant nodes"] = new OnnxNodeCase { Op = op, Weights = "constant", Seed = 5 };
            c[$"{op} weights fed at run time"] = new OnnxNodeCase { Op = op, Weights = "input", Direction = "bidirectional", Seed = 6 };
            c[$"{op} non-zero constant initial_h"] = new OnnxNodeCase { Op = op, InitialH = "constant", InitialC = op == "LSTM" ? "constant" : null, Seed = 7 };
            c[$"{op} zero constant initial_h"] = new OnnxNodeCase { Op = op, InitialH = "constant", ZeroConstants = true, Seed = 8 };
            c[$"{op} clip"] = new OnnxNodeCase { Op = op, Clip = 0.7f, Direction = "bidirectional", Seed = 9 };
            int k = op switch { "LSTM" => 3, "GRU" => 2, _ => 1 };
            for (int pos = 0; pos < k; pos++)
            {
                foreach (string f in AllActivations)
                {
                    var acts = op switch { "LSTM" => new[] { "Sigmoid", "Tanh", "Tanh" }, "GRU" => ["Sigmoid", "Tanh"], _ => ["Tanh"] };
                    acts[pos] = f;
                    c[$"{op} activations [{string.Join(", ", acts)}]"] = new OnnxNodeCase { Op = op, Activations = acts, Seed = 10 + pos };
                }
            }

            // α and β consumed in order by the functions that take them, different per direction.
            string[] withParams = op switch
            {
                "LSTM" => ["HardSigmoid", "ScaledTanh", "Affine", "LeakyRelu", "Elu", "ScaledTanh"],
                "GRU" => ["HardSigmoid", "ScaledTanh", "LeakyRelu", "Affine"],
                _ => ["ScaledTanh", "LeakyRelu"],
            };
            float[] alpha = op switch { "LSTM" => [0.3f, 0.8f, 0.9f, 0.05f, 0.7f, 1.1f], "GRU" => [0.25f, 0.9f, 0.02f, 1.2f], _ => [0.9f, 0.1f] };
            float[] beta = op switch { "LSTM" => [0.45f, 1.3f, 0.1f, 0.6f], "GRU" => [0.55f, 1.2f, -0.1f], _ => [1.1f] };
            c[$"{op} activation_alpha and activation_beta per direction"] = new OnnxNodeCase
            {
                Op = op, Direction = "bidirectional", Activations = withParams, Alpha = alpha, Beta = beta, Seed = 20,
            };
            c[$"{op} default alpha and beta"] = new OnnxNodeCase
            {
                Op = op, Activations = op switch { "LSTM" => ["HardSigmoid", "ScaledTanh", "Elu"], "GRU" => ["HardSigmoid", "LeakyRelu"], _ => ["ThresholdedRelu"] }, Seed = 21,
            };
        }

        c["RNN ThresholdedRelu and Affine with alpha, beta"] = new OnnxNodeCase
        {
            Op = "RNN", Direction = "bidirectional", Activations = ["ThresholdedRelu", "Affine"], Alpha = [0.2f, 0.6f], Beta = [0.3f], Seed = 22,
        };
        c["LSTM input_forget"] = new OnnxNodeCase { Op = "LSTM", InputForget = 1, Direction = "bidirectional", Seed = 30 };
        c["LSTM input_forget 0"] = new OnnxNodeCase { Op = "LSTM", InputForget = 0, Seed = 31 };
        c["LSTM peepholes"] = new OnnxNodeCase { Op = "LSTM", Peepholes = "input", Direction = "bidirectional", Lengths = [4, 2, 3], InitialC = "input", Seed = 32 };
        c["LSTM peepholes constant"] = new OnnxNodeCase { Op = "LSTM", Peepholes = "constant", Seed = 33 };
        c["LSTM all-zero peepholes"] = new OnnxNodeCase { Op = "LSTM", Peepholes = "constant", ZeroConstants = true, Seed = 34 };
        c["LSTM everything"] = new OnnxNodeCase
        {
            Op = "LSTM", Direction = "bidirectional", Peepholes = "input", InitialH = "input", InitialC = "input", Lengths = [4, 0, 2], Clip = 1.5f,
            InputForget = 1, Activations = ["HardSigmoid", "Softsign", "Softplus", "Sigmoid", "Elu", "ScaledTanh"], Seed = 35,
        };
        c["GRU linear_before_reset 1"] = new OnnxNodeCase { Op = "GRU", LinearBeforeReset = 1, Direction = "bidirectional", Lengths = [1, 4, 3], Seed = 40 };
        c["GRU linear_before_reset 0"] = new OnnxNodeCase { Op = "GRU", LinearBeforeReset = 0, Direction = "bidirectional", Lengths = [1, 4, 3], Seed = 41 };
        c["GRU linear_before_reset 1 reverse, weights fed"] = new OnnxNodeCase { Op = "GRU", LinearBeforeReset = 1, Direction = "reverse", Weights = "input", InitialH = "input", Seed = 42 };
        c["RNN Relu bidirectional"] = new OnnxNodeCase { Op = "RNN", Activations = ["Relu", "Relu"], Direction = "bidirectional", Lengths = [4, 3, 0], Seed = 43 };
        c["RNN Tanh then Relu"] = new OnnxNodeCase { Op = "RNN", Activations = ["Tanh", "Relu"], Direction = "bidirectional", Seed = 44 };
        c["RNN one batch row, T = 1"] = new OnnxNodeCase { Op = "RNN", T = 1, B = 1, Seed = 45 };
        c["LSTM wide"] = new OnnxNodeCase { Op = "LSTM", I = 17, H = 19, T = 6, B = 5, Direction = "bidirectional", Seed = 46 };
        return c;
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Reference_and_fast_path_match_onnx_runtime(string name)
    {
        var c = Cases[name];
        var (model, feeds, _) = c.Build();
        var ort = OrtRunner.Run(model, feeds.ToDictionary(f => f.Key, f => ToOrt(f.Value)));
        var reference = OnnxModel.Load(model, name, new OnnxSessionOptions { FastPath = false }).Run(feeds);
        var fastSession = OnnxModel.Load(model, name);
        var fast = fastSession.Run(feeds);
        foreach (var (output, value) in ort)
        {
            Assert.Equal(value.Shape.Select(d => (int)d), reference[output].Shape);
            Close.Assert($"{name}: reference vs ORT {output}", value.Values(), reference[output].Data, 2e-5);
            Close.Assert($"{name}: fast path ({fastSession.RecurrentNodes[0].Path}) vs reference {output}", reference[output].Data, fast[output].Data, 2e-5);
        }
    }

    /// <summary>
    /// layout = 1, which ONNX Runtime refuses (and onnx's batchwise node tests exercise only at T = 1): the same node
    /// with batch-major X, Y and states gives the transposes of the layout-0 results, on both paths.
    /// </summary>
    [Theory]
    [InlineData("RNN", "forward")]
    [InlineData("LSTM", "reverse")]
    [InlineData("GRU", "bidirectional")]
    [InlineData("LSTM", "bidirectional")]
    public void Layout_1_is_the_transpose_of_layout_0(string op, string direction)
    {
        InteropFormatException Fail(string m) => new(m);
        var batchMajor = new OnnxNodeCase { Op = op, Direction = direction, Layout = 1, Lengths = [4, 1, 3], InitialH = "input", InitialC = op == "LSTM" ? "input" : null, Seed = 50 };
        var (model1, feeds1, _) = batchMajor.Build();
        var (model0, _, _) = (batchMajor with { Layout = 0 }).Build();
        var feeds0 = feeds1.ToDictionary(
            f => f.Key,
            f => f.Key switch
            {
                "X" or "initial_h" or "initial_c" => OnnxGraphOps.Transpose(f.Value, [1, 0, 2], Fail),
                _ => f.Value,
            });
        foreach (bool fastPath in new[] { false, true })
        {
            var options = new OnnxSessionOptions { FastPath = fastPath };
            var y1 = OnnxModel.Load(model1, "layout1", options).Run(feeds1);
            var y0 = OnnxModel.Load(model0, "layout0", options).Run(feeds0);
            Assert.Equal(y0["Y"].Shape.Length, y1["Y"].Shape.Length);
            Close.Assert("Y", OnnxGraphOps.Transpose(y0["Y"], [2, 0, 1, 3], Fail).Data, y1["Y"].Data, 1e-12);
            foreach (string state in op == "LSTM" ? new[] { "Y_h", "Y_c" } : ["Y_h"])
            {
                Close.Assert(state, OnnxGraphOps.Transpose(y0[state], [1, 0, 2], Fail).Data, y1[state].Data, 1e-12);
            }
        }
    }

    /// <summary>PyTorch's attributes run on its fused cells; the rest on the general ONNX cells, saying why.</summary>
    [Theory]
    [InlineData("LSTM bidirectional", "fast")]
    [InlineData("GRU linear_before_reset 1", "fast")]
    [InlineData("RNN Relu bidirectional", "fast")]
    [InlineData("LSTM all-zero peepholes", "fast")]
    [InlineData("LSTM zero constant initial_h", "fast")]
    [InlineData("LSTM non-zero constant initial_h", "fast")]
    [InlineData("LSTM clip", "fast (general cell: clip)")]
    [InlineData("LSTM input_forget", "fast (general cell: input_forget = 1)")]
    [InlineData("LSTM peepholes constant", "fast (general cell: peepholes P)")]
    [InlineData("RNN Tanh then Relu", "fast (general cell: activations [Tanh, Relu])")]
    [InlineData("GRU weights fed at run time", "decided at run time")]
    public void Reports_the_path_each_node_runs_on(string name, string path)
    {
        var (model, _, _) = Cases[name].Build();
        Assert.Equal(path, OnnxModel.Load(model, name).RecurrentNodes.Single().Path);
    }

    internal static OrtTensor ToOrt(OnnxTensor t) => t.ElementType switch
    {
        OnnxElementType.I32 => new OrtTensor(t.Data.Select(v => (int)v).ToArray(), [.. t.Shape.Select(d => (long)d)]),
        OnnxElementType.I64 => new OrtTensor(t.Data.Select(v => (long)v).ToArray(), [.. t.Shape.Select(d => (long)d)]),
        OnnxElementType.F64 => new OrtTensor(t.Data, [.. t.Shape.Select(d => (long)d)]),
        _ => OrtTensor.Float(t.Data, [.. t.Shape.Select(d => (long)d)]),
    };
}
