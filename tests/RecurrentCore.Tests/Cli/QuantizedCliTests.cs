using RecurrentCore.Interop;
using RecurrentCore.Layers;
using RecurrentCore.Tests.Reference;
using Xunit;

namespace RecurrentCore.Tests.Cli;

/// <summary>
/// Quantized files in the CLI: <c>convert --weights-format</c> writes them, <c>forward --model</c> / <c>--weights</c>
/// run them in their own format (the same bits as converting on the fly), <c>inspect</c> describes them, and every
/// refusal is one line with exit code 2 and no output left behind.
/// </summary>
public sealed class QuantizedCliTests : IDisposable
{
    private readonly CliHarness _cli = new();

    public void Dispose() => _cli.Dispose();

    private string Model(RecurrentConfig cfg)
    {
        string path = _cli.Path("f32.safetensors");
        File.WriteAllBytes(path, PyTorchStateDict.ToSafeTensors(RandomData.Parameters(cfg, new Random(5), 0.5)));
        return path;
    }

    private string Input(RecurrentConfig cfg, int t, int b)
    {
        var x = RandomData.Normal(new Random(6), t * b * cfg.InputSize).Select(v => (float)v).ToArray();
        string path = _cli.Path("x.npy");
        Npy.WriteFile(path, HostTensor.FromSingle(cfg.BatchFirst ? [b, t, cfg.InputSize] : [t, b, cfg.InputSize], x));
        return path;
    }

    private byte[] Output(string dir) => File.ReadAllBytes(_cli.Path(Path.Combine(dir, "output.npy")));

    [Theory]
    [InlineData("int8", "gru")]
    [InlineData("bf16", "lstm")]
    [InlineData("int8", "rnn-relu")]
    public void Converted_file_runs_as_the_on_the_fly_conversion(string format, string cell)
    {
        var cfg = new RecurrentConfig(CellKinds.Parse(cell), 5, 6, numLayers: 2, batchFirst: true);
        string f32 = Model(cfg), x = Input(cfg, 4, 3), q = _cli.Path("q.safetensors");
        var r = _cli.Run("convert", f32, q, "--weights-format", format);
        Assert.True(r.Code == 0, r.Err);
        Assert.Contains($"{format} weights", r.Out, StringComparison.Ordinal);

        Assert.Equal(0, _cli.Run("forward", "--model", f32, "--weights-format", format, "--input", x, "--out", _cli.Path("a")).Code);
        r = _cli.Run("forward", "--model", q, "--input", x, "--out", _cli.Path("b"));
        Assert.True(r.Code == 0, r.Err);
        Assert.Equal(Output("a"), Output("b"));
        // --weights (safetensors) reads it too, and naming its own format is allowed.
        Assert.Equal(0, _cli.Run("forward", "--weights", q, "--weights-format", format, "--input", x, "--out", _cli.Path("c")).Code);
        Assert.Equal(Output("a"), Output("c"));

        // --reference runs the double reference on the stored weights, as on the fly.
        Assert.Equal(0, _cli.Run("forward", "--model", f32, "--weights-format", format, "--reference", "--input", x, "--out", _cli.Path("d")).Code);
        Assert.Equal(0, _cli.Run("forward", "--model", q, "--reference", "--input", x, "--out", _cli.Path("e")).Code);
        Assert.Equal(Output("d"), Output("e"));

        r = _cli.Run("inspect", q);
        Assert.Equal(0, r.Code);
        Assert.Contains($"{cell}, input 5, hidden 6, 2 layer(s)", r.Out, StringComparison.Ordinal);
        Assert.Contains($"{format} weights", r.Out, StringComparison.Ordinal);

        // The file converted again in its own format is the same file.
        Assert.Equal(0, _cli.Run("convert", q, _cli.Path("q2.safetensors")).Code);
        Assert.Equal(File.ReadAllBytes(q), File.ReadAllBytes(_cli.Path("q2.safetensors")));
    }

    [Fact]
    public void Int8_lstm_converts_to_onnx_from_either_file()
    {
        var cfg = new RecurrentConfig(CellKind.Lstm, 3, 4);
        string f32 = Model(cfg), q = _cli.Path("q.safetensors");
        Assert.Equal(0, _cli.Run("convert", f32, q, "--weights-format", "int8").Code);
        var r = _cli.Run("convert", q, _cli.Path("a.onnx"));
        Assert.True(r.Code == 0, r.Err);
        Assert.Equal(0, _cli.Run("convert", f32, _cli.Path("b.onnx"), "--weights-format", "int8").Code);
        Assert.Equal(File.ReadAllBytes(_cli.Path("a.onnx")), File.ReadAllBytes(_cli.Path("b.onnx")));
        Assert.Equal(
            QuantizedLayer.FromSafeTensors(SafeTensors.ReadFile(q), q).ToOnnx(new() { SequenceLens = true, InitialStates = true }),
            File.ReadAllBytes(_cli.Path("a.onnx")));
    }

    public static TheoryData<string, string, string[], string> Refusals() => new()
    {
        { "gru", "int8", ["convert", "{q}", "{dir}/o.onnx"], "DynamicQuantizeLSTM" },
        { "rnn-tanh", "int8", ["convert", "{f32}", "{dir}/o.onnx", "--weights-format", "int8"], "int8 rnn-tanh" },
        { "lstm", "bf16", ["convert", "{q}", "{dir}/o.onnx"], "bf16 weights cannot be exported" },
        { "lstm", "int8", ["convert", "{q}", "{dir}/o.safetensors", "--weights-format", "bf16"], "holds int8 weights already" },
        { "lstm", "int8", ["forward", "--model", "{q}", "--weights-format", "bf16", "--input", "{x}", "--out", "{dir}/o"], "holds int8 weights" },
        { "lstm", "bf16", ["backward", "--model", "{q}", "--input", "{x}", "--grad-output", "{x}", "--out", "{dir}/o"], "backward needs a float32 model" },
        { "gru", "int8", ["forward", "--model", "{q}", "--cell", "lstm", "--input", "{x}", "--out", "{dir}/o"], "holds gru" },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public void Refusals_are_one_line_and_leave_no_output(string cell, string format, string[] args, string words)
    {
        var cfg = new RecurrentConfig(CellKinds.Parse(cell), 3, 4);
        string f32 = Model(cfg), x = Input(cfg, 2, 1), q = _cli.Path("q.safetensors");
        Assert.Equal(0, _cli.Run("convert", f32, q, "--weights-format", format).Code);
        var r = _cli.Run([.. args.Select(a => a.Replace("{q}", q, StringComparison.Ordinal).Replace("{f32}", f32, StringComparison.Ordinal)
            .Replace("{x}", x, StringComparison.Ordinal).Replace("{dir}", _cli.Scratch, StringComparison.Ordinal))]);
        Assert.Equal(2, r.Code);
        Assert.Contains(words, r.Err, StringComparison.Ordinal);
        Assert.Single(r.Err.TrimEnd().Split('\n'));
        Assert.StartsWith("recurrent: error: ", r.Err, StringComparison.Ordinal);
        Assert.False(File.Exists(_cli.Path("o.onnx")) || File.Exists(_cli.Path("o.safetensors")) || Directory.Exists(_cli.Path("o")));
    }

    [Fact]
    public void A_damaged_quantized_file_is_refused_naming_the_tensor()
    {
        var cfg = new RecurrentConfig(CellKind.Lstm, 3, 4);
        string f32 = Model(cfg), q = _cli.Path("q.safetensors"), x = Input(cfg, 2, 1);
        Assert.Equal(0, _cli.Run("convert", f32, q, "--weights-format", "int8").Code);
        var file = SafeTensors.ReadFile(q);
        SafeTensors.WriteFile(q, file.Tensors.Where(t => t.Key != "weight_hh_l0_scale"), file.Metadata);
        var r = _cli.Run("forward", "--model", q, "--input", x, "--out", _cli.Path("o"));
        Assert.Equal(2, r.Code);
        Assert.Contains("'weight_hh_l0_scale' is missing", r.Err, StringComparison.Ordinal);
        Assert.Equal(2, _cli.Run("inspect", q).Code);
    }
}
