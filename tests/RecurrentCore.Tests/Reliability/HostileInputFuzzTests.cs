using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using RecurrentCore.Interop;
using RecurrentCore.Interop.Onnx;
using RecurrentCore.Tests.Reference;
using Xunit;
using Xunit.Abstractions;

namespace RecurrentCore.Tests.Reliability;

/// <summary>
/// A structured mutation fuzzer over the three readers (safetensors, .npy, .onnx): instead of flipping random bytes
/// (InteropFuzzTests does that), each case rewrites one header field of a valid file (length fields, dtype strings,
/// shapes with huge or negative dims, offsets, protobuf dims, data types, raw_data and attribute values) and asserts the
/// reader either succeeds or raises a RecurrentCoreException naming the source — never IndexOutOfRange, OutOfMemory,
/// Overflow or any other exception, never a hang (per-case and per-format time bounds), and never allocating more than
/// a bound proportional to the input (GC.GetAllocatedBytesForCurrentThread around each case).
/// Fixed seed; <see cref="Cases"/> cases per format in CI, ×20 with RECURRENTCORE_LONG_TESTS=1.
/// </summary>
[Trait("Category", "Reliability")]
public class HostileInputFuzzTests(ITestOutputHelper log)
{
    public static readonly int Cases = LongTests.Enabled ? 20_000 : 1_000;

    /// <summary>Allocation allowed per case: a fixed allowance plus a multiple of the input's size.</summary>
    private const long AllocationFloor = 4 << 20;
    private const long AllocationPerInputByte = 64;

    private static readonly string[] DTypeStrings =
    [
        "F32", "F64", "BF16", "F16", "I64", "I32", "U8", "f32", "F8_E4M3", "I8", "BOOL", "C64", "", " F32", "F32\u0000",
        "\ud7ff", new string('F', 5000), "U8 ",
    ];

    private static readonly string[] NpyDescrs =
    [
        "<f4", ">f4", "|f4", "<f8", ">f8", "<f2", "<i8", "<i4", "|u1", "<u1", "<c8", "<U10", "|O", "<f16", "", "<", "f4",
        "<f4<f4", "[('a', '<f4')]", new string('<', 4000),
    ];

    private static readonly long[] HugeDims =
    [
        0, 1, 2, 3, 255, 65_536, int.MaxValue, (long)int.MaxValue + 1, uint.MaxValue, 1L << 40, 1L << 62, long.MaxValue, -1,
        -2, long.MinValue, 46_341, 3_037_000_500,
    ];

    [Fact]
    public void SafeTensors_header_mutations_raise_only_our_exception()
    {
        var valid = ValidSafeTensors();
        var stats = Run("safetensors", rng => MutateSafeTensors(valid, rng), bytes => SafeTensors.Read(bytes, "fuzz.safetensors"), "fuzz.safetensors");
        log.WriteLine(stats.ToString());
        Assert.True(stats.Successes > 0 && stats.Failures > Cases / 2, stats.ToString());
    }

    [Fact]
    public void Npy_header_mutations_raise_only_our_exception()
    {
        var stats = Run("npy", MutateNpy, bytes => Npy.Read(bytes, "fuzz.npy"), "fuzz.npy");
        log.WriteLine(stats.ToString());
        Assert.True(stats.Successes > 0 && stats.Failures > Cases / 2, stats.ToString());
    }

    [Fact]
    public void Onnx_field_mutations_raise_only_our_exception()
    {
        var valid = new[]
        {
            OnnxModel.Export(FuzzParameters(CellKind.Lstm, bidirectional: false, layers: 2)),
            OnnxModel.Export(FuzzParameters(CellKind.Gru, bidirectional: true, layers: 1), new OnnxExportOptions { SequenceLens = true, InitialStates = true }),
            OnnxModel.Export(FuzzParameters(CellKind.RnnRelu, bidirectional: false, layers: 1)),
        };
        var stats = Run("onnx", rng => MutateOnnx(valid[rng.Next(valid.Length)], rng), bytes => OnnxModel.Import(bytes, "fuzz.onnx"), "fuzz.onnx");
        log.WriteLine(stats.ToString());
        Assert.True(stats.Successes > 0 && stats.Failures > Cases / 2, stats.ToString());
    }

    /// <summary>
    /// The pipe path (issue #14 item 1): every safetensors and .npy mutation is also read through a stream that
    /// cannot seek and returns short reads; it must give the same tensors, or the same refusal (a pipe is read one
    /// byte past the declared end, so only the trailing-byte count may differ).
    /// </summary>
    [Fact]
    public void Mutations_read_through_a_pipe_give_the_same_result_as_bytes()
    {
        var validSt = ValidSafeTensors();
        int cases = Cases / 2;
        var rng = new Random(20261201);
        int same = 0, trailing = 0;
        for (int i = 0; i < cases; i++)
        {
            foreach (bool npy in new[] { false, true })
            {
                byte[] bytes = npy ? MutateNpy(rng) : MutateSafeTensors(validSt, rng);
                string fromBytes = Outcome(() => npy ? Describe(Npy.Read(bytes, "p")) : Describe(SafeTensors.Read(bytes, "p")));
                string fromPipe = Outcome(() => npy
                    ? Describe(Npy.Read(new Interop.NonSeekableStreamTests.TrickleStream(bytes, 1 + rng.Next(100)), "p"))
                    : Describe(SafeTensors.Read(new Interop.NonSeekableStreamTests.TrickleStream(bytes, 1 + rng.Next(100)), "p")));
                if (fromBytes == fromPipe)
                {
                    same++;
                }
                else
                {
                    Assert.True(
                        fromBytes.Contains("trailing", StringComparison.Ordinal) && fromPipe.Contains("trailing", StringComparison.Ordinal),
                        $"case {i} ({(npy ? "npy" : "safetensors")}): bytes '{fromBytes}' vs pipe '{fromPipe}'; input {Convert.ToBase64String(bytes[..Math.Min(bytes.Length, 4096)])}");
                    trailing++;
                }
            }
        }

        log.WriteLine($"pipe vs bytes: {2 * cases} cases, {same} identical, {trailing} differing only in the trailing-byte count");
    }

    /// <summary>
    /// Repeated keys (issue #14 item 5): a key of the root, of a tensor entry or of __metadata__ written twice (same or
    /// another value) is always refused, naming the key.
    /// </summary>
    [Fact]
    public void Repeated_keys_anywhere_in_a_safetensors_header_are_always_refused()
    {
        var valid = ValidSafeTensors();
        int headerSize = (int)BinaryPrimitives.ReadUInt64LittleEndian(valid);
        var root = JsonNode.Parse(Encoding.UTF8.GetString(valid, 8, headerSize))!.AsObject();
        byte[] buffer = valid[(8 + headerSize)..];
        var rng = new Random(20261202);
        for (int i = 0; i < Cases; i++)
        {
            // Serialise by hand so one object can carry a key twice (JsonNode cannot hold that).
            var names = root.Select(p => p.Key).ToList();
            string target = Pick(names, rng);
            bool atRoot = rng.Next(3) == 0;
            var keys = atRoot ? names : root[target]!.AsObject().Select(p => p.Key).ToList();
            string repeated = Pick(keys, rng);
            string Obj(JsonObject o, bool duplicate) =>
                "{" + string.Join(",", o.Select(p => $"{JsonValue.Create(p.Key).ToJsonString()}:{p.Value!.ToJsonString()}")
                    .Concat(duplicate ? [$"{JsonValue.Create(repeated).ToJsonString()}:{(rng.Next(2) == 0 ? o[repeated]!.ToJsonString() : "\"x\"")}"] : [])) + "}";
            string json = atRoot
                ? "{" + string.Join(",", root.Select(p => $"{JsonValue.Create(p.Key).ToJsonString()}:{p.Value!.ToJsonString()}")) + $",{JsonValue.Create(repeated).ToJsonString()}:{root[repeated]!.ToJsonString()}}}"
                : "{" + string.Join(",", root.Select(p => $"{JsonValue.Create(p.Key).ToJsonString()}:{(p.Key == target ? Obj(p.Value!.AsObject(), true) : p.Value!.ToJsonString())}")) + "}";
            byte[] header = Encoding.UTF8.GetBytes(json);
            var file = new byte[8 + header.Length + buffer.Length];
            BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)header.Length);
            header.CopyTo(file, 8);
            buffer.CopyTo(file, 8 + header.Length);
            var e = Assert.Throws<InteropFormatException>(() => SafeTensors.Read(file, "dup.safetensors"));
            Assert.Contains($"duplicate", e.Message, StringComparison.Ordinal);
            Assert.Contains($"'{repeated}'", e.Message, StringComparison.Ordinal);
        }
    }

    /// <summary>
    /// Narrowing (issue #14 item 2): float64 tensors of random bit patterns (all magnitudes, ±∞, NaN) converted to
    /// float32 either give exactly (float)v everywhere, or are refused at the first finite value that rounds past
    /// float32's range, |v| ≥ 2^128 − 2^103 (float.MaxValue plus half an ulp, which rounds up to even = ∞).
    /// </summary>
    [Fact]
    public void Float64_to_float32_narrowing_never_makes_infinity_silently()
    {
        const double Overflow = 3.4028235677973366e38; // 2^128 - 2^103
        var rng = new Random(20261203);
        int refused = 0;
        for (int i = 0; i < Cases; i++)
        {
            var values = new double[1 + rng.Next(40)];
            for (int k = 0; k < values.Length; k++)
            {
                values[k] = rng.Next(4) switch
                {
                    0 => BitConverter.Int64BitsToDouble(rng.NextInt64()),
                    1 => (rng.NextDouble() - 0.5) * Math.Pow(10, rng.Next(-50, 50)),
                    2 => Pick(new[] { Overflow, -Overflow, Math.BitDecrement(Overflow), float.MaxValue, double.MaxValue, double.PositiveInfinity, double.NaN, double.Epsilon, 1e39 }, rng),
                    _ => rng.NextDouble(),
                };
            }

            int firstBad = Array.FindIndex(values, v => double.IsFinite(v) && Math.Abs(v) >= Overflow);
            var tensor = HostTensor.FromDouble([values.Length], values);
            if (firstBad < 0)
            {
                Assert.Equal(values.Select(v => (float)v).ToArray(), tensor.ToSingle("t"));
            }
            else
            {
                var e = Assert.Throws<InteropFormatException>(() => tensor.ToSingle("t"));
                Assert.StartsWith("t: ", e.Message, StringComparison.Ordinal);
                Assert.Contains($"at flat index {firstBad} ", e.Message, StringComparison.Ordinal);
                refused++;
            }
        }

        log.WriteLine($"narrowing: {Cases} tensors, {refused} refused");
        Assert.InRange(refused, 1, Cases - 1);
    }

    /// <summary>
    /// Output replacement (issue #14 item 3): random sequences of writes of 1-6 files into one --out directory, each
    /// failing (or not) in a random file or stage; after every write the directory holds exactly the last set that
    /// completed, and no staging or backup directory is left beside it.
    /// </summary>
    [Fact]
    public void Output_replacement_is_all_or_nothing_under_random_failures()
    {
        string scratch = Path.Combine(Path.GetTempPath(), "recurrent-out-fuzz-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(scratch);
        try
        {
            string outDir = Path.Combine(scratch, "out");
            string[] names = ["a.npy", "b.npy", "c.npy", "d.npy", "e.npy", "f.safetensors"];
            string[] stages = ["written", "old-moved", "swapped", "none"];
            var rng = new Random(20261204);
            Dictionary<string, string>? expected = null;
            int failures = 0, writes = LongTests.Pick(200, 2000);
            for (int i = 0; i < writes; i++)
            {
                var set = names.Where(_ => rng.Next(2) == 0).DefaultIfEmpty("a.npy").ToList();
                int failAt = rng.Next(3) == 0 ? rng.Next(set.Count) : -1;
                string failStage = failAt < 0 && rng.Next(3) == 0 ? Pick(stages, rng) : "none";
                string content = $"run {i}";
                var files = set.Select((n, k) => (n, (Action<string>)(p =>
                {
                    File.WriteAllText(p, content + " " + n);
                    if (k == failAt)
                    {
                        throw new IOException("injected");
                    }
                }))).ToList();
                try
                {
                    RecurrentCore.Cli.AtomicOutput.WriteAll(outDir, files, names, stage =>
                    {
                        if (stage == failStage)
                        {
                            throw new IOException("injected at " + stage);
                        }
                    });
                    expected = set.ToDictionary(n => n, n => content + " " + n);
                }
                catch (RecurrentCore.Cli.CliException)
                {
                    // "swapped" is reached only after the new set is in place: a failure there must still leave it.
                    if (failStage == "swapped")
                    {
                        expected = set.ToDictionary(n => n, n => content + " " + n);
                    }

                    failures++;
                }

                var actual = Directory.Exists(outDir) ? Directory.GetFiles(outDir).ToDictionary(f => Path.GetFileName(f), File.ReadAllText) : null;
                Assert.Equal(expected, actual);
                Assert.Equal(expected is null ? [] : ["out"], Directory.GetFileSystemEntries(scratch).Select(Path.GetFileName));
            }

            log.WriteLine($"output replacement: {writes} writes, {failures} failed, directory always the last complete set");
        }
        finally
        {
            Directory.Delete(scratch, recursive: true);
        }
    }

    private static string Outcome(Func<string> read)
    {
        try
        {
            return "ok:" + read();
        }
        catch (RecurrentCoreException e)
        {
            return "refused:" + e.Message;
        }
    }

    private static string Describe(SafeTensorsFile file) =>
        string.Join(";", file.Tensors.Select(t => t.Key + "=" + Describe(t.Value))) + "|" + string.Join(";", file.Metadata.Select(m => m.Key + "=" + m.Value));

    private static string Describe(HostTensor t) => $"{t.DType}({string.Join(",", t.Shape)}):{Convert.ToBase64String(t.Bytes.Span)}";

    /// <summary>The readers' own bounds, pinned: a header size that is huge, but within the file, is refused before it is parsed.</summary>
    [Fact]
    public void Length_fields_pointing_past_the_file_are_refused_without_allocating_them()
    {
        var st = new byte[64];
        BinaryPrimitives.WriteUInt64LittleEndian(st, ulong.MaxValue);
        AssertOurs(() => SafeTensors.Read(st, "a.safetensors"), "a.safetensors", "not a safetensors file");
        st[8] = (byte)'{';
        AssertOurs(() => SafeTensors.Read(st, "a.safetensors"), "a.safetensors", "exceeds");
        var npy = new byte[64];
        new byte[] { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 2, 0 }.CopyTo(npy, 0);
        BinaryPrimitives.WriteUInt32LittleEndian(npy.AsSpan(8), uint.MaxValue);
        AssertOurs(() => Npy.Read(npy, "a.npy"), "a.npy", "exceeds");
        // ModelProto field 7 (graph), length-delimited, declaring 2^62 bytes.
        var onnx = new List<byte> { (7 << 3) | 2 };
        ulong len = 1UL << 62;
        while (len >= 0x80)
        {
            onnx.Add((byte)(len | 0x80));
            len >>= 7;
        }

        onnx.Add((byte)len);
        AssertOurs(() => OnnxModel.Import(onnx.ToArray(), "a.onnx"), "a.onnx", "remain");
    }

    internal sealed record FuzzStats(string Format, int Cases, int Successes, int Failures, long MaxAllocated, double MaxCaseMs, TimeSpan Total)
    {
        public override string ToString() =>
            $"{Format}: {Cases} cases, {Successes} read, {Failures} refused, max allocation {MaxAllocated} B, slowest {MaxCaseMs:0.0} ms, total {Total.TotalSeconds:0.0} s";
    }

    private static FuzzStats Run(string format, Func<Random, byte[]> mutate, Action<byte[]> read, string source)
    {
        var rng = new Random(20261130);
        int ok = 0, refused = 0;
        long maxAllocated = 0;
        double maxMs = 0;
        var total = Stopwatch.StartNew();
        for (int i = 0; i < Cases; i++)
        {
            byte[] bytes = mutate(rng);
            var watch = Stopwatch.StartNew();
            long before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                read(bytes);
                ok++;
            }
            catch (RecurrentCoreException e)
            {
                refused++;
                Assert.StartsWith(source + ": ", e.Message, StringComparison.Ordinal);
                Assert.DoesNotContain('\n', e.Message);
            }
            catch (Exception e)
            {
                Assert.Fail($"{format} case {i}: {e.GetType().Name}: {e.Message}\ninput (base64, {bytes.Length} B): {Convert.ToBase64String(bytes[..Math.Min(bytes.Length, 4096)])}");
            }

            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            maxAllocated = Math.Max(maxAllocated, allocated);
            long bound = AllocationFloor + (AllocationPerInputByte * bytes.Length);
            Assert.True(allocated <= bound, $"{format} case {i}: allocated {allocated} B for a {bytes.Length} B input (bound {bound})");
            maxMs = Math.Max(maxMs, watch.Elapsed.TotalMilliseconds);
            // Generous: only a hang (or a quadratic blow-up) on a loaded 2-core machine gets near it.
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"{format} case {i} took {watch.Elapsed}");
        }

        var stats = new FuzzStats(format, Cases, ok, refused, maxAllocated, maxMs, total.Elapsed);
        Assert.True(total.Elapsed < TimeSpan.FromSeconds(LongTests.Enabled ? 600 : 30), stats.ToString());
        return stats;
    }

    private static void AssertOurs(Action read, string source, string word)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.ThrowsAny<RecurrentCoreException>(read);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < AllocationFloor, "allocated too much while refusing");
        Assert.StartsWith(source + ": ", e.Message, StringComparison.Ordinal);
        Assert.Contains(word, e.Message, StringComparison.Ordinal);
    }

    // ---------------------------------------------------------------- safetensors

    private static byte[] ValidSafeTensors()
    {
        var rng = new Random(5);
        var tensors = new List<KeyValuePair<string, HostTensor>>
        {
            new("weight_ih_l0", Tensor(TensorDType.F32, [8, 3], rng)),
            new("weight_hh_l0", Tensor(TensorDType.F32, [8, 2], rng)),
            new("bias", Tensor(TensorDType.F64, [8], rng)),
            new("half", Tensor(TensorDType.F16, [2, 2], rng)),
            new("ids", Tensor(TensorDType.I64, [3], rng)),
            new("empty", Tensor(TensorDType.F32, [0, 4], rng)),
            new("scalar", Tensor(TensorDType.U8, [], rng)),
        };
        return SafeTensors.Write(tensors, new Dictionary<string, string> { ["format"] = "pt" });
    }

    private static HostTensor Tensor(TensorDType dtype, int[] shape, Random rng)
    {
        long count = shape.Aggregate(1L, (a, d) => a * d);
        var bytes = new byte[count * TensorDTypeInfo.SizeOf(dtype)];
        rng.NextBytes(bytes);
        return new HostTensor(dtype, shape, bytes);
    }

    private static byte[] MutateSafeTensors(byte[] valid, Random rng)
    {
        int headerSize = (int)BinaryPrimitives.ReadUInt64LittleEndian(valid);
        string json = Encoding.UTF8.GetString(valid, 8, headerSize);
        byte[] buffer = valid[(8 + headerSize)..];
        var root = JsonNode.Parse(json)!.AsObject();
        var names = root.Where(p => p.Key != "__metadata__").Select(p => p.Key).ToList();
        int mutations = 1 + rng.Next(3);
        for (int m = 0; m < mutations; m++)
        {
            if (root[names[rng.Next(names.Count)]] is not JsonObject entry)
            {
                continue;
            }

            switch (rng.Next(12))
            {
                case 0: entry["dtype"] = Pick(DTypeStrings, rng); break;
                case 1: entry["dtype"] = rng.Next(2) == 0 ? JsonValue.Create(32) : null; break;
                case 2: entry["shape"] = ShapeArray(rng); break;
                case 3: entry["shape"] = rng.Next(3) switch { 0 => JsonValue.Create("(3, 4)"), 1 => new JsonArray(1.5, 2), _ => new JsonArray(JsonValue.Create("3")) }; break;
                case 4:
                    // One dim replaced by a huge, negative or wrapped value.
                    if (entry["shape"] is not JsonArray shape)
                    {
                        entry["shape"] = new JsonArray(Pick(HugeDims, rng));
                    }
                    else if (shape.Count > 0)
                    {
                        shape[rng.Next(shape.Count)] = Pick(HugeDims, rng);
                    }
                    else
                    {
                        shape.Add(Pick(HugeDims, rng));
                    }

                    break;
                case 5:
                    if (entry["data_offsets"] is JsonArray { Count: 2 } offsets && offsets[0] is JsonValue v0 && v0.TryGetValue(out long old))
                    {
                        offsets[rng.Next(2)] = JsonOffset(old, rng);
                    }

                    break;
                case 6: entry["data_offsets"] = new JsonArray(JsonOffset(0, rng), JsonOffset(0, rng)); break;
                case 7: entry["data_offsets"] = rng.Next(3) switch { 0 => new JsonArray(0), 1 => new JsonArray(0, 4, 8), _ => JsonValue.Create(0) }; break;
                case 8: entry.Remove(Pick(new[] { "dtype", "shape", "data_offsets" }, rng)); break;
                case 9: root["__metadata__"] = rng.Next(2) == 0 ? new JsonArray(1) : new JsonObject { ["k"] = 1 }; break;
                case 10:
                    // Offsets made consistent with a (possibly huge) shape: only the buffer size can refuse it.
                    long[] dims = [Pick(HugeDims, rng) & int.MaxValue, 1 + rng.Next(4)];
                    entry["shape"] = new JsonArray(dims.Select(d => (JsonNode?)JsonValue.Create(d)).ToArray());
                    entry["dtype"] = "F32";
                    long bytes = unchecked(dims[0] * dims[1] * 4);
                    long begin = entry["data_offsets"] is JsonArray { Count: > 0 } o && o[0] is JsonValue b0 && b0.TryGetValue(out long b) ? b : 0;
                    entry["data_offsets"] = new JsonArray(begin, unchecked(begin + bytes));
                    break;
                default:
                    root[names[rng.Next(names.Count)] + "_copy"] = entry.DeepClone();
                    break;
            }
        }

        byte[] header = Encoding.UTF8.GetBytes(root.ToJsonString());
        byte[] data = rng.Next(6) switch
        {
            0 => buffer[..rng.Next(buffer.Length + 1)],
            1 => [.. buffer, .. new byte[1 + rng.Next(16)]],
            _ => buffer,
        };
        var file = new byte[8 + header.Length + data.Length];
        ulong sizeField = rng.Next(5) switch
        {
            0 => Pick(new ulong[] { 0, 1, 7, ulong.MaxValue, (ulong)long.MaxValue, (ulong)int.MaxValue, (ulong)int.MaxValue + 1, SafeTensors.MaxHeaderBytes + 1UL }, rng),
            1 => (ulong)(header.Length + rng.Next(-8, 9)),
            _ => (ulong)header.Length,
        };
        BinaryPrimitives.WriteUInt64LittleEndian(file, sizeField);
        header.CopyTo(file, 8);
        data.CopyTo(file, 8 + header.Length);
        return file;
    }

    private static JsonArray ShapeArray(Random rng)
    {
        int rank = rng.Next(4) == 0 ? rng.Next(40, 70) : rng.Next(0, 5);
        var a = new JsonArray();
        for (int i = 0; i < rank; i++)
        {
            a.Add(rng.Next(3) == 0 ? Pick(HugeDims, rng) : rng.Next(0, 5));
        }

        return a;
    }

    private static JsonValue JsonOffset(long old, Random rng) => rng.Next(7) switch
    {
        0 => JsonValue.Create(old + rng.Next(-9, 10)),
        1 => JsonValue.Create(ulong.MaxValue),
        2 => JsonValue.Create(-1),
        3 => JsonValue.Create(1e20),
        4 => JsonValue.Create(Pick(HugeDims, rng)),
        5 => JsonValue.Create("8"),
        _ => JsonValue.Create(old * 2),
    };

    // ---------------------------------------------------------------- npy

    private static byte[] MutateNpy(Random rng)
    {
        string descr = rng.Next(3) == 0 ? Pick(NpyDescrs, rng) : "<f4";
        string fortran = rng.Next(8) switch { 0 => "True", 1 => "1", 2 => "'False'", 3 => "None", _ => "False" };
        string shape = rng.Next(3) switch
        {
            0 => "(" + string.Join(", ", Enumerable.Range(0, rng.Next(0, 4)).Select(_ => Pick(HugeDims, rng).ToString(CultureInfo.InvariantCulture))) + ",)",
            1 => Pick(new[] { "()", "(,)", "(3 4)", "[3, 4]", "(3, -4)", "(3.0, 4)", "(1e3,)", "((3,), 4)", "(3, 4", "3, 4)", "(0x10,)", "(" + string.Concat(Enumerable.Repeat("1, ", 5000)) + ")", "(99999999999999999999999999,)" }, rng),
            _ => $"({1 + rng.Next(4)}, {rng.Next(5)})",
        };
        var keys = new List<string> { $"'descr': '{descr}'", $"'fortran_order': {fortran}", $"'shape': {shape}" };
        switch (rng.Next(8))
        {
            case 0: keys.RemoveAt(rng.Next(keys.Count)); break;
            case 1: keys.Add(keys[rng.Next(keys.Count)]); break;
            case 2: keys.Add("'extra': 1"); break;
            case 3: keys[0] = $"'descr': {descr}"; break;
        }

        string dict = "{" + string.Join(", ", keys) + ", }";
        if (rng.Next(10) == 0)
        {
            dict = dict[..rng.Next(dict.Length)];
        }

        long elements = 1;
        foreach (var part in shape.Trim('(', ')').Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            elements = long.TryParse(part, CultureInfo.InvariantCulture, out long d) && d >= 0 && d < 1000 ? elements * d : 1 + rng.Next(8);
        }

        int itemSize = descr.Length >= 3 && int.TryParse(descr.AsSpan(2), CultureInfo.InvariantCulture, out int s) && s <= 16 ? s : 4;
        int dataLength = (int)Math.Min(elements * itemSize, 1 << 16);
        dataLength = rng.Next(5) switch { 0 => Math.Max(0, dataLength - 1 - rng.Next(8)), 1 => dataLength + 1 + rng.Next(8), _ => dataLength };
        byte[] file = InteropAssertNpy(dict, new byte[dataLength], major: rng.Next(6) == 0 ? 2 : 1);
        switch (rng.Next(8))
        {
            case 0: // header length field
                if (file[6] == 1)
                {
                    BinaryPrimitives.WriteUInt16LittleEndian(file.AsSpan(8), (ushort)Pick(new[] { 0, 1, 0xFFFF, file.Length, file.Length - 10 + rng.Next(-4, 5) }, rng));
                }
                else
                {
                    BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(8), Pick(new[] { 0u, uint.MaxValue, (uint)int.MaxValue, Npy.MaxHeaderBytes + 1u, (uint)file.Length }, rng));
                }

                break;
            case 1: // version bytes
                file[6] = (byte)rng.Next(5);
                file[7] = (byte)rng.Next(2);
                break;
            case 2: // the '\n' that ends the header
                int nl = Array.LastIndexOf(file, (byte)'\n', Math.Min(file.Length - 1, 10 + BinaryPrimitives.ReadUInt16LittleEndian(file.AsSpan(8))));
                if (nl > 0)
                {
                    file[nl] = (byte)' ';
                }

                break;
            case 3: // a non-ASCII byte in the header
                file[10 + rng.Next(Math.Min(40, file.Length - 10))] = (byte)(0x80 + rng.Next(128));
                break;
        }

        return file;
    }

    private static byte[] InteropAssertNpy(string dict, byte[] data, int major) => RecurrentCore.Tests.Interop.InteropAssert.NpyBytes(dict, data, major);

    // ---------------------------------------------------------------- onnx

    private static RecurrentParameters FuzzParameters(CellKind cell, bool bidirectional, int layers)
    {
        var cfg = new RecurrentConfig(cell, 3, 4, numLayers: layers, bidirectional: bidirectional);
        return RandomData.Parameters(cfg, new Random(11), 0.5);
    }

    private static byte[] MutateOnnx(byte[] valid, Random rng)
    {
        if (rng.Next(4) == 0)
        {
            return MutateVarint(valid, rng);
        }

        var model = OnnxModelProto.Parse(valid, "valid.onnx");
        var g = model.Graph!;
        int mutations = 1 + rng.Next(3);
        for (int m = 0; m < mutations; m++)
        {
            var t = g.Initializers[rng.Next(g.Initializers.Count)];
            var node = g.Nodes.FirstOrDefault(n => n.OpType is "LSTM" or "GRU" or "RNN") ?? g.Nodes[0];
            switch (rng.Next(11))
            {
                case 0:
                    if (t.Dims.Count > 0)
                    {
                        t.Dims[rng.Next(t.Dims.Count)] = Pick(HugeDims, rng);
                    }

                    break;
                case 1:
                    t.Dims.Clear();
                    for (int k = rng.Next(0, 6); k > 0; k--)
                    {
                        t.Dims.Add(rng.Next(2) == 0 ? Pick(HugeDims, rng) : rng.Next(5));
                    }

                    break;
                case 2: t.DataType = Pick(new[] { 0, 1, 2, 6, 7, 8, 10, 11, 16, 99, -1, int.MaxValue }, rng); break;
                case 3: t.RawData = t.RawData is null ? [] : t.RawData[..rng.Next(t.RawData.Length + 1)]; break;
                case 4: t.RawData = null; break;
                case 5:
                    // Raw data of NaN/∞ floats.
                    if (t.RawData is { Length: >= 4 } raw)
                    {
                        BinaryPrimitives.WriteSingleLittleEndian(raw.AsSpan(4 * rng.Next(raw.Length / 4)), Pick(new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity, float.MaxValue }, rng));
                    }

                    break;
                case 6:
                    var attr = node.Attributes.FirstOrDefault(a => a.Name == "hidden_size");
                    if (attr is not null)
                    {
                        attr.I = Pick(HugeDims, rng);
                    }

                    break;
                case 7:
                    if (node.Attributes.Count > 0)
                    {
                        var a = node.Attributes[rng.Next(node.Attributes.Count)];
                        a.S = Pick(new[] { "reverse", "bidirectional", "sideways", "", "Relu", "Sigmoid" }, rng);
                        a.I = Pick(HugeDims, rng);
                        // Only types the test's encoder can write (a Tensor or Graph attribute needs a value it lacks).
                        a.Type = Pick(new[] { OnnxAttributeType.Float, OnnxAttributeType.Int, OnnxAttributeType.String, OnnxAttributeType.Floats, OnnxAttributeType.Ints, OnnxAttributeType.Strings }, rng);
                    }

                    break;
                case 8: node.OpType = Pick(new[] { "LSTM", "GRU", "RNN", "Lstm", "", "Conv" }, rng); break;
                case 9:
                    if (node.Inputs.Count > 0)
                    {
                        node.Inputs[rng.Next(node.Inputs.Count)] = Pick(new[] { "", "missing", node.Inputs[0], t.Name }, rng);
                    }

                    break;
                default:
                    g.Initializers.Add(g.Initializers[rng.Next(g.Initializers.Count)]);
                    break;
            }
        }

        byte[] bytes;
        try
        {
            bytes = model.ToBytes();
        }
        catch (InvalidOperationException)
        {
            // An attribute type the encoder does not write: fall back to a wire-level mutation.
            return MutateVarint(valid, rng);
        }

        return rng.Next(8) == 0 ? bytes[..rng.Next(bytes.Length)] : bytes;
    }

    /// <summary>Rewrites one varint (a length, a tag or a value) somewhere in the message with a hostile value.</summary>
    private static byte[] MutateVarint(byte[] valid, Random rng)
    {
        // Varints start after a byte < 0x80 (the end of the previous one); pick such a position.
        int at = rng.Next(valid.Length);
        while (at > 0 && valid[at - 1] >= 0x80)
        {
            at--;
        }

        int end = at;
        while (end < valid.Length && valid[end] >= 0x80)
        {
            end++;
        }

        end = Math.Min(end + 1, valid.Length);
        ulong value = rng.Next(6) switch
        {
            0 => ulong.MaxValue,
            1 => (ulong)int.MaxValue + 1,
            2 => (ulong)rng.Next(0, 300),
            3 => 1UL << rng.Next(64),
            4 => (ulong)valid.Length,
            _ => (ulong)Pick(HugeDims, rng),
        };
        var encoded = new List<byte>();
        while (value >= 0x80)
        {
            encoded.Add((byte)(value | 0x80));
            value >>= 7;
        }

        encoded.Add((byte)value);
        return [.. valid[..at], .. encoded, .. valid[end..]];
    }

    private static T Pick<T>(IReadOnlyList<T> items, Random rng) => items[rng.Next(items.Count)];
}
