using System.Text.Json;
using RecurrentCore.Interop;
using RecurrentCore.Interop.Onnx;
using RecurrentCore.Tests.Reference;
using Xunit;

namespace RecurrentCore.Tests.Cli;

/// <summary>
/// <c>recurrent bench --model FILE</c>: the shape comes from the file (safetensors or ONNX, by content), shape flags
/// beside it are refused, anything else is "not a safetensors or ONNX file"; an LSTM with proj_size benches and
/// converts to safetensors, and its ONNX conversion is refused in one line.
/// </summary>
public sealed class BenchModelCliTests : IDisposable
{
    private readonly CliHarness _cli = new();

    public void Dispose() => _cli.Dispose();

    [Theory]
    [InlineData("forward", false)]
    [InlineData("train", true)]
    [InlineData("step", false)]
    public void Bench_takes_the_shape_from_a_model_file_in_either_format(string mode, bool onnx)
    {
        var cfg = new RecurrentConfig(CellKind.Gru, 3, 5, numLayers: 2);
        var p = RandomData.Parameters(cfg, new Random(1), 0.5);
        string file = _cli.Path("model.bin");
        File.WriteAllBytes(file, onnx ? OnnxModel.Export(p) : PyTorchStateDict.ToSafeTensors(p));
        var (code, output, error) = _cli.Run("bench", "--model", file, "--mode", mode, "--batch", "2", "--seq", "3", "--seconds", "0.02", "--json");
        Assert.True(code == 0, error);
        using var json = JsonDocument.Parse(output);
        Assert.Equal("gru", json.RootElement.GetProperty("cell").GetString());
        Assert.Equal(3, json.RootElement.GetProperty("input").GetInt32());
        Assert.Equal(5, json.RootElement.GetProperty("hidden").GetInt32());
        Assert.Equal(2, json.RootElement.GetProperty("layers").GetInt32());
    }

    [Theory]
    [InlineData("forward")]
    [InlineData("train")]
    [InlineData("step")]
    public void Bench_runs_a_projected_lstm_model(string mode)
    {
        var cfg = new RecurrentConfig(CellKind.Lstm, 3, 6, numLayers: 2) { ProjSize = 2 };
        File.WriteAllBytes(_cli.Path("proj.safetensors"), PyTorchStateDict.ToSafeTensors(RandomData.Parameters(cfg, new Random(2), 0.5)));
        var (code, output, error) = _cli.Run("bench", "--model", _cli.Path("proj.safetensors"), "--mode", mode, "--batch", "2", "--seq", "3", "--seconds", "0.02", "--json");
        Assert.True(code == 0, error);
        Assert.Contains("\"hidden\":6", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Shape_flags_beside_a_model_and_missing_shapes_are_usage_errors()
    {
        var cfg = new RecurrentConfig(CellKind.Lstm, 3, 4);
        File.WriteAllBytes(_cli.Path("m.safetensors"), PyTorchStateDict.ToSafeTensors(RandomData.Parameters(cfg, new Random(3), 0.5)));
        var r = _cli.Run("bench", "--model", _cli.Path("m.safetensors"), "--hidden", "8", "--mode", "forward", "--batch", "1", "--seq", "2");
        Assert.Equal(1, r.Code);
        Assert.Contains("--hidden: the --model file sets the sizes; drop --hidden", r.Err, StringComparison.Ordinal);

        // A state_dict without metadata needs its cell, and a cell the metadata contradicts is refused.
        SafeTensors.WriteFile(_cli.Path("plain.safetensors"), PyTorchStateDict.FromParameters(RandomData.Parameters(cfg, new Random(3), 0.5)));
        r = _cli.Run("bench", "--model", _cli.Path("plain.safetensors"), "--cell", "lstm", "--mode", "forward", "--batch", "1", "--seq", "2", "--seconds", "0.02");
        Assert.True(r.Code == 0, r.Err);
        r = _cli.Run("bench", "--model", _cli.Path("m.safetensors"), "--cell", "gru", "--mode", "forward", "--batch", "1", "--seq", "2", "--seconds", "0.02");
        Assert.Equal(2, r.Code);
        r = _cli.Run("bench", "--cell", "lstm", "--input", "3", "--mode", "forward", "--batch", "1", "--seq", "2");
        Assert.Equal(1, r.Code);
        Assert.Contains("--hidden: required (or --model FILE)", r.Err, StringComparison.Ordinal);
        r = _cli.Run("bench", "--cell", "lstm", "--input", "3", "--hidden", "4", "--module", "rnn", "--mode", "forward", "--batch", "1", "--seq", "2");
        Assert.Equal(1, r.Code);
    }

    [Fact]
    public void A_file_in_neither_format_is_one_line()
    {
        File.WriteAllText(_cli.Path("notes.txt"), "hello, not a model");
        var (code, output, error) = _cli.Run("bench", "--model", _cli.Path("notes.txt"), "--mode", "forward", "--batch", "1", "--seq", "2", "--seconds", "0.02");
        Assert.Equal(2, code);
        Assert.Equal($"recurrent: error: {_cli.Path("notes.txt")}: not a safetensors or ONNX file", error.TrimEnd('\n', '\r'));
        Assert.Empty(output);
    }

    [Fact]
    public void A_projected_lstm_converts_to_safetensors_and_its_onnx_export_is_refused_in_one_line()
    {
        var cfg = new RecurrentConfig(CellKind.Lstm, 3, 6) { ProjSize = 2 };
        var p = RandomData.Parameters(cfg, new Random(4), 0.5);
        File.WriteAllBytes(_cli.Path("proj.safetensors"), PyTorchStateDict.ToSafeTensors(p));
        var ok = _cli.Run("convert", _cli.Path("proj.safetensors"), _cli.Path("copy.safetensors"));
        Assert.True(ok.Code == 0, ok.Err);
        Assert.Equal(cfg, PyTorchStateDict.ToParameters(SafeTensors.ReadFile(_cli.Path("copy.safetensors")), "copy", null, null).Config);
        var (code, _, error) = _cli.Run("convert", _cli.Path("proj.safetensors"), _cli.Path("proj.onnx"));
        Assert.Equal(2, code);
        string line = error.TrimEnd('\n', '\r');
        Assert.DoesNotContain('\n', line);
        Assert.Equal($"recurrent: error: {_cli.Path("proj.onnx")}: ONNX's LSTM has no projection; {_cli.Path("proj.safetensors")} is an LSTM with proj_size 2 (weight_hr_l{{k}}) and converts to .safetensors only", line);
        Assert.False(File.Exists(_cli.Path("proj.onnx")));
    }
}
