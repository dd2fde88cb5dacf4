using RecurrentCore.Interop;
using RecurrentCore.Tests.Interop.Onnx;
using Xunit;

namespace RecurrentCore.Tests.Cli;

/// <summary>
/// An LSTM with proj_size through <c>recurrent forward</c> and <c>backward</c> (--model, fast and --reference): the
/// files take P-wide h0 / h_n and H-wide c0 / c_n, and the results match PyTorch's (tests/fixtures/torch_proj).
/// </summary>
public sealed class ProjectionCliTests : IDisposable
{
    private readonly CliHarness _cli = new();

    public void Dispose() => _cli.Dispose();

    [Theory]
    [InlineData("proj_l2_bf_len", false, 2e-5)]
    [InlineData("proj_l2_bf_len", true, 1e-9)]
    [InlineData("proj_bi_nobias_len", false, 2e-5)]
    public void Backward_with_a_projected_model_matches_pytorch(string name, bool reference, double tolerance)
    {
        string dir = Path.Combine(AppContext.BaseDirectory, "fixtures", "torch_proj", name);
        var tensors = Directory.GetFiles(dir, "*.npy").Select(f => Path.GetFileNameWithoutExtension(f)!)
            .Where(n => n.StartsWith("weight_", StringComparison.Ordinal) || n.StartsWith("bias_", StringComparison.Ordinal))
            .Select(n => new KeyValuePair<string, HostTensor>(n, Npy.ReadFile(Path.Combine(dir, n + ".npy"))));
        bool batchFirst = name.Contains("_bf", StringComparison.Ordinal);
        var p = PyTorchStateDict.ToParameters(CellKind.Lstm, tensors, name, batchFirst);
        File.WriteAllBytes(_cli.Path("model.safetensors"), PyTorchStateDict.ToSafeTensors(p));
        string F(string file) => Path.Combine(dir, file + ".npy");
        var args = new List<string>
        {
            "backward", "--model", _cli.Path("model.safetensors"), "--input", F("input"), "--h0", F("h0"), "--c0", F("c0"), "--lengths", F("lengths"),
            "--grad-output", F("grad_output"), "--grad-h-n", F("grad_h_n"), "--grad-c-n", F("grad_c_n"), "--out", _cli.Path("out"),
        };
        if (reference)
        {
            args.Add("--reference");
        }

        var (code, _, error) = _cli.Run([.. args]);
        Assert.True(code == 0, error);
        foreach (var (mine, theirs) in new[] { ("output", "output"), ("h_n", "h_n"), ("c_n", "c_n"), ("grad_input", "grad_input"), ("grad_h0", "grad_h0"), ("grad_c0", "grad_c0") })
        {
            var got = Npy.ReadFile(Path.Combine(_cli.Path("out"), mine + ".npy"));
            var want = Npy.ReadFile(F(theirs));
            Assert.Equal(want.Shape, got.Shape);
            Close.Assert(mine, want.ToDouble(), got.ToDouble(), Math.Max(tolerance, 1e-6));
        }

        var grads = SafeTensors.ReadFile(Path.Combine(_cli.Path("out"), "grads.safetensors")).Tensors.ToDictionary(e => e.Key, e => e.Value);
        Assert.Contains("weight_hr_l0", grads.Keys);
        foreach (var (tensor, value) in grads)
        {
            Close.Assert("grad " + tensor, Npy.ReadFile(F("grad_" + tensor)).ToDouble(), value.ToDouble(), Math.Max(tolerance, 1e-5));
        }
    }

    [Fact]
    public void A_c0_of_the_h_shape_is_refused_in_one_line()
    {
        string dir = Path.Combine(AppContext.BaseDirectory, "fixtures", "torch_proj", "proj_basic");
        var tensors = Directory.GetFiles(dir, "*.npy").Select(f => Path.GetFileNameWithoutExtension(f)!)
            .Where(n => n.StartsWith("weight_", StringComparison.Ordinal) || n.StartsWith("bias_", StringComparison.Ordinal))
            .Select(n => new KeyValuePair<string, HostTensor>(n, Npy.ReadFile(Path.Combine(dir, n + ".npy"))));
        File.WriteAllBytes(_cli.Path("model.safetensors"), PyTorchStateDict.ToSafeTensors(PyTorchStateDict.ToParameters(CellKind.Lstm, tensors, "proj_basic")));
        var (code, _, error) = _cli.Run("forward", "--model", _cli.Path("model.safetensors"), "--input", Path.Combine(dir, "input.npy"), "--c0", Path.Combine(dir, "h0.npy"), "--out", _cli.Path("out"));
        Assert.Equal(2, code);
        Assert.DoesNotContain('\n', error.TrimEnd('\n', '\r'));
        Assert.Contains("h0.npy", error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_cli.Path("out")));
    }
}
