using RecurrentCore.Interop;
using Xunit;

namespace RecurrentCore.Tests.Cli;

/// <summary>The parity contract end to end: files in, `recurrent forward/backward`, files out, against PyTorch.</summary>
public sealed class ParityCliTests : IDisposable
{
    private readonly CliHarness _cli = new();

    public static TheoryData<string, bool> Cases()
    {
        var data = new TheoryData<string, bool>();
        foreach (var name in TorchFixtures.Names())
        {
            data.Add(name, false);
            data.Add(name, true);
        }

        return data;
    }

    public void Dispose() => _cli.Dispose();

    [Theory]
    [MemberData(nameof(Cases))]
    public void Backward_round_trip_reproduces_pytorch(string name, bool reference)
    {
        var p = TorchFixtures.Paths(name, backward: true);
        var args = new List<string> { "backward", "--cell", p.Cell.Name(), "--weights", p.Weights, "--input", p.Input, "--out", _cli.Path("out") };
        if (reference)
        {
            args.Add("--reference");
        }

        void Add(string flag, string? path)
        {
            if (path is not null)
            {
                args.Add(flag);
                args.Add(path);
            }
        }

        Add("--h0", p.H0);
        Add("--c0", p.C0);
        Add("--lengths", p.Lengths);
        Add("--grad-output", p.GradOutput);
        Add("--grad-h-n", p.GradHN);
        Add("--grad-c-n", p.GradCN);
        if (p.BatchFirst)
        {
            args.Add("--batch-first");
        }

        var (code, _, err) = _cli.Run([.. args]);
        Assert.True(code == 0, err);
        string expected = Path.Combine(TorchFixtures.Dir(name), "expected");
        var files = new List<string> { "output.npy", "h_n.npy", "grad_input.npy", "grad_h0.npy" };
        if (p.Cell == CellKind.Lstm)
        {
            files.AddRange(["c_n.npy", "grad_c0.npy"]);
        }

        // Files are float32: the reference agrees to float32 rounding; the fast path within its documented bounds.
        double tol = reference ? 1e-6 : 1e-5;
        foreach (var f in files)
        {
            var ours = Npy.ReadFile(_cli.Path(Path.Combine("out", f)));
            var torch = Npy.ReadFile(Path.Combine(expected, f));
            Assert.Equal(TensorDType.F32, ours.DType);
            Assert.Equal(torch.Shape, ours.Shape);
            TorchFixtures.AssertClose(torch.ToDouble(), ours.ToDouble(), tol, f);
        }

        var grads = SafeTensors.ReadFile(_cli.Path("out/grads.safetensors"));
        var expectedGrads = SafeTensors.ReadFile(Path.Combine(expected, "grads.safetensors"));
        Assert.Equal(expectedGrads.Tensors.Select(t => t.Key), grads.Tensors.Select(t => t.Key));
        foreach (var (pname, t) in expectedGrads.Tensors)
        {
            Assert.Equal(TensorDType.F32, grads[pname].DType);
            Assert.Equal(t.Shape, grads[pname].Shape);
            TorchFixtures.AssertClose(t.ToDouble(), grads[pname].ToDouble(), reference ? 1e-6 : 1e-4, pname);
        }

        int expectedFiles = files.Count + 1;
        Assert.Equal(expectedFiles, Directory.GetFileSystemEntries(_cli.Path("out")).Length);
    }

    [Fact]
    public void Forward_writes_only_the_forward_files_into_an_existing_empty_directory()
    {
        var p = TorchFixtures.Paths("lstm_len", backward: false);
        Directory.CreateDirectory(_cli.Path("existing"));
        var (code, stdout, err) = _cli.Run("forward", "--cell", "lstm", "--weights", p.Weights, "--input", p.Input, "--h0", p.H0!, "--c0", p.C0!, "--lengths", p.Lengths!, "--out", _cli.Path("existing"));
        Assert.True(code == 0, err);
        Assert.Contains("output.npy", stdout, StringComparison.Ordinal);
        Assert.Equal(
            ["c_n.npy", "h_n.npy", "output.npy"],
            Directory.GetFileSystemEntries(_cli.Path("existing")).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        string expected = Path.Combine(TorchFixtures.Dir("lstm_len"), "expected");
        TorchFixtures.AssertClose(Npy.ReadFile(Path.Combine(expected, "output.npy")).ToDouble(), Npy.ReadFile(_cli.Path("existing/output.npy")).ToDouble(), 1e-6, "output");
    }

    [Fact]
    public void Parity_command_passes_on_the_bundled_models()
    {
        var (code, stdout, err) = _cli.Run("parity", "--fixtures", TorchFixtures.Root);
        Assert.True(code == 0, err + stdout);
        int n = TorchFixtures.Names().Count();
        Assert.Contains($"{n} of {n} cases agree with PyTorch", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Parity_command_reports_a_case_that_disagrees()
    {
        // Copy one case and perturb one expected output value: the command must notice and exit non-zero.
        string src = TorchFixtures.Dir("gru_basic");
        string dst = _cli.Path("fixtures/gru_basic");
        CopyDirectory(src, dst);
        var output = Npy.ReadFile(Path.Combine(dst, "expected", "output.npy"));
        var values = output.ToDouble();
        values[5] += 1e-6;
        Npy.WriteFile(Path.Combine(dst, "expected", "output.npy"), HostTensor.FromDouble([.. output.Shape], values));

        var (code, stdout, _) = _cli.Run("parity", "--fixtures", _cli.Path("fixtures"));
        Assert.NotEqual(0, code);
        Assert.Contains("FAIL", stdout, StringComparison.Ordinal);
        Assert.Contains("0 of 1 cases agree", stdout, StringComparison.Ordinal);
    }

    private static void CopyDirectory(string src, string dst)
    {
        Directory.CreateDirectory(dst);
        foreach (var f in Directory.GetFiles(src))
        {
            File.Copy(f, Path.Combine(dst, Path.GetFileName(f)));
        }

        foreach (var d in Directory.GetDirectories(src))
        {
            CopyDirectory(d, Path.Combine(dst, Path.GetFileName(d)));
        }
    }
}
