using System.Buffers.Binary;
using RecurrentCore.Interop;
using Xunit;
using static RecurrentCore.Tests.Interop.InteropAssert;

namespace RecurrentCore.Tests.Interop;

public class SafeTensorsTests
{
    private const string Ok = """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""";

    public static TheoryData<TensorDType> AllDTypes() => new(Enum.GetValues<TensorDType>());

    [Theory]
    [MemberData(nameof(AllDTypes))]
    public void Round_trips_every_dtype_and_rank(TensorDType dtype)
    {
        int[][] shapes = [[], [5], [0], [2, 3], [3, 0], [2, 1, 3], [1, 2, 0, 4], [2, 3, 1, 2]];
        var tensors = shapes.Select((s, i) => new KeyValuePair<string, HostTensor>($"t{i}", Random(dtype, s, seed: i))).ToList();
        var metadata = new Dictionary<string, string> { ["format"] = "pt", ["ünïcode"] = "✓" };
        byte[] bytes = SafeTensors.Write(tensors, metadata);
        Assert.Equal(0UL, BinaryPrimitives.ReadUInt64LittleEndian(bytes) % 8);

        var file = SafeTensors.Read(bytes, "<stream>");
        Assert.Equal(metadata, file.Metadata);
        Assert.Equal(tensors.Select(p => p.Key), file.Tensors.Select(p => p.Key));
        foreach (var (name, tensor) in tensors)
        {
            Equal(tensor, file[name]);
        }
    }

    [Fact]
    public void Writer_is_deterministic_and_pads_header_with_spaces()
    {
        var tensors = new[] { new KeyValuePair<string, HostTensor>("w", HostTensor.FromSingle([1], [1f])) };
        byte[] a = SafeTensors.Write(tensors, new Dictionary<string, string> { ["b"] = "2", ["a"] = "1" });
        byte[] b = SafeTensors.Write(tensors, new Dictionary<string, string> { ["a"] = "1", ["b"] = "2" });
        Assert.Equal(a, b);
        int n = (int)BinaryPrimitives.ReadUInt64LittleEndian(a);
        string header = System.Text.Encoding.UTF8.GetString(a, 8, n);
        Assert.StartsWith("""{"__metadata__":{"a":"1","b":"2"},"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""", header, StringComparison.Ordinal);
        Assert.Equal(header.TrimEnd(' ').Length, header.TrimEnd().Length);
    }

    [Fact]
    public void Writer_rejects_bad_names()
    {
        var t = HostTensor.FromSingle([], [1f]);
        Assert.Throws<ArgumentException>(() => SafeTensors.Write([new("x", t), new("x", t)]));
        Assert.Throws<ArgumentException>(() => SafeTensors.Write([new("__metadata__", t)]));
    }

    [Fact]
    public void File_round_trip_and_lookup()
    {
        string path = Path.Combine(Path.GetTempPath(), $"rc-st-{Guid.NewGuid():N}.safetensors");
        try
        {
            SafeTensors.WriteFile(path, [new("x", HostTensor.FromInt64([2], [3, 4]))]);
            var file = SafeTensors.ReadFile(path);
            Assert.Empty(file.Metadata);
            Assert.True(file.TryGet("x", out var x));
            Assert.Equal(new long[] { 3, 4 }, x.ToInt64());
            Assert.False(file.TryGet("y", out _));
            Fails(() => _ = file["y"], Path.GetFileName(path), "no tensor named 'y'");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Reads_python_layout_fixture()
    {
        var file = SafeTensors.ReadFile(FixturePath("model.safetensors"));
        Assert.Equal("pt", file.Metadata["format"]);
        Assert.Equal("fixture", file.Metadata["note"]);
        Assert.Equal(["lstm.weight_ih_l0", "lstm.bias_bf16", "half", "step", "ids", "empty", "double"], file.Tensors.Select(p => p.Key));

        var w = file["lstm.weight_ih_l0"];
        Assert.Equal([4, 3], w.Shape);
        Assert.Equal(Enumerable.Range(0, 12).Select(i => i * 0.5f - 1), w.ToSingle());
        float[] bf16 = file["lstm.bias_bf16"].ToSingle();
        Assert.Equal(new[] { 1f, -2.5f, 0.15625f }, bf16[..3]);
        Assert.Equal(BitConverter.SingleToInt32Bits(3.0e38f) & unchecked((int)0xFFFF0000), BitConverter.SingleToInt32Bits(bf16[3]));
        Assert.Equal(new[] { 0f, 0.5f, 1f, 1.5f }, file["half"].ToSingle());
        Assert.Empty(file["step"].Shape);
        Assert.Equal(new long[] { 7 }, file["step"].ToInt64());
        Assert.Equal(new long[] { -1, 2, 3 }, file["ids"].ToInt64());
        Assert.Equal([1, 0, 2], file["empty"].Shape);
        Assert.Equal(new[] { 0.1, 0.2 }, file["double"].ToDouble());
    }

    [Fact]
    public void Tensors_come_in_offset_order()
    {
        const string json = """{"b":{"dtype":"U8","shape":[1],"data_offsets":[1,2]},"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}""";
        var file = SafeTensors.Read(SafeTensorsBytes(json, [10, 20]), "<stream>");
        Assert.Equal(["a", "b"], file.Tensors.Select(p => p.Key));
        Assert.Equal(new long[] { 20 }, file["b"].ToInt64());
    }

    [Fact]
    public void Valid_minimal_file_reads() =>
        Assert.Single(SafeTensors.Read(SafeTensorsBytes(Ok, new byte[8]), "<stream>").Tensors);

    [Fact]
    public void Too_short_for_header_size() => Fails(() => SafeTensors.Read([1, 2, 3], "m.safetensors"), "m.safetensors", "too short");

    [Fact]
    public void Header_size_past_end_of_file()
    {
        byte[] bytes = SafeTensorsBytes(Ok, new byte[8]);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, 1000);
        Fails(() => SafeTensors.Read(bytes, "m.safetensors"), "m.safetensors", "header size 1000 exceeds");
    }

    [Fact]
    public void Huge_header_size_is_refused_without_allocating()
    {
        byte[] bytes = SafeTensorsBytes(Ok, new byte[8]);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, 1UL << 63);
        long before = GC.GetAllocatedBytesForCurrentThread();
        Fails(() => SafeTensors.Read(bytes, "m.safetensors"), "m.safetensors", "header size 9223372036854775808 exceeds");
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1_000_000);
    }

    [Fact]
    public void Invalid_utf8() =>
        Fails(() => SafeTensors.Read(SafeTensorsBytes([(byte)'{', (byte)'"', 0xC3, 0x28, (byte)'"', (byte)':', (byte)'1', (byte)'}'], []), "m.safetensors"), "m.safetensors", "not valid UTF-8");

    [Fact]
    public void Invalid_json() => Fails(() => SafeTensors.Read(SafeTensorsBytes("{\"a\": ", []), "m.safetensors"), "m.safetensors", "not valid JSON");

    [Fact]
    public void Header_not_an_object() => Fails(() => SafeTensors.Read(SafeTensorsBytes("[1, 2]", []), "m.safetensors"), "m.safetensors", "must be a JSON object");

    [Theory]
    [InlineData("""{"a":{"shape":[2],"data_offsets":[0,8]}}""", "missing key 'dtype'")]
    [InlineData("""{"a":{"dtype":"F32","data_offsets":[0,8]}}""", "missing key 'shape'")]
    [InlineData("""{"a":{"dtype":"F32","shape":[2]}}""", "missing key 'data_offsets'")]
    [InlineData("""{"a":[1]}""", "'a' must be an object")]
    [InlineData("""{"a":{"dtype":7,"shape":[2],"data_offsets":[0,8]}}""", "dtype must be a string")]
    [InlineData("""{"a":{"dtype":"F32","shape":"2","data_offsets":[0,8]}}""", "shape must be an array")]
    [InlineData("""{"a":{"dtype":"F32","shape":[2.5],"data_offsets":[0,8]}}""", "shape[0] must be an integer")]
    [InlineData("""{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}""", "shape[0] is negative")]
    [InlineData("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0]}}""", "data_offsets must be an array [begin, end]")]
    [InlineData("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[-1,8]}}""", "non-negative integers")]
    [InlineData("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}""", "end before they begin")]
    public void Malformed_entries(string json, string problem) =>
        Fails(() => SafeTensors.Read(SafeTensorsBytes(json, new byte[8]), "m.safetensors"), "m.safetensors", problem);

    [Fact]
    public void Unsupported_dtype() =>
        Fails(() => SafeTensors.Read(SafeTensorsBytes("""{"a":{"dtype":"C64","shape":[1],"data_offsets":[0,8]}}""", new byte[8]), "m.safetensors"), "m.safetensors", "unsupported dtype 'C64'");

    [Fact]
    public void Shape_and_size_mismatch()
    {
        Fails(() => SafeTensors.Read(SafeTensorsBytes("""{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}""", new byte[8]), "m.safetensors"), "m.safetensors", "needs 12 bytes", "span 8");
        Fails(() => SafeTensors.Read(SafeTensorsBytes("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,8]}}""", new byte[8]), "m.safetensors"), "m.safetensors", "needs 4 bytes", "span 8");
    }

    [Fact]
    public void Element_count_overflow() =>
        Fails(
            () => SafeTensors.Read(SafeTensorsBytes("""{"a":{"dtype":"F64","shape":[2147483647,2147483647,2147483647],"data_offsets":[0,0]}}""", []), "m.safetensors"),
            "m.safetensors",
            "overflows");

    [Fact]
    public void Offsets_out_of_range() =>
        Fails(() => SafeTensors.Read(SafeTensorsBytes("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", new byte[4]), "m.safetensors"), "m.safetensors", "out of range");

    [Fact]
    public void Overlapping_offsets() =>
        Fails(
            () => SafeTensors.Read(SafeTensorsBytes("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}""", new byte[12]), "m.safetensors"),
            "m.safetensors",
            "overlap");

    [Fact]
    public void Hole_in_buffer() =>
        Fails(
            () => SafeTensors.Read(SafeTensorsBytes("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}""", new byte[12]), "m.safetensors"),
            "m.safetensors",
            "hole",
            "4..8");

    [Fact]
    public void Trailing_bytes() =>
        Fails(() => SafeTensors.Read(SafeTensorsBytes(Ok, new byte[9]), "m.safetensors"), "m.safetensors", "trailing bytes");

    [Theory]
    [InlineData("""{"a":{"dtype":"F32","dtype":"I32","shape":[2],"data_offsets":[0,8]}}""", "duplicate key 'dtype' in 'a'")]
    [InlineData("""{"a":{"dtype":"F32","shape":[2],"shape":[2],"data_offsets":[0,8]}}""", "duplicate key 'shape' in 'a'")]
    [InlineData("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"data_offsets":[0,8]}}""", "duplicate key 'data_offsets' in 'a'")]
    [InlineData("""{"__metadata__":{"k":"1","k":"2"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", "duplicate key 'k' in '__metadata__'")]
    [InlineData("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"x":{"y":1,"y":2}}}""", "duplicate key 'y' in 'a'.'x'")]
    [InlineData("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"x":[{"y":1,"y":2}]}}""", "duplicate key 'y'")]
    public void Repeated_key_at_any_level_is_refused(string json, string expected) =>
        // Regression: a repeated "dtype" was accepted with the last one winning; the reference implementation refuses it.
        Fails(() => SafeTensors.Read(SafeTensorsBytes(json, new byte[8]), "m.safetensors"), "m.safetensors", expected);

    [Theory]
    [InlineData("npy")]
    [InlineData("onnx")]
    [InlineData("text")]
    [InlineData("zeros")]
    public void Another_format_is_not_a_safetensors_file(string kind)
    {
        // Regression: these reported a header-size overflow.
        byte[] bytes = kind switch
        {
            "npy" => File.ReadAllBytes(FixturePath("f32_3x4.npy")),
            "onnx" => File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "fixtures", "onnx", "helper_lstm_peephole.onnx")),
            "text" => System.Text.Encoding.ASCII.GetBytes("this is not a safetensors file, just text"),
            _ => new byte[64],
        };
        Fails(() => SafeTensors.Read(bytes, "x.bin"), "x.bin: not a safetensors file");
    }

    [Fact]
    public void A_directory_is_named_as_one()
    {
        // Regression: opening a directory said "Access to the path is denied".
        string dir = Path.Combine(Path.GetTempPath(), "recurrent-dir-" + Guid.NewGuid().ToString("N") + ".safetensors");
        Directory.CreateDirectory(dir);
        try
        {
            var e = Assert.Throws<IOException>(() => SafeTensors.ReadFile(dir));
            Assert.Equal($"{dir}: is a directory, not a file", e.Message);
            Assert.Throws<IOException>(() => Npy.ReadFile(dir));
        }
        finally
        {
            Directory.Delete(dir);
        }
    }

    [Fact]
    public void Duplicate_name() =>
        Fails(
            () => SafeTensors.Read(SafeTensorsBytes("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", new byte[8]), "m.safetensors"),
            "m.safetensors",
            "duplicate name 'a'");

    [Fact]
    public void Metadata_must_be_string_map()
    {
        Fails(() => SafeTensors.Read(SafeTensorsBytes("""{"__metadata__":{"epoch":3}}""", []), "m.safetensors"), "m.safetensors", "__metadata__", "'epoch' must be a string");
        Fails(() => SafeTensors.Read(SafeTensorsBytes("""{"__metadata__":["x"]}""", []), "m.safetensors"), "m.safetensors", "__metadata__ must be an object");
    }

    [Theory]
    [InlineData("""{"\uD800":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}}""")]
    [InlineData("""{"__metadata__":{"k":"\uDC00"}}""")]
    [InlineData("""{"__metadata__":{"\uD800x":"v"}}""")]
    [InlineData("""{"a":{"dtype":"\uD800","shape":[0],"data_offsets":[0,0]}}""")]
    public void Lone_surrogate_escapes_are_format_errors(string json) =>
        InteropAssert.Fails(() => SafeTensors.Read(InteropAssert.SafeTensorsBytes(json, []), "m.safetensors"), "m.safetensors", "surrogate");
}
