using RecurrentCore.Interop;
using RecurrentCore.Interop.Onnx;
using RecurrentCore.Tests.Cli;
using RecurrentCore.Tests.Reference;
using Xunit;

namespace RecurrentCore.Tests.Interop.Onnx;

/// <summary>
/// Model files in the CLI: <c>--model</c> in either format (by content), <c>convert</c>, <c>inspect</c>; whole-model
/// state_dicts and the configuration our writers record in safetensors metadata.
/// </summary>
public sealed class ModelFileCliTests : IDisposable
{
    private readonly CliHarness _cli = new();

    public void Dispose() => _cli.Dispose();

    private static RecurrentParameters Params(RecurrentConfig cfg) => RandomData.Parameters(cfg, new Random(5), 0.5);

    private string Input(RecurrentConfig cfg, int t, int b)
    {
        var x = Close.ToFloat(RandomData.Normal(new Random(6), t * b * cfg.InputSize));
        string path = _cli.Path("x.npy");
        Npy.WriteFile(path, HostTensor.FromSingle(cfg.BatchFirst ? [b, t, cfg.InputSize] : [t, b, cfg.InputSize], [.. x.Select(v => (float)v)]));
        return path;
    }

    private static double[] Output(string dir) => Npy.ReadFile(Path.Combine(dir, "output.npy")).ToDouble();

    [Fact]
    public void Forward_reads_safetensors_metadata_and_onnx_and_agrees_with_weights_and_cell()
    {
        var cfg = new RecurrentConfig(CellKind.Gru, 3, 4, numLayers: 2, batchFirst: true, bidirectional: true);
        var p = Params(cfg);
        File.WriteAllBytes(_cli.Path("m.safetensors"), PyTorchStateDict.ToSafeTensors(p));
        SafeTensors.WriteFile(_cli.Path("plain.safetensors"), PyTorchStateDict.FromParameters(p));
        string x = Input(cfg, 5, 2);
        Assert.Equal(0, _cli.Run("forward", "--cell", "gru", "--batch-first", "--weights", _cli.Path("plain.safetensors"), "--input", x, "--out", _cli.Path("a"), "--reference").Code);

        // No --cell, no --batch-first: both come from the metadata.
        var r = _cli.Run("forward", "--model", _cli.Path("m.safetensors"), "--input", x, "--out", _cli.Path("b"), "--reference");
        Assert.True(r.Code == 0, r.Err);
        Assert.Equal(Output(_cli.Path("a")), Output(_cli.Path("b")));

        // The same model converted to ONNX, and an extension that says nothing.
        Assert.Equal(0, _cli.Run("convert", _cli.Path("m.safetensors"), _cli.Path("m.onnx")).Code);
        File.Copy(_cli.Path("m.onnx"), _cli.Path("m.bin"));
        r = _cli.Run("forward", "--model", _cli.Path("m.bin"), "--input", x, "--out", _cli.Path("c"), "--reference");
        Assert.True(r.Code == 0, r.Err);
        Close.Assert("onnx model output", Output(_cli.Path("a")), Output(_cli.Path("c")), 1e-6);
    }

    [Fact]
    public void Convert_keeps_a_reverse_only_stack_reverse_and_other_commands_refuse_it()
    {
        var cfg = new RecurrentConfig(CellKind.Lstm, 3, 4, numLayers: 2);
        var p = ReverseExportTests.FloatParameters(cfg, new Random(5));

        // convert's own options: sequence_lens and states as inputs, opset 14.
        byte[] reverse = OnnxModel.Export(p, new OnnxExportOptions { Reverse = true, SequenceLens = true, InitialStates = true });
        File.WriteAllBytes(_cli.Path("r.onnx"), reverse);
        var r = _cli.Run("convert", _cli.Path("r.onnx"), _cli.Path("again.onnx"));
        Assert.True(r.Code == 0, r.Err);
        Assert.Contains(", reverse)", r.Out, StringComparison.Ordinal);
        Assert.Equal(reverse, File.ReadAllBytes(_cli.Path("again.onnx")));

        r = _cli.Run("inspect", _cli.Path("r.onnx"));
        Assert.True(r.Code == 0, r.Err);
        Assert.Contains("2 layer(s), unidirectional, time-major, bias, reverse (ONNX direction = reverse", r.Out, StringComparison.Ordinal);

        r = _cli.Run("convert", _cli.Path("r.onnx"), _cli.Path("r.safetensors"));
        Assert.NotEqual(0, r.Code);
        Assert.Contains("a reverse-only stack (ONNX direction = reverse) converts to float32 .onnx only", r.Err, StringComparison.Ordinal);
        Assert.False(File.Exists(_cli.Path("r.safetensors")));

        r = _cli.Run("forward", "--model", _cli.Path("r.onnx"), "--input", Input(cfg, 4, 2), "--out", _cli.Path("f"));
        Assert.NotEqual(0, r.Code);
        Assert.Contains("a reverse-only stack (ONNX direction = reverse) has no PyTorch layer to run it", r.Err, StringComparison.Ordinal);
    }

    [Fact]
    public void Backward_takes_a_model_file()
    {
        var cfg = new RecurrentConfig(CellKind.Lstm, 3, 4);
        File.WriteAllBytes(_cli.Path("m.onnx"), OnnxModel.Export(Params(cfg)));
        string x = Input(cfg, 4, 2);
        Npy.WriteFile(_cli.Path("dy.npy"), HostTensor.FromSingle([4, 2, 4], new float[32]));
        var r = _cli.Run("backward", "--model", _cli.Path("m.onnx"), "--input", x, "--grad-output", _cli.Path("dy.npy"), "--out", _cli.Path("o"));
        Assert.True(r.Code == 0, r.Err);
        Assert.True(File.Exists(Path.Combine(_cli.Path("o"), "grads.safetensors")));
    }

    [Fact]
    public void Refuses_what_the_file_contradicts_and_what_is_neither_format()
    {
        var cfg = new RecurrentConfig(CellKind.Lstm, 3, 4, batchFirst: false);
        File.WriteAllBytes(_cli.Path("m.safetensors"), PyTorchStateDict.ToSafeTensors(Params(cfg)));
        string x = Input(cfg, 4, 2);
        var r = _cli.Run("forward", "--model", _cli.Path("m.safetensors"), "--batch-first", "--input", x, "--out", _cli.Path("o"));
        Assert.Equal(2, r.Code);
        Assert.Contains("batch_first = true was requested but the file's metadata says false", r.Err, StringComparison.Ordinal);
        r = _cli.Run("forward", "--model", _cli.Path("m.safetensors"), "--cell", "gru", "--input", x, "--out", _cli.Path("o"));
        Assert.Contains("cell gru was requested but the file's metadata says lstm", r.Err, StringComparison.Ordinal);

        File.WriteAllText(_cli.Path("notes.onnx"), "hello, I am text");
        r = _cli.Run("forward", "--model", _cli.Path("notes.onnx"), "--input", x, "--out", _cli.Path("o"));
        Assert.Equal(2, r.Code);
        Assert.Equal($"recurrent: error: {_cli.Path("notes.onnx")}: not a safetensors or ONNX file", r.Err.Trim());
        Assert.False(Directory.Exists(_cli.Path("o")));

        r = _cli.Run("forward", "--model", _cli.Path("m.safetensors"), "--weights", _cli.Path("m.safetensors"), "--input", x, "--out", _cli.Path("o"));
        Assert.Contains("either --weights or --model", r.Err, StringComparison.Ordinal);
    }

    [Fact]
    public void Metadata_that_disagrees_with_the_tensors_is_refused()
    {
        var p = Params(new RecurrentConfig(CellKind.Lstm, 3, 4));
        var meta = PyTorchStateDict.ToMetadata(p.Config);
        meta[PyTorchStateDict.MetadataKeys.NumDirections] = "2";
        var file = SafeTensors.Read(SafeTensors.Write(PyTorchStateDict.FromParameters(p), meta), "m.safetensors");
        var e = Assert.Throws<InteropFormatException>(() => PyTorchStateDict.ToParameters(file, "m.safetensors", null, null));
        Assert.Equal("m.safetensors: metadata 'recurrent.num_directions' = 2 but the tensors give 1", e.Message);
        meta = PyTorchStateDict.ToMetadata(p.Config);
        meta[PyTorchStateDict.MetadataKeys.HiddenSize] = "5";
        file = SafeTensors.Read(SafeTensors.Write(PyTorchStateDict.FromParameters(p), meta), "m.safetensors");
        e = Assert.Throws<InteropFormatException>(() => PyTorchStateDict.ToParameters(file, "m.safetensors", null, null));
        Assert.Equal("m.safetensors: metadata 'recurrent.hidden_size' = 5 but the tensors give 4", e.Message);
    }

    [Fact]
    public void Whole_model_state_dict_selects_the_recurrent_module()
    {
        var p = Params(new RecurrentConfig(CellKind.Gru, 3, 4));
        var tensors = PyTorchStateDict.FromParameters(p).Select(t => new KeyValuePair<string, HostTensor>("encoder.rnn." + t.Key, t.Value)).ToList();
        tensors.Add(new("head.weight", HostTensor.FromSingle([2, 4], new float[8])));
        tensors.Add(new("head.bias", HostTensor.FromSingle([2], new float[2])));
        var file = SafeTensors.Read(SafeTensors.Write(tensors), "whole.safetensors");
        var found = PyTorchStateDict.ToParameters(file, "whole.safetensors", CellKind.Gru, null);
        Assert.Equal(p[0, 0, ParameterKind.WeightHh].Select(v => (double)(float)v), found[0, 0, ParameterKind.WeightHh]);
        Assert.Equal(p.Config, PyTorchStateDict.ToParameters(file, "whole.safetensors", CellKind.Gru, null, module: "encoder.rnn").Config);

        tensors.AddRange(PyTorchStateDict.FromParameters(p).Select(t => new KeyValuePair<string, HostTensor>("decoder." + t.Key, t.Value)));
        file = SafeTensors.Read(SafeTensors.Write(tensors), "two.safetensors");
        var e = Assert.Throws<InteropFormatException>(() => PyTorchStateDict.ToParameters(file, "two.safetensors", CellKind.Gru, null));
        Assert.Equal("two.safetensors: several recurrent modules ('decoder', 'encoder.rnn'); choose one (--module)", e.Message);
        Assert.Equal(p.Config, PyTorchStateDict.ToParameters(file, "two.safetensors", CellKind.Gru, null, module: "decoder").Config);
        e = Assert.Throws<InteropFormatException>(() => PyTorchStateDict.ToParameters(file, "two.safetensors", CellKind.Gru, null, module: "nope"));
        Assert.Contains("no tensor starts with 'nope.'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Convert_round_trips_between_formats_keeping_the_configuration()
    {
        var cfg = new RecurrentConfig(CellKind.Gru, 2, 3, bidirectional: true) { LinearBeforeReset = false };
        var p = Params(cfg);
        File.WriteAllBytes(_cli.Path("a.onnx"), OnnxModel.Export(p));
        var r = _cli.Run("convert", _cli.Path("a.onnx"), _cli.Path("b.safetensors"));
        Assert.True(r.Code == 0, r.Err);
        var back = PyTorchStateDict.ToParameters(SafeTensors.ReadFile(_cli.Path("b.safetensors")), "b", null, null);
        Assert.Equal(cfg, back.Config);
        Assert.Equal(0, _cli.Run("convert", _cli.Path("b.safetensors"), _cli.Path("c.onnx")).Code);
        var again = OnnxModel.Import(_cli.Path("c.onnx")).Parameters;
        foreach (var (name, _, data) in p.Named())
        {
            Assert.Equal(Close.ToFloat(data), again.Named().Single(t => t.Name == name).Data);
        }

        r = _cli.Run("convert", _cli.Path("b.safetensors"), _cli.Path("c.txt"));
        Assert.Contains("extension must be .onnx or .safetensors", r.Err, StringComparison.Ordinal);
        Assert.False(File.Exists(_cli.Path("c.txt")));
    }

    [Fact]
    public void Inspect_prints_configuration_tensors_and_graph()
    {
        var cfg = new RecurrentConfig(CellKind.Lstm, 3, 4, numLayers: 2);
        File.WriteAllBytes(_cli.Path("m.safetensors"), PyTorchStateDict.ToSafeTensors(Params(cfg)));
        var r = _cli.Run("inspect", _cli.Path("m.safetensors"));
        Assert.True(r.Code == 0, r.Err);
        Assert.Contains("configuration: lstm, input 3, hidden 4, 2 layer(s), unidirectional, time-major, bias", r.Out, StringComparison.Ordinal);
        Assert.Contains("weight_hh_l1  F32 (16, 4)", r.Out, StringComparison.Ordinal);
        Assert.Contains("recurrent.cell = lstm", r.Out, StringComparison.Ordinal);

        string torch = Path.Combine(AppContext.BaseDirectory, "fixtures", "onnx_torch", "lstm_last_step_softmax.onnx");
        r = _cli.Run("inspect", torch);
        Assert.True(r.Code == 0, r.Err);
        Assert.Contains("(Gemm) is not part of a recurrent layer stack", r.Out, StringComparison.Ordinal);
        Assert.Contains("Softmax", r.Out, StringComparison.Ordinal);
        Assert.Contains("LSTM, hidden 6, direction forward, layout 0, activations [Sigmoid, Tanh, Tanh]; runs on: fast", r.Out, StringComparison.Ordinal);
    }
}
