using System.Buffers.Binary;
using RecurrentCore.Interop;
using RecurrentCore.Tests.Cli;
using Xunit;

namespace RecurrentCore.Tests.Reliability;

/// <summary>
/// The CLI bad-input matrix beyond Cli/BadInputCliTests: for each input file (weights, input, h0, grad-output) the
/// failure kinds missing, empty, truncated, wrong dtype, wrong shape, NaN/∞ and huge header, plus output directories
/// that cannot be written (under a regular file, under /proc — CI runs as root, so permission bits would not stop it).
/// Every case: exit code 2, one line "recurrent: error: …" naming the file and the problem, no stack trace, and no file
/// left in the output directory.
/// </summary>
[Trait("Category", "Reliability")]
public sealed class CliBadInputMatrixTests : IDisposable
{
    private readonly CliHarness _cli = new();
    private readonly RecurrentCore.Cli.Parity.ParityPaths _lstm = TorchFixtures.Paths("lstm_basic", backward: true);

    public void Dispose() => _cli.Dispose();

    public static TheoryData<string> Roles() => new("weights", "input", "h0", "grad-output");

    [Theory]
    [MemberData(nameof(Roles))]
    public void Missing_file(string role)
    {
        var missing = _cli.Path("does-not-exist." + Extension(role));
        var err = Bad(role, missing);
        Assert.Contains("not", err, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [MemberData(nameof(Roles))]
    public void Empty_file(string role)
    {
        var empty = Write("empty." + Extension(role), []);
        var err = Bad(role, empty);
        Assert.Contains(role == "weights" ? "too short" : "truncated", err, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Roles))]
    public void Truncated_file(string role)
    {
        var bytes = File.ReadAllBytes(Original(role));
        foreach (int cut in new[] { 3, 9, bytes.Length / 2, bytes.Length - 1 })
        {
            var truncated = Write($"truncated{cut}." + Extension(role), bytes[..cut]);
            Bad(role, truncated);
        }
    }

    [Theory]
    [MemberData(nameof(Roles))]
    public void Wrong_dtype(string role)
    {
        string path;
        if (role == "weights")
        {
            // Every dtype the reader supports is numeric and converts (as PyTorch's load_state_dict copies would), so
            // the wrong dtype is one it does not support: complex64, written over F32 (same length keeps the offsets).
            var bytes = File.ReadAllBytes(_lstm.Weights);
            var text = System.Text.Encoding.Latin1.GetString(bytes);
            int at = text.IndexOf("\"F32\"", StringComparison.Ordinal);
            System.Text.Encoding.ASCII.GetBytes("\"C64\"").CopyTo(bytes, at);
            path = Write("c64.safetensors", bytes);
        }
        else
        {
            var t = Npy.ReadFile(Original(role));
            path = _cli.Path("i32.npy");
            Npy.WriteFile(path, new HostTensor(TensorDType.I32, [.. t.Shape], new byte[t.ElementCount * 4]));
        }

        var err = Bad(role, path);
        Assert.Contains(role == "weights" ? "unsupported dtype 'C64'" : "float", err, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [MemberData(nameof(Roles))]
    public void Wrong_shape(string role)
    {
        string path;
        if (role == "weights")
        {
            var file = SafeTensors.ReadFile(_lstm.Weights);
            var tensors = file.Tensors.Select(t => t.Key == "bias_ih_l0"
                ? new KeyValuePair<string, HostTensor>(t.Key, HostTensor.FromSingle([t.Value.Shape[0] - 1], new float[t.Value.Shape[0] - 1]))
                : t).ToList();
            path = _cli.Path("shape.safetensors");
            SafeTensors.WriteFile(path, tensors);
            Assert.Contains("bias_ih_l0", Bad(role, path), StringComparison.Ordinal);
            return;
        }

        var original = Npy.ReadFile(Original(role));
        foreach (int[] shape in new[] { new[] { (int)original.ElementCount }, [.. original.Shape, 1], [.. original.Shape.Select((d, i) => i == original.Shape.Count - 1 ? d + 1 : d)] })
        {
            long n = shape.Aggregate(1L, (a, d) => a * d);
            path = _cli.Path($"shape{shape.Length}-{n}.npy");
            Npy.WriteFile(path, HostTensor.FromSingle(shape, new float[n]));
            string err = Bad(role, path);
            Assert.True(err.Contains("expected", StringComparison.Ordinal) || err.Contains("does not fit", StringComparison.Ordinal), err);
        }
    }

    [Theory]
    [MemberData(nameof(Roles))]
    public void Nan_and_infinity(string role)
    {
        foreach (float bad in new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity })
        {
            string path;
            if (role == "weights")
            {
                var file = SafeTensors.ReadFile(_lstm.Weights);
                var tensors = file.Tensors.Select(t =>
                {
                    if (t.Key != "weight_ih_l0")
                    {
                        return t;
                    }

                    var v = t.Value.ToSingle();
                    v[5] = bad;
                    return new KeyValuePair<string, HostTensor>(t.Key, HostTensor.FromSingle([.. t.Value.Shape], v));
                }).ToList();
                path = _cli.Path($"bad{bad}.safetensors");
                SafeTensors.WriteFile(path, tensors);
            }
            else
            {
                var t = Npy.ReadFile(Original(role));
                var v = t.ToSingle();
                v[^1] = bad;
                path = _cli.Path($"bad{bad}.npy");
                Npy.WriteFile(path, HostTensor.FromSingle([.. t.Shape], v));
            }

            var err = Bad(role, path);
            Assert.Contains("non-finite", err, StringComparison.Ordinal);
        }
    }

    [Theory]
    [MemberData(nameof(Roles))]
    public void Huge_header(string role)
    {
        if (role == "weights")
        {
            // A u64 header size of 2^63, and one just past the 100 MB limit (with that much file behind it absent).
            foreach (ulong size in new[] { 1UL << 63, SafeTensors.MaxHeaderBytes + 1UL })
            {
                var bytes = new byte[64];
                BinaryPrimitives.WriteUInt64LittleEndian(bytes, size);
                Assert.Contains("header size", Bad(role, Write($"huge{size}.safetensors", bytes)), StringComparison.Ordinal);
            }

            // A header whose shape is huge but consistent with tiny offsets.
            var json = "{\"weight_ih_l0\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,4]}}";
            var file = RecurrentCore.Tests.Interop.InteropAssert.SafeTensorsBytes(json, new byte[4]);
            Bad(role, Write("hugeshape.safetensors", file));
            return;
        }

        // A v2 header length of 4 GiB − 1, then a header declaring a (2^40, 2^40) array over 8 bytes of data.
        var npy = new byte[64];
        new byte[] { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 2, 0 }.CopyTo(npy, 0);
        BinaryPrimitives.WriteUInt32LittleEndian(npy.AsSpan(8), uint.MaxValue);
        Assert.Contains("header length", Bad(role, Write("hugelen.npy", npy)), StringComparison.Ordinal);
        var hugeShape = RecurrentCore.Tests.Interop.InteropAssert.NpyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1099511627776, 1099511627776), }", new byte[8]);
        Bad(role, Write("hugeshape.npy", hugeShape));
    }

    [Fact]
    public void A_directory_given_as_an_input_file_is_named()
    {
        var dir = _cli.Path("a-directory.npy");
        Directory.CreateDirectory(dir);
        Bad("input", dir);
    }

    [Theory]
    [InlineData("under-a-file")]
    [InlineData("proc")]
    public void An_unwritable_output_directory_is_named_and_nothing_is_left(string where)
    {
        string outDir;
        if (where == "proc")
        {
            outDir = $"/proc/self/recurrent-out-{Guid.NewGuid():N}";
            if (!Directory.Exists("/proc/self"))
            {
                return; // not Linux: /proc does not exist
            }
        }
        else
        {
            var blocker = _cli.Path("blocker");
            File.WriteAllText(blocker, "x");
            outDir = Path.Combine(blocker, "sub", "out");
        }

        var (code, stdout, err) = _cli.Run("forward", "--cell", "lstm", "--weights", _lstm.Weights, "--input", _lstm.Input, "--out", outDir);
        Assert.Equal(2, code);
        AssertOneLine(err, outDir);
        Assert.False(Directory.Exists(outDir));
        Assert.Equal(string.Empty, stdout.Trim());
        if (where != "proc")
        {
            Assert.Equal("x", File.ReadAllText(_cli.Path("blocker")));
        }

        // Backward too: it writes more files, and none may be left.
        (code, _, err) = _cli.Run(
            "backward", "--cell", "lstm", "--weights", _lstm.Weights, "--input", _lstm.Input, "--grad-output", _lstm.GradOutput!, "--out", outDir);
        Assert.Equal(2, code);
        AssertOneLine(err, outDir);
        Assert.False(Directory.Exists(outDir));
    }

    private static string Extension(string role) => role == "weights" ? "safetensors" : "npy";

    private static void AssertOneLine(string err, string named)
    {
        string line = err.TrimEnd('\n', '\r');
        Assert.DoesNotContain('\n', line);
        Assert.StartsWith("recurrent: error: ", line, StringComparison.Ordinal);
        Assert.True(line.Contains(named, StringComparison.Ordinal), $"'{named}' not named in: {line}");
        Assert.DoesNotContain("   at ", err, StringComparison.Ordinal);
    }

    private string Original(string role) => role switch
    {
        "weights" => _lstm.Weights,
        "input" => _lstm.Input,
        "h0" => _lstm.H0!,
        _ => _lstm.GradOutput!,
    };

    private string Write(string name, byte[] bytes)
    {
        var path = _cli.Path(name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    /// <summary>Runs backward (which reads every role) with <paramref name="path"/> in <paramref name="role"/>; asserts the contract; returns the line.</summary>
    private string Bad(string role, string path)
    {
        var files = new Dictionary<string, string>
        {
            ["weights"] = _lstm.Weights,
            ["input"] = _lstm.Input,
            ["h0"] = _lstm.H0!,
            ["grad-output"] = _lstm.GradOutput!,
        };
        files[role] = path;
        string outDir = _cli.Path("out-" + Guid.NewGuid().ToString("N"));
        string[] args = ["backward", "--cell", "lstm", .. files.SelectMany(f => new[] { "--" + f.Key, f.Value }), "--out", outDir];
        var (code, _, err) = _cli.Run(args);
        Assert.True(code == 2, $"{role} {path}: exit {code}, {err}");
        AssertOneLine(err, path);
        Assert.False(Directory.Exists(outDir) && Directory.EnumerateFileSystemEntries(outDir).Any(), "output left behind");
        return err;
    }
}
