using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using RecurrentCore.Interop;
using RecurrentCore.Kernels;

namespace RecurrentCore.Cli.Parity;

/// <summary>
/// <c>recurrent parity</c>: runs every bundled PyTorch fixture (weights, inputs, upstream gradients exported from
/// PyTorch, with float64 expected results) through the same loading and computing path as forward/backward and
/// prints, per case, the worst relative error of the outputs and of the gradients against PyTorch.
/// </summary>
internal static class ParityCheckCommand
{
    /// <summary>The agreement every case must reach: both sides compute in double from the same float32 data.</summary>
    public const double Tolerance = 1e-9;

    /// <summary>The agreement the float32 fast path must reach (outputs; gradients get <see cref="FastGradientTolerance"/>).</summary>
    public const double FastOutputTolerance = 1e-5;

    /// <summary>The agreement the float32 fast path's gradients must reach.</summary>
    public const double FastGradientTolerance = 1e-4;

    public static Command Create()
    {
        var fixtures = new Option<string>("--fixtures")
        {
            Description = "Folder of PyTorch fixtures (one sub-folder per case, as written by tests/fixtures/gen_torch.py).",
            DefaultValueFactory = _ => Path.Combine(AppContext.BaseDirectory, "fixtures", "torch"),
        };
        var command = new Command("parity", "Check the reference and fast paths against the bundled PyTorch-exported models and print the agreement.") { fixtures };
        PathOptions.RequireNonEmpty(fixtures);
        command.SetAction(parse => Run(parse.GetValue(fixtures)!, parse.InvocationConfiguration.Output));
        return command;
    }

    public static int Run(string root, TextWriter output)
    {
        if (!Directory.Exists(root))
        {
            throw new CliException($"{root}: fixtures folder not found");
        }

        var cases = Directory.GetDirectories(root).Where(d => File.Exists(Path.Combine(d, "meta.json"))).Order(StringComparer.Ordinal).ToList();
        if (cases.Count == 0)
        {
            throw new CliException($"{root}: no fixture cases (sub-folders with meta.json) found");
        }

        output.WriteLine($"PyTorch parity: {cases.Count} cases from {root}");
        output.WriteLine($"reference = scalar double-precision path (must agree within {Tolerance:0e+0}); fast = float32 kernels, variant {KernelCatalog.Name(KernelCatalog.Active)} (outputs within {FastOutputTolerance:0e+0}, gradients within {FastGradientTolerance:0e+0})");
        output.WriteLine("error = max|ours - torch| / max|torch| per tensor, worst over the case's tensors");
        output.WriteLine();
        output.WriteLine($"{"case",-24} {"cell",-9} {"L",2} {"D",2} {"T",2} {"B",2} {"I",3} {"H",3}  {"ref out",8} {"ref grad",8}  {"fast out",8} {"fast grad",9}  result");
        int failures = 0;
        double worstRef = 0, worstFastOut = 0, worstFastGrad = 0;
        foreach (var dir in cases)
        {
            var (cfg, paths, t, b) = Describe(dir);
            var inputs = ParityInputs.Load(paths);
            var (refOut, refGrad) = Measure(inputs, dir, reference: true);
            var (fastOut, fastGrad) = Measure(inputs, dir, reference: false);
            bool ok = refOut <= Tolerance && refGrad <= Tolerance && fastOut <= FastOutputTolerance && fastGrad <= FastGradientTolerance;
            failures += ok ? 0 : 1;
            worstRef = Max(worstRef, refOut, refGrad);
            worstFastOut = Max(worstFastOut, fastOut);
            worstFastGrad = Max(worstFastGrad, fastGrad);
            output.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"{Path.GetFileName(dir),-24} {cfg.Cell.Name(),-9} {cfg.NumLayers,2} {cfg.NumDirections,2} {t,2} {b,2} {cfg.InputSize,3} {cfg.HiddenSize,3}  {refOut,8:0.0e+0} {refGrad,8:0.0e+0}  {fastOut,8:0.0e+0} {fastGrad,9:0.0e+0}  {(ok ? "ok" : "FAIL")}"));
        }

        output.WriteLine();
        output.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"{cases.Count - failures} of {cases.Count} cases agree with PyTorch (worst: reference {worstRef:0.0e+0}, fast outputs {worstFastOut:0.0e+0}, fast gradients {worstFastGrad:0.0e+0})"));
        return failures == 0 ? 0 : 3;
    }

    private static (double Outputs, double Gradients) Measure(ParityInputs inputs, string dir, bool reference)
    {
        var (outputs, grads) = ParityRun.Execute(inputs, reference);
        string expected = Path.Combine(dir, "expected");
        double outErr = Max(
            Compare(outputs.Output, expected, "output.npy"),
            Compare(outputs.HN, expected, "h_n.npy"),
            outputs.CN is null ? 0 : Compare(outputs.CN, expected, "c_n.npy"));
        var g = grads!;
        var expectedGrads = SafeTensors.ReadFile(Path.Combine(expected, "grads.safetensors"));
        double gradErr = Max(
            Compare(g.Input, expected, "grad_input.npy"),
            Compare(g.H0, expected, "grad_h0.npy"),
            g.C0 is null ? 0 : Compare(g.C0, expected, "grad_c0.npy"));
        foreach (var (name, _, data) in g.Parameters.Named())
        {
            gradErr = Math.Max(gradErr, RelativeError(data, expectedGrads[name].ToDouble()));
        }

        return (outErr, gradErr);
    }

    private static (RecurrentConfig Config, ParityPaths Paths, int SeqLen, int Batch) Describe(string dir)
    {
        string metaPath = Path.Combine(dir, "meta.json");
        JsonElement meta;
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(metaPath));
            meta = doc.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new CliException($"{metaPath}: not valid JSON: {e.Message}", e);
        }

        try
        {
            var cell = CellKinds.Parse(meta.GetProperty("cell").GetString() ?? string.Empty);
            bool batchFirst = meta.GetProperty("batch_first").GetBoolean();
            string? Optional(string file) => File.Exists(Path.Combine(dir, file)) ? Path.Combine(dir, file) : null;
            var paths = new ParityPaths(
                cell,
                Path.Combine(dir, "weights.safetensors"),
                Path.Combine(dir, "input.npy"),
                Optional("h0.npy"),
                Optional("c0.npy"),
                Optional("lengths.npy"),
                batchFirst,
                Path.Combine(dir, "grad_output.npy"),
                Optional("grad_h_n.npy"),
                Optional("grad_c_n.npy"));
            var cfg = new RecurrentConfig(
                cell,
                meta.GetProperty("input_size").GetInt32(),
                meta.GetProperty("hidden_size").GetInt32(),
                meta.GetProperty("num_layers").GetInt32(),
                meta.GetProperty("bias").GetBoolean(),
                batchFirst,
                meta.GetProperty("bidirectional").GetBoolean());
            return (cfg, paths, meta.GetProperty("seq_len").GetInt32(), meta.GetProperty("batch").GetInt32());
        }
        catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new CliException($"{metaPath}: missing or mistyped field: {e.Message}", e);
        }
    }

    private static double Compare(double[] ours, string dir, string file) => RelativeError(ours, Npy.ReadFile(Path.Combine(dir, file)).ToDouble(), Path.Combine(dir, file));

    private static double RelativeError(double[] ours, double[] expected, string? what = null)
    {
        if (ours.Length != expected.Length)
        {
            throw new CliException($"{what ?? "expected tensor"}: has {expected.Length} values, the run produced {ours.Length}");
        }

        double diff = 0, scale = 0;
        for (int i = 0; i < ours.Length; i++)
        {
            diff = Math.Max(diff, Math.Abs(ours[i] - expected[i]));
            scale = Math.Max(scale, Math.Abs(expected[i]));
        }

        return scale == 0 ? diff : diff / scale;
    }

    private static double Max(params ReadOnlySpan<double> values)
    {
        double m = 0;
        foreach (var v in values)
        {
            m = Math.Max(m, double.IsNaN(v) ? double.PositiveInfinity : v);
        }

        return m;
    }
}
