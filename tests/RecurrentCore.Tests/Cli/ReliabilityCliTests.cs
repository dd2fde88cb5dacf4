using System.Buffers.Binary;
using System.Diagnostics;
using RecurrentCore.Cli;
using RecurrentCore.Interop;
using RecurrentCore.Tests.Interop;
using Xunit;

namespace RecurrentCore.Tests.Cli;

/// <summary>
/// Regressions from the hostile-input sweep (issue #14): pipes, float64 beyond float32, integer weights, usage
/// errors, empty paths, misleading wording, output replacement, the checkpoint folder, progress in logs.
/// Each test failed on the code before its fix.
/// </summary>
[Trait("Category", "Reliability")]
public sealed class ReliabilityCliTests : IDisposable
{
    private readonly CliHarness _cli = new();
    private readonly RecurrentCore.Cli.Parity.ParityPaths _lstm = TorchFixtures.Paths("lstm_basic", backward: true);

    public void Dispose() => _cli.Dispose();

    [Fact]
    public void Weights_and_input_from_fifos_give_the_same_outputs_as_files()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        Assert.Equal(0, _cli.Run(Forward(_lstm.Weights, _lstm.Input, _cli.Path("plain"))).Code);
        string weights = _cli.Path("w.fifo"), input = _cli.Path("x.fifo");
        NonSeekableStreamTests.MakeFifo(weights);
        NonSeekableStreamTests.MakeFifo(input);
        var writers = new[]
        {
            new Thread(() => NonSeekableStreamTests.WriteToFifo(weights, File.ReadAllBytes(_lstm.Weights))),
            new Thread(() => NonSeekableStreamTests.WriteToFifo(input, File.ReadAllBytes(_lstm.Input))),
        };
        foreach (var w in writers)
        {
            w.Start();
        }

        var (code, _, err) = _cli.Run(Forward(weights, input, _cli.Path("piped")));
        Assert.True(code == 0, err);
        Assert.All(writers, w => Assert.True(w.Join(TimeSpan.FromSeconds(30))));
        foreach (var f in new[] { "output.npy", "h_n.npy", "c_n.npy" })
        {
            Assert.Equal(File.ReadAllBytes(_cli.Path("plain/" + f)), File.ReadAllBytes(_cli.Path("piped/" + f)));
        }
    }

    [Fact]
    public void Float64_weights_beyond_float32_are_refused_on_the_fast_path_naming_tensor_and_index()
    {
        var tensors = Weights(TensorDType.F64, (name, i, v) => name == "weight_hh_l0" && i == 5 ? 1e39 : v);
        string path = _cli.Path("w64.safetensors");
        SafeTensors.WriteFile(path, tensors);
        string line = OneLineError(Forward(path, _lstm.Input, _cli.Path("out")), 2);
        Assert.Contains(path, line, StringComparison.Ordinal);
        Assert.Contains("'weight_hh_l0'", line, StringComparison.Ordinal);
        Assert.Contains("flat index 5", line, StringComparison.Ordinal);
        Assert.Contains("float32", line, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_cli.Path("out")));

        // The double-precision reference keeps the value: finite outputs, exit 0.
        var (code, _, err) = _cli.Run([.. Forward(path, _lstm.Input, _cli.Path("ref")), "--reference"]);
        Assert.True(code == 0, err);
        Assert.All(Npy.ReadFile(_cli.Path("ref/output.npy")).ToDouble(), v => Assert.True(double.IsFinite(v)));
    }

    [Fact]
    public void Float64_input_beyond_float32_is_refused_on_the_fast_path()
    {
        var x = Npy.ReadFile(_lstm.Input);
        var values = x.ToDouble();
        values[7] = -3e40;
        string path = _cli.Path("x64.npy");
        Npy.WriteFile(path, HostTensor.FromDouble([.. x.Shape], values));
        string line = OneLineError(Forward(_lstm.Weights, path, _cli.Path("out")), 2);
        Assert.Contains(path, line, StringComparison.Ordinal);
        Assert.Contains("flat index 7", line, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(TensorDType.I32)]
    [InlineData(TensorDType.I64)]
    [InlineData(TensorDType.U8)]
    public void Integer_weights_are_refused(TensorDType dtype)
    {
        var tensors = Weights(TensorDType.F32, (_, _, v) => v).ToList();
        var (name, t) = tensors[1];
        int size = dtype switch { TensorDType.U8 => 1, TensorDType.I64 => 8, _ => 4 };
        tensors[1] = new(name, new HostTensor(dtype, [.. t.Shape], new byte[t.ElementCount * size]));
        string path = _cli.Path("wint.safetensors");
        SafeTensors.WriteFile(path, tensors);
        string line = OneLineError(Forward(path, _lstm.Input, _cli.Path("out")), 2);
        Assert.Contains($"'{name}'", line, StringComparison.Ordinal);
        Assert.Contains("floating point", line, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(TensorDType.F16)]
    [InlineData(TensorDType.BF16)]
    [InlineData(TensorDType.F64)]
    public void Floating_weights_of_every_width_are_accepted(TensorDType dtype)
    {
        string path = _cli.Path("w.safetensors");
        SafeTensors.WriteFile(path, Weights(dtype, (_, _, v) => v));
        var (code, _, err) = _cli.Run(Forward(path, _lstm.Input, _cli.Path("out")));
        Assert.True(code == 0, err);
    }

    [Theory]
    [InlineData(new[] { "forward", "--cell", "transformer", "--weights", "w", "--input", "x", "--out", "o" }, "--cell", "transformer")]
    [InlineData(new[] { "forward", "--cell", "lstm", "--input", "x", "--out", "o" }, "--weights", "required")]
    [InlineData(new[] { "forward", "--cell", "lstm", "--weights", "w", "--input", "x", "--out", "o", "--bogus" }, "--bogus", "Unrecognized")]
    [InlineData(new[] { "train", "--text", "t", "--checkpoint", "c", "--hidden", "many" }, "--hidden", "many")]
    [InlineData(new[] { "forward", "--cell", "lstm", "--weights", "", "--input", "x", "--out", "o" }, "--weights", "empty")]
    [InlineData(new[] { "forward", "--cell", "lstm", "--weights", "w", "--input", "x", "--out", "" }, "--out", "empty")]
    [InlineData(new[] { "backward", "--cell", "lstm", "--weights", "w", "--input", "x", "--grad-output", "", "--out", "o" }, "--grad-output", "empty")]
    [InlineData(new[] { "train", "--text", "t", "--checkpoint", "" }, "--checkpoint", "empty")]
    public void Usage_errors_are_one_line_naming_the_option_with_exit_code_1(string[] args, string option, string problem)
    {
        // Regression: the parser printed every error and then the whole help (16-20 lines); empty paths said
        // "The value cannot be an empty string. (Parameter 'path')".
        string line = OneLineError(args, RecurrentCli.UsageError);
        Assert.Contains(option, line, StringComparison.Ordinal);
        Assert.Contains(problem, line, StringComparison.Ordinal);
        Assert.DoesNotContain("Usage:", line, StringComparison.Ordinal);
    }

    [Fact]
    public void Help_still_prints_the_usage_and_documents_the_exit_codes()
    {
        var (code, output, _) = _cli.Run("--help");
        Assert.Equal(0, code);
        Assert.Contains("Exit codes: 0 success; 1 usage error", output, StringComparison.Ordinal);
        (code, output, _) = _cli.Run("forward", "--help");
        Assert.Equal(0, code);
        Assert.Contains("all or nothing", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("npy")]
    [InlineData("onnx")]
    [InlineData("garbage")]
    public void A_file_of_another_format_is_not_a_safetensors_file(string kind)
    {
        string path = kind switch
        {
            "npy" => _lstm.Input,
            "onnx" => Path.Combine(AppContext.BaseDirectory, "fixtures", "onnx", "torch_gru_h0.onnx"),
            _ => _cli.Path("garbage.safetensors"),
        };
        if (kind == "garbage")
        {
            File.WriteAllBytes(path, [.. Enumerable.Range(0, 300).Select(i => (byte)(i * 37))]);
        }

        string line = OneLineError(Forward(path, _lstm.Input, _cli.Path("out")), 2);
        Assert.Contains($"{path}: not a safetensors file", line, StringComparison.Ordinal);
    }

    [Fact]
    public void Weights_that_are_a_directory_say_so()
    {
        string line = OneLineError(Forward(TorchFixtures.Dir("lstm_basic"), _lstm.Input, _cli.Path("out")), 2);
        Assert.Contains($"{TorchFixtures.Dir("lstm_basic")}: is a directory", line, StringComparison.Ordinal);
    }

    [Fact]
    public void An_output_symlink_loop_says_so()
    {
        string loop = _cli.Path("loop");
        File.CreateSymbolicLink(loop, loop);
        string line = OneLineError(Forward(_lstm.Weights, _lstm.Input, loop), 2);
        Assert.Contains("symbolic link loop", line, StringComparison.Ordinal);
        Assert.DoesNotContain("is a file", line, StringComparison.Ordinal);
    }

    [Fact]
    public void An_output_symlink_to_a_directory_replaces_the_directory_and_keeps_the_link()
    {
        string real = _cli.Path("real");
        Directory.CreateDirectory(real);
        string link = _cli.Path("link");
        Directory.CreateSymbolicLink(link, real);
        Assert.Equal(0, _cli.Run(Forward(_lstm.Weights, _lstm.Input, link)).Code);
        Assert.NotNull(new DirectoryInfo(link).LinkTarget);
        Assert.True(File.Exists(Path.Combine(real, "output.npy")));
    }

    [Fact]
    public void A_run_writing_fewer_files_leaves_nothing_stale()
    {
        // Regression: a GRU forward after an LSTM backward left c_n.npy and the gradients beside the new outputs.
        string outDir = _cli.Path("out");
        var (code, _, err) = _cli.Run(
            "backward", "--cell", "lstm", "--weights", _lstm.Weights, "--input", _lstm.Input, "--grad-output", _lstm.GradOutput!, "--out", outDir);
        Assert.True(code == 0, err);
        Assert.Equal(7, Directory.GetFileSystemEntries(outDir).Length);
        var gru = TorchFixtures.Paths("gru_basic", backward: false);
        (code, _, err) = _cli.Run(Forward(gru.Weights, gru.Input, outDir, "gru"));
        Assert.True(code == 0, err);
        Assert.Equal(["h_n.npy", "output.npy"], Directory.GetFileSystemEntries(outDir).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal(["out"], Directory.GetFileSystemEntries(_cli.Scratch).Select(Path.GetFileName).Where(n => n!.Contains("out", StringComparison.Ordinal)));
    }

    [Fact]
    public void A_failed_run_leaves_the_earlier_outputs_intact()
    {
        string outDir = _cli.Path("out");
        Assert.Equal(0, _cli.Run(Forward(_lstm.Weights, _lstm.Input, outDir)).Code);
        var before = Snapshot(outDir);

        // A bad input fails before any write; an output directory holding a foreign file is refused, not replaced.
        string bad = _cli.Path("bad.npy");
        File.WriteAllBytes(bad, [1, 2, 3]);
        OneLineError(Forward(_lstm.Weights, bad, outDir), 2);
        Assert.Equal(before, Snapshot(outDir));
        File.WriteAllText(Path.Combine(outDir, "notes.txt"), "mine");
        string line = OneLineError(Forward(_lstm.Weights, _lstm.Input, outDir), 2);
        Assert.Contains("'notes.txt'", line, StringComparison.Ordinal);
        Assert.Equal("mine", File.ReadAllText(Path.Combine(outDir, "notes.txt")));
        File.Delete(Path.Combine(outDir, "notes.txt"));
        Assert.Equal(before, Snapshot(outDir));
    }

    [Theory]
    [InlineData(0, null)]
    [InlineData(1, null)]
    [InlineData(2, null)]
    [InlineData(-1, "written")]
    [InlineData(-1, "old-moved")]
    public void A_failure_at_any_stage_of_a_write_leaves_the_earlier_set_exactly(int failingFile, string? failingStage)
    {
        // Regression: AtomicOutput moved files over the old ones one by one and deleted the moved ones on a later
        // failure, destroying the previous run's outputs.
        string outDir = _cli.Path("out");
        AtomicOutput.WriteAll(outDir, [("a.npy", p => File.WriteAllText(p, "old a")), ("b.npy", p => File.WriteAllText(p, "old b")), ("c.npy", p => File.WriteAllText(p, "old c"))], []);
        var before = Snapshot(outDir);
        var files = new List<(string, Action<string>)>();
        for (int i = 0; i < 3; i++)
        {
            int k = i;
            files.Add(($"{(char)('a' + k)}.npy", p =>
            {
                File.WriteAllText(p, "new");
                if (k == failingFile)
                {
                    throw new IOException("disk full (injected)");
                }
            }));
        }

        var e = Assert.Throws<CliException>(() => AtomicOutput.WriteAll(
            outDir, files, ["a.npy", "b.npy", "c.npy"], stage =>
            {
                if (stage == failingStage)
                {
                    throw new IOException($"injected at {stage}");
                }
            }));
        Assert.Contains(outDir, e.Message, StringComparison.Ordinal);
        Assert.Equal(before, Snapshot(outDir));
        Assert.Equal(["out"], Directory.GetFileSystemEntries(_cli.Scratch).Select(Path.GetFileName)); // no staging or backup left

        // And a first write that fails leaves no directory at all.
        string fresh = _cli.Path("fresh");
        Assert.Throws<CliException>(() => AtomicOutput.WriteAll(fresh, files, [], stage => throw new IOException("injected")));
        Assert.False(Directory.Exists(fresh));
    }

    [Fact]
    public void A_complete_write_replaces_the_whole_set()
    {
        string outDir = _cli.Path("out");
        AtomicOutput.WriteAll(outDir, [("a.npy", p => File.WriteAllText(p, "1")), ("b.npy", p => File.WriteAllText(p, "1"))], []);
        var stages = new List<string>();
        AtomicOutput.WriteAll(outDir, [("a.npy", p => File.WriteAllText(p, "2"))], ["a.npy", "b.npy"], stages.Add);
        Assert.Equal(["written", "old-moved", "swapped"], stages);
        Assert.Equal(new Dictionary<string, string> { ["a.npy"] = Convert.ToBase64String("2"u8.ToArray()) }, Snapshot(outDir));
        Assert.Equal(["out"], Directory.GetFileSystemEntries(_cli.Scratch).Select(Path.GetFileName));
    }

    [Fact]
    public void Train_creates_a_missing_checkpoint_folder_before_training()
    {
        string text = _cli.Path("text.txt");
        File.WriteAllText(text, "abcabcabcabcabcabc");
        string ckpt = _cli.Path(Path.Combine("runs", "today", "lm.safetensors"));
        var (code, _, err) = _cli.Run("train", "--text", text, "--hidden", "4", "--seq-len", "4", "--batch", "2", "--checkpoint", ckpt);
        Assert.True(code == 0, err);
        Assert.True(File.Exists(ckpt));
    }

    [Fact]
    public void Train_fails_fast_when_the_checkpoint_folder_cannot_be_created()
    {
        // Regression: training ran to the end and only then failed to write the checkpoint.
        string text = _cli.Path("text.txt");
        File.WriteAllText(text, "abcabcabcabcabcabc");
        string blocker = _cli.Path("blocker");
        File.WriteAllText(blocker, "x");
        string ckpt = Path.Combine(blocker, "sub", "lm.safetensors");
        var (code, output, err) = _cli.Run("train", "--text", text, "--hidden", "4", "--seq-len", "4", "--batch", "2", "--checkpoint", ckpt);
        Assert.Equal(2, code);
        Assert.Equal(string.Empty, output); // no "train: ..." line: nothing ran
        string line = err.TrimEnd('\n', '\r');
        Assert.DoesNotContain('\n', line);
        Assert.Contains(ckpt, line, StringComparison.Ordinal);
        Assert.Equal("x", File.ReadAllText(blocker));
    }

    [Fact]
    public void Redirected_progress_is_plain_lines_without_redraws()
    {
        // #13: progress redrew in place with '\r' even into a log (~63 KB of redraws for the demo).
        string text = _cli.Path("text.txt");
        File.WriteAllText(text, string.Concat(Enumerable.Repeat("the cat sat on the mat. ", 40)));
        var (code, _, err) = _cli.Run("train", "--text", text, "--hidden", "8", "--seq-len", "4", "--batch", "2", "--epochs", "3", "--checkpoint", _cli.Path("a.safetensors"));
        Assert.True(code == 0, err);
        AssertPlain(err);
        Assert.InRange(err.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length, 2, 12);
        Assert.Contains("train 100%", err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_real_process_with_redirected_stderr_writes_no_redraws()
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "recurrent.dll");
        string text = _cli.Path("text.txt");
        File.WriteAllText(text, string.Concat(Enumerable.Repeat("abcd efgh ", 60)));
        var start = new ProcessStartInfo("dotnet", [dll, "train", "--text", text, "--hidden", "8", "--seq-len", "4", "--batch", "2", "--epochs", "2", "--checkpoint", _cli.Path("p.safetensors")])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        start.Environment.Remove("NO_COLOR");
        using var process = Process.Start(start)!;
        var stderrRead = process.StandardError.ReadToEndAsync();
        var stdoutRead = process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        string stderr = await stderrRead, stdout = await stdoutRead;
        Assert.True(process.ExitCode == 0, stderr + stdout);
        AssertPlain(stderr);
        Assert.Contains("train 100%", stderr, StringComparison.Ordinal);

        // An error from a real process is one line too.
        start.ArgumentList.Clear();
        foreach (var a in new[] { dll, "forward", "--cell", "lstm", "--weights", _lstm.Input, "--input", _lstm.Input, "--out", _cli.Path("o") })
        {
            start.ArgumentList.Add(a);
        }

        using var failing = Process.Start(start)!;
        var errRead = failing.StandardError.ReadToEndAsync();
        var outRead = failing.StandardOutput.ReadToEndAsync();
        await failing.WaitForExitAsync();
        string err = await errRead;
        _ = await outRead;
        Assert.Equal(2, failing.ExitCode);
        Assert.Single(err.TrimEnd('\n').Split('\n'));
    }

    private static void AssertPlain(string log)
    {
        Assert.DoesNotContain('\r', log);
        Assert.DoesNotContain('\u001b', log);
    }

    private static string[] Forward(string weights, string input, string outDir, string cell = "lstm") =>
        ["forward", "--cell", cell, "--weights", weights, "--input", input, "--out", outDir];

    private string OneLineError(string[] args, int expectedCode)
    {
        var (code, _, err) = _cli.Run(args);
        Assert.True(code == expectedCode, $"exit {code}: {err}");
        string line = err.TrimEnd('\n', '\r');
        Assert.DoesNotContain('\n', line);
        Assert.StartsWith("recurrent: error: ", line, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", err, StringComparison.Ordinal);
        return line;
    }

    /// <summary>The lstm_basic weights re-encoded as <paramref name="dtype"/>, each value passed through <paramref name="edit"/>.</summary>
    private List<KeyValuePair<string, HostTensor>> Weights(TensorDType dtype, Func<string, int, double, double> edit)
    {
        var list = new List<KeyValuePair<string, HostTensor>>();
        foreach (var (name, t) in SafeTensors.ReadFile(_lstm.Weights).Tensors)
        {
            var v = t.ToDouble().Select((x, i) => edit(name, i, x)).ToArray();
            int[] shape = [.. t.Shape];
            HostTensor encoded = dtype switch
            {
                TensorDType.F64 => HostTensor.FromDouble(shape, v),
                TensorDType.F32 => HostTensor.FromSingle(shape, [.. v.Select(x => (float)x)]),
                TensorDType.F16 => new HostTensor(dtype, shape, Encode(v, 2, (b, x) => BinaryPrimitives.WriteHalfLittleEndian(b, (Half)x))),
                _ => new HostTensor(dtype, shape, Encode(v, 2, (b, x) => BinaryPrimitives.WriteUInt16LittleEndian(b, (ushort)(BitConverter.SingleToInt32Bits((float)x) >> 16)))),
            };
            list.Add(new(name, encoded));
        }

        return list;
    }

    private static byte[] Encode(double[] values, int size, Action<Span<byte>, double> write)
    {
        var bytes = new byte[values.Length * size];
        for (int i = 0; i < values.Length; i++)
        {
            write(bytes.AsSpan(i * size), values[i]);
        }

        return bytes;
    }

    private static Dictionary<string, string> Snapshot(string dir) =>
        Directory.GetFiles(dir).ToDictionary(f => Path.GetFileName(f)!, f => Convert.ToBase64String(File.ReadAllBytes(f)));
}
