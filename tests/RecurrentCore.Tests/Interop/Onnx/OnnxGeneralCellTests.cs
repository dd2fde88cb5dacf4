using RecurrentCore.Interop.Onnx;
using RecurrentCore.Kernels;
using Xunit;
using Xunit.Abstractions;

namespace RecurrentCore.Tests.Interop.Onnx;

/// <summary>
/// The general ONNX cells (<c>OnnxLstmCell</c>, <c>OnnxGruCell</c>, <c>OnnxRnnCell</c>) on every kernel variant this
/// machine runs, against the double reference (<c>RecurrentOperatorReference</c>), at sizes that exercise every
/// register width and tail (H = 37, I = 13) on both product paths (B = 5: GEMM; B = 1: GEMV). ONNX Runtime checks the
/// same cells on the attribute matrix of <see cref="OnnxOperatorOrtTests"/>.
/// </summary>
public class OnnxGeneralCellTests(ITestOutputHelper output)
{
    private static readonly string[] AllActivations =
        ["Relu", "Tanh", "Sigmoid", "Affine", "LeakyRelu", "ThresholdedRelu", "ScaledTanh", "HardSigmoid", "Elu", "Softsign", "Softplus"];

    internal static readonly Dictionary<string, OnnxNodeCase> Cases = BuildCases();

    public static TheoryData<string, KernelVariant> CasesAndVariants()
    {
        var data = new TheoryData<string, KernelVariant>();
        foreach (string name in Cases.Keys)
        {
            foreach (var v in KernelCatalog.Supported)
            {
                data.Add(name, v);
            }
        }

        return data;
    }

    private static Dictionary<string, OnnxNodeCase> BuildCases()
    {
        var c = new Dictionary<string, OnnxNodeCase>();
        foreach (int b in new[] { 5, 1 })
        {
            var wide = new OnnxNodeCase { Op = "LSTM", T = 6, B = b, I = 13, H = 37, Seed = 100 + b };
            int[]? lengths = b == 5 ? [6, 0, 3, 1, 6] : null;
            c[$"LSTM everything, B = {b}"] = wide with
            {
                Direction = "bidirectional", Peepholes = "input", InitialH = "input", InitialC = "input", Lengths = lengths, Clip = 1.5f, InputForget = 1,
                Activations = ["HardSigmoid", "Softsign", "Softplus", "Sigmoid", "Elu", "ScaledTanh"], Alpha = [0.3f, 0.9f, 1.1f], Beta = [0.4f, 0.8f],
            };
            c[$"LSTM peepholes, B = {b}"] = wide with { Direction = "reverse", Peepholes = "constant", InitialC = "input", Lengths = lengths };
            c[$"LSTM clip only, B = {b}"] = wide with { Clip = 0.4f, Direction = "bidirectional" };
            c[$"LSTM input_forget only, B = {b}"] = wide with { InputForget = 1, Lengths = lengths };
            c[$"LSTM activations, B = {b}"] = wide with { Activations = ["Sigmoid", "LeakyRelu", "Affine"], Alpha = [0.05f, 0.5f], Beta = [0.2f] };
            var gru = wide with { Op = "GRU" };
            foreach (int lbr in new[] { 0, 1 })
            {
                c[$"GRU linear_before_reset {lbr} general, B = {b}"] = gru with
                {
                    LinearBeforeReset = lbr, Direction = "bidirectional", Lengths = lengths, InitialH = "input", Clip = 2f,
                    Activations = ["HardSigmoid", "Softsign", "Sigmoid", "ScaledTanh"], Alpha = [0.25f, 1.2f], Beta = [0.55f, 0.7f],
                };
            }

            c[$"GRU linear_before_reset 1 Elu candidate, no bias, B = {b}"] = gru with { LinearBeforeReset = 1, Bias = false, Activations = ["Sigmoid", "Elu"], Direction = "reverse" };
        }

        foreach (string f in AllActivations)
        {
            c[$"RNN {f} then Tanh, B = 5"] = new OnnxNodeCase
            {
                Op = "RNN", T = 5, B = 5, I = 13, H = 37, Direction = "bidirectional", Activations = [f, "Tanh"], Lengths = [5, 2, 0, 5, 4], InitialH = "input",
                Seed = 200 + f.Length,
            };
        }

        c["RNN clip, B = 1"] = new OnnxNodeCase { Op = "RNN", T = 5, B = 1, I = 13, H = 37, Clip = 0.3f, Direction = "reverse", Seed = 250 };
        return c;
    }

    public static TheoryData<string> Names() => [.. Cases.Keys];

    /// <summary>The same wide cases against ONNX Runtime 1.31.1 (float32) on the active variant.</summary>
    [Theory]
    [MemberData(nameof(Names))]
    public void Matches_onnx_runtime(string name)
    {
        var (model, feeds, _) = Cases[name].Build();
        var ort = OrtRunner.Run(model, feeds.ToDictionary(f => f.Key, f => OnnxOperatorOrtTests.ToOrt(f.Value)));
        var fast = OnnxModel.Load(model, name).Run(feeds);
        foreach (var (output, value) in ort)
        {
            Assert.Equal(value.Shape.Select(d => (int)d), fast[output].Shape);
            Close.Assert($"{name}: fast path vs ORT {output}", value.Values(), fast[output].Data, 2e-5);
        }
    }

    [Theory]
    [MemberData(nameof(CasesAndVariants))]
    public void Every_variant_matches_the_double_reference(string name, KernelVariant variant)
    {
        var (model, feeds, _) = Cases[name].Build();
        var reference = OnnxModel.Load(model, name, new OnnxSessionOptions { FastPath = false }).Run(feeds);
        var session = OnnxModel.Load(model, name, new OnnxSessionOptions { Variant = variant });
        string path = session.RecurrentNodes.Single().Path;
        Assert.True(path.StartsWith("fast", StringComparison.Ordinal) || path == "decided at run time", path);
        var fast = session.Run(feeds);
        var again = session.Run(feeds);
        foreach (var (output, value) in reference)
        {
            Close.Assert($"{name} {variant}: {output}", value.Data, fast[output].Data, 2e-5);
            Assert.True(fast[output].Data.SequenceEqual(again[output].Data), $"{name} {variant}: {output} differs run to run");
        }
    }

    /// <summary>The figure docs/numerics.md quotes: the worst error over every case, per variant (bound 2e-5·max(1, |ref|)).</summary>
    [Theory]
    [MemberData(nameof(RecurrentCore.Tests.Kernels.KernelCases.Variants), MemberType = typeof(RecurrentCore.Tests.Kernels.KernelCases))]
    public void Worst_error_over_every_case_is_within_the_bound(KernelVariant variant)
    {
        double worst = 0;
        string where = string.Empty;
        foreach (var (name, c) in Cases)
        {
            var (model, feeds, _) = c.Build();
            var reference = OnnxModel.Load(model, name, new OnnxSessionOptions { FastPath = false }).Run(feeds);
            var fast = OnnxModel.Load(model, name, new OnnxSessionOptions { Variant = variant }).Run(feeds);
            foreach (var (o, value) in reference)
            {
                for (int i = 0; i < value.Data.Length; i++)
                {
                    double e = Math.Abs(fast[o].Data[i] - value.Data[i]) / Math.Max(1, Math.Abs(value.Data[i]));
                    if (e > worst)
                    {
                        (worst, where) = (e, $"{name} {o}[{i}]");
                    }
                }
            }
        }

        output.WriteLine($"{variant}: worst {worst:E2} at {where}");
        Assert.True(worst <= 2e-5, $"{variant}: {worst:E2} at {where}");
        Assert.True(worst > 0, "float32 should differ from double somewhere");
    }
}
