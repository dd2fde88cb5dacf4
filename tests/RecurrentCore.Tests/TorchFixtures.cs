using System.Text.Json;
using RecurrentCore.Cli.Parity;

namespace RecurrentCore.Tests;

/// <summary>The committed PyTorch fixtures (tests/fixtures/torch, written by tests/fixtures/gen_torch.py).</summary>
internal static class TorchFixtures
{
    public static string Root { get; } = Path.Combine(AppContext.BaseDirectory, "fixtures", "torch");

    public static IEnumerable<string> Names() =>
        Directory.GetDirectories(Root).Where(d => File.Exists(Path.Combine(d, "meta.json"))).Select(Path.GetFileName).Order(StringComparer.Ordinal)!;

    public static Xunit.TheoryData<string> All()
    {
        var data = new Xunit.TheoryData<string>();
        foreach (var n in Names())
        {
            data.Add(n);
        }

        return data;
    }

    public static string Dir(string name) => Path.Combine(Root, name);

    /// <summary>The case's files as the parity command takes them (with upstream gradients when <paramref name="backward"/>).</summary>
    public static ParityPaths Paths(string name, bool backward)
    {
        string dir = Dir(name);
        using var meta = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(dir, "meta.json")));
        string? Optional(string file) => File.Exists(Path.Combine(dir, file)) ? Path.Combine(dir, file) : null;
        return new ParityPaths(
            CellKinds.Parse(meta.RootElement.GetProperty("cell").GetString()!),
            Path.Combine(dir, "weights.safetensors"),
            Path.Combine(dir, "input.npy"),
            Optional("h0.npy"),
            Optional("c0.npy"),
            Optional("lengths.npy"),
            meta.RootElement.GetProperty("batch_first").GetBoolean(),
            backward ? Path.Combine(dir, "grad_output.npy") : null,
            backward ? Optional("grad_h_n.npy") : null,
            backward ? Optional("grad_c_n.npy") : null);
    }

    /// <summary>Passes when max|actual − expected| ≤ tol·max(max|expected|, 1e-3).</summary>
    public static void AssertClose(double[] expected, double[] actual, double tol, string what)
    {
        Xunit.Assert.Equal(expected.Length, actual.Length);
        double scale = 1e-3;
        foreach (var e in expected)
        {
            scale = Math.Max(scale, Math.Abs(e));
        }

        for (int i = 0; i < expected.Length; i++)
        {
            double err = Math.Abs(actual[i] - expected[i]);
            Xunit.Assert.True(err <= tol * scale, $"{what}[{i}]: expected {expected[i]:R}, got {actual[i]:R} (|err| {err:0.0e+0} > {tol:0e+0}·{scale:0.###})");
        }
    }
}
