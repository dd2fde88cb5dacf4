using System.Globalization;
using System.Text;
using RecurrentCore.Cli.Parity;
using RecurrentCore.Interop;
using RecurrentCore.Layers;
using RecurrentCore.Tests.Cli;
using RecurrentCore.Tests.Kernels;
using RecurrentCore.Tests.Reference;
using Xunit;

namespace RecurrentCore.Tests.Quantized;

/// <summary>
/// bf16 and int8 on the committed PyTorch fixtures (the expected outputs are PyTorch's float32 run), through
/// <c>recurrent forward --weights-format</c>; and the accuracy report behind docs/numerics.md.
/// </summary>
public class QuantizedFixtureTests
{
    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        foreach (var name in Unidirectional())
        {
            data.Add(name);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Formats_stay_near_pytorch_float32(string name)
    {
        var inputs = ParityInputs.Load(TorchFixtures.Paths(name, backward: false));
        var expected = Npy.ReadFile(Path.Combine(TorchFixtures.Dir(name), "expected", "output.npy")).ToDouble();
        foreach (var (format, tol) in new[] { (WeightFormat.Float32, 1e-5), (WeightFormat.BFloat16, 2e-2), (WeightFormat.Int8, 5e-2) })
        {
            var (outputs, _) = ParityRun.Execute(inputs, reference: false, format);
            TorchFixtures.AssertClose(expected, outputs.Output, tol, $"{name} {format} output");
        }
    }

    [Fact]
    public void Forward_command_takes_a_weights_format()
    {
        using var cli = new CliHarness();
        string dir = TorchFixtures.Dir("lstm_basic");
        var expected = Npy.ReadFile(Path.Combine(dir, "expected", "output.npy")).ToDouble();
        foreach (var f in new[] { "bf16", "int8" })
        {
            string output = cli.Path(f);
            var (code, _, err) = cli.Run(
                "forward", "--cell", "lstm", "--weights", Path.Combine(dir, "weights.safetensors"), "--input", Path.Combine(dir, "input.npy"),
                "--h0", Path.Combine(dir, "h0.npy"), "--c0", Path.Combine(dir, "c0.npy"), "--out", output, "--weights-format", f);
            Assert.True(code == 0, err);
            TorchFixtures.AssertClose(expected, Npy.ReadFile(Path.Combine(output, "output.npy")).ToDouble(), 5e-2, f);
        }

        var (bad, _, message) = cli.Run("bench", "--mode", "train", "--cell", "lstm", "--input", "4", "--hidden", "4", "--batch", "1", "--seq", "2", "--weights-format", "int8");
        Assert.NotEqual(0, bad);
        Assert.Contains("training runs float32", message, StringComparison.Ordinal);
    }

    /// <summary>
    /// Writes the accuracy tables of docs/numerics.md to $TMPDIR/recurrentcore-quant-accuracy.md when RECURRENTCORE_QUANT_REPORT=1 (skips otherwise):
    /// each format against PyTorch float32 on the unidirectional fixtures, and against this library's float32 layer on
    /// standard-initialised layers (U(−1/√H, 1/√H), as PyTorch) at H ∈ {64, 256, 1024}, T = 100, B = 1, inputs N(0, 1).
    /// </summary>
    [EnvironmentFact("RECURRENTCORE_QUANT_REPORT")]
    public void Accuracy_report()
    {
        var sb = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        sb.AppendLine("| fixture | bf16 max abs | bf16 rel | int8 max abs | int8 rel |").AppendLine("|---|---|---|---|---|");
        foreach (var name in Unidirectional())
        {
            var inputs = ParityInputs.Load(TorchFixtures.Paths(name, backward: false));
            var expected = Npy.ReadFile(Path.Combine(TorchFixtures.Dir(name), "expected", "output.npy")).ToDouble();
            sb.Append(inv, $"| {name} ");
            foreach (var f in new[] { WeightFormat.BFloat16, WeightFormat.Int8 })
            {
                var (o, _) = ParityRun.Execute(inputs, reference: false, f);
                var (abs, rel) = Errors(o.Output, expected);
                sb.Append(inv, $"| {abs:0.0e+0} | {rel:0.0e+0} ");
            }

            sb.AppendLine("|");
        }

        sb.AppendLine().AppendLine("| cell | H | bf16 max abs | bf16 rel | int8 max abs | int8 rel |").AppendLine("|---|---|---|---|---|---|");
        foreach (var cell in new[] { CellKind.Lstm, CellKind.Gru })
        {
            foreach (int h in new[] { 64, 256, 1024 })
            {
                var cfg = new RecurrentConfig(cell, h, h);
                var rng = new Random(h);
                var p = new RecurrentParameters(cfg);
                double bound = 1 / Math.Sqrt(h);
                foreach (var (_, _, data) in p.Named())
                {
                    for (int i = 0; i < data.Length; i++)
                    {
                        data[i] = (float)(bound * ((2 * rng.NextDouble()) - 1));
                    }
                }

                const int T = 100;
                var x = RandomData.Normal(rng, T * h).Select(v => (float)v).ToArray();
                var layer = RecurrentLayer.FromParameters(p);
                var yf = new float[T * h];
                layer.Forward(layer.CreateWorkspace(T, 1), x, T, 1, yf);
                var reference = Array.ConvertAll(yf, v => (double)v);
                sb.Append(inv, $"| {cell.Name()} | {h} ");
                foreach (var f in new[] { WeightFormat.BFloat16, WeightFormat.Int8 })
                {
                    var q = QuantizedLayer.FromLayer(layer, f);
                    var y = new float[T * h];
                    q.Forward(q.CreateStream(), x, T, y);
                    var (abs, rel) = Errors(Array.ConvertAll(y, v => (double)v), reference);
                    sb.Append(inv, $"| {abs:0.0e+0} | {rel:0.0e+0} ");
                }

                sb.AppendLine("|");
            }
        }

        File.WriteAllText(Path.Combine(Path.GetTempPath(), "recurrentcore-quant-accuracy.md"), sb.ToString());
    }

    /// <summary>max|a − e| and max|a − e| / max|e|.</summary>
    private static (double Abs, double Rel) Errors(double[] actual, double[] expected)
    {
        double abs = 0, scale = 1e-3;
        for (int i = 0; i < actual.Length; i++)
        {
            abs = Math.Max(abs, Math.Abs(actual[i] - expected[i]));
            scale = Math.Max(scale, Math.Abs(expected[i]));
        }

        return (abs, abs / scale);
    }

    private static IEnumerable<string> Unidirectional()
    {
        foreach (var name in TorchFixtures.Names())
        {
            var paths = TorchFixtures.Paths(name, backward: false);
            var inputs = ParityInputs.Load(paths);
            if (!inputs.Config.Bidirectional && paths.Lengths is null && inputs.Config.LinearBeforeReset)
            {
                yield return name;
            }
        }
    }
}
