using RecurrentCore.Interop;
using Xunit;

namespace RecurrentCore.Tests.Cli;

/// <summary>
/// Bad input: each case exits non-zero with one line naming the file and the problem, prints no stack trace, and
/// leaves no output file behind.
/// </summary>
public sealed class BadInputCliTests : IDisposable
{
    private readonly CliHarness _cli = new();
    private readonly ParityPathsView _lstm;

    public BadInputCliTests()
    {
        var p = TorchFixtures.Paths("lstm_basic", backward: true);
        _lstm = new ParityPathsView(p.Weights, p.Input, p.H0!, p.C0!, p.GradOutput!, p.GradHN!, p.GradCN!);
    }

    public void Dispose() => _cli.Dispose();

    [Fact]
    public void Missing_input_file_is_named()
    {
        var missing = _cli.Path("nope.npy");
        AssertBadInput(["forward", "--cell", "lstm", "--weights", _lstm.Weights, "--input", missing], missing);
    }

    [Fact]
    public void Truncated_npy_is_named()
    {
        var bad = _cli.Path("truncated.npy");
        var bytes = File.ReadAllBytes(_lstm.Input);
        File.WriteAllBytes(bad, bytes[..(bytes.Length - 7)]);
        AssertBadInput(["forward", "--cell", "lstm", "--weights", _lstm.Weights, "--input", bad], bad);
    }

    [Fact]
    public void Empty_weights_file_is_named()
    {
        var bad = _cli.Path("empty.safetensors");
        File.WriteAllBytes(bad, []);
        AssertBadInput(["forward", "--cell", "lstm", "--weights", bad, "--input", _lstm.Input], bad);
    }

    [Fact]
    public void Wrong_cell_for_the_weights_names_the_tensor()
    {
        // LSTM weights have 4H rows; a GRU needs 3H.
        var (_, _, err) = AssertBadInput(["forward", "--cell", "gru", "--weights", _lstm.Weights, "--input", _lstm.Input], _lstm.Weights);
        Assert.Contains("weight_hh_l0", err, StringComparison.Ordinal);
    }

    [Fact]
    public void Input_size_mismatch_is_named()
    {
        var bad = _cli.Path("x.npy");
        Npy.WriteFile(bad, HostTensor.FromSingle([5, 3, 7], new float[5 * 3 * 7]));
        var (_, _, err) = AssertBadInput(["forward", "--cell", "lstm", "--weights", _lstm.Weights, "--input", bad], bad);
        Assert.Contains("I = 4", err, StringComparison.Ordinal);
    }

    [Fact]
    public void Wrong_dtype_is_named()
    {
        var bad = _cli.Path("x.npy");
        Npy.WriteFile(bad, HostTensor.FromInt64([5, 3, 4], new long[60]));
        var (_, _, err) = AssertBadInput(["forward", "--cell", "lstm", "--weights", _lstm.Weights, "--input", bad], bad);
        Assert.Contains("expected float32", err, StringComparison.Ordinal);
    }

    [Fact]
    public void Nan_in_input_is_named_with_its_index()
    {
        var x = Npy.ReadFile(_lstm.Input);
        var values = x.ToSingle();
        values[17] = float.NaN;
        var bad = _cli.Path("nan.npy");
        Npy.WriteFile(bad, HostTensor.FromSingle([.. x.Shape], values));
        var (_, _, err) = AssertBadInput(["forward", "--cell", "lstm", "--weights", _lstm.Weights, "--input", bad], bad);
        Assert.Contains("non-finite value NaN at flat index 17", err, StringComparison.Ordinal);
    }

    [Fact]
    public void H0_shape_mismatch_is_named()
    {
        var bad = _cli.Path("h0.npy");
        Npy.WriteFile(bad, HostTensor.FromSingle([2, 3, 6], new float[36]));
        var (_, _, err) = AssertBadInput(["forward", "--cell", "lstm", "--weights", _lstm.Weights, "--input", _lstm.Input, "--h0", bad], bad);
        Assert.Contains("expected (1, 3, 6)", err, StringComparison.Ordinal);
    }

    [Fact]
    public void C0_for_a_gru_is_refused()
    {
        var gru = TorchFixtures.Paths("gru_basic", backward: false);
        var c0 = _cli.Path("c0.npy");
        Npy.WriteFile(c0, HostTensor.FromSingle([1, 3, 6], new float[18]));
        var (_, _, err) = AssertBadInput(["forward", "--cell", "gru", "--weights", gru.Weights, "--input", gru.Input, "--c0", c0], c0);
        Assert.Contains("only lstm", err, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(6)]
    [InlineData(-1)]
    public void Lengths_out_of_range_are_named(long badLength)
    {
        var len = _cli.Path("len.npy");
        Npy.WriteFile(len, HostTensor.FromInt64([3], [5, badLength, 2]));
        var (_, _, err) = AssertBadInput(["forward", "--cell", "lstm", "--weights", _lstm.Weights, "--input", _lstm.Input, "--lengths", len], len);
        Assert.Contains("outside 1..5", err, StringComparison.Ordinal);
    }

    [Fact]
    public void Lengths_with_wrong_count_are_named()
    {
        var len = _cli.Path("len.npy");
        Npy.WriteFile(len, HostTensor.FromInt64([2], [5, 5]));
        var (_, _, err) = AssertBadInput(["forward", "--cell", "lstm", "--weights", _lstm.Weights, "--input", _lstm.Input, "--lengths", len], len);
        Assert.Contains("expected (3,)", err, StringComparison.Ordinal);
    }

    [Fact]
    public void Grad_output_shape_mismatch_is_named()
    {
        var dy = _cli.Path("dy.npy");
        Npy.WriteFile(dy, HostTensor.FromSingle([5, 3, 7], new float[105]));
        var (_, _, err) = AssertBadInput(["backward", "--cell", "lstm", "--weights", _lstm.Weights, "--input", _lstm.Input, "--grad-output", dy], dy);
        Assert.Contains("expected (5, 3, 6)", err, StringComparison.Ordinal);
    }

    [Fact]
    public void Inconsistent_state_dict_names_the_offending_tensor()
    {
        var file = SafeTensors.ReadFile(_lstm.Weights);
        var tensors = file.Tensors.Where(t => t.Key != "bias_hh_l0").ToList();
        var bad = _cli.Path("w.safetensors");
        SafeTensors.WriteFile(bad, tensors);
        var (_, _, err) = AssertBadInput(["forward", "--cell", "lstm", "--weights", bad, "--input", _lstm.Input], bad);
        Assert.Contains("'bias_hh_l0' is missing", err, StringComparison.Ordinal);
    }

    [Fact]
    public void Unwritable_output_directory_is_named_and_nothing_is_left()
    {
        // A regular file where the output directory should be.
        var blocker = _cli.Path("blocker");
        File.WriteAllText(blocker, "x");
        var (code, _, err) = _cli.Run("forward", "--cell", "lstm", "--weights", _lstm.Weights, "--input", _lstm.Input, "--out", blocker);
        Assert.NotEqual(0, code);
        Assert.Contains(blocker, err, StringComparison.Ordinal);
        Assert.Equal("x", File.ReadAllText(blocker));
    }

    [Fact]
    public void Unknown_cell_is_a_usage_error_with_help()
    {
        var (code, _, err) = _cli.Run("forward", "--cell", "transformer", "--weights", _lstm.Weights, "--input", _lstm.Input, "--out", _cli.Path("out"));
        Assert.NotEqual(0, code);
        Assert.Contains("transformer", err, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", err, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_cli.Path("out")));
    }

    [Fact]
    public void Missing_required_option_is_a_usage_error()
    {
        var (code, _, err) = _cli.Run("backward", "--cell", "lstm", "--weights", _lstm.Weights, "--input", _lstm.Input, "--out", _cli.Path("out"));
        Assert.NotEqual(0, code);
        Assert.Contains("--grad-output", err, StringComparison.Ordinal);
    }

    private (int Code, string Out, string Err) AssertBadInput(string[] args, string namedFile)
    {
        string outDir = _cli.Path("out");
        var result = _cli.Run([.. args, "--out", outDir]);
        Assert.Equal(2, result.Code);
        string line = result.Err.TrimEnd('\n', '\r');
        Assert.DoesNotContain('\n', line);
        Assert.StartsWith("recurrent: error: ", line, StringComparison.Ordinal);
        Assert.Contains(namedFile, line, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Err, StringComparison.Ordinal);
        Assert.False(Directory.Exists(outDir) && Directory.EnumerateFileSystemEntries(outDir).Any(), "output left behind");
        return result;
    }

    private sealed record ParityPathsView(string Weights, string Input, string H0, string C0, string GradOutput, string GradHN, string GradCN);
}
