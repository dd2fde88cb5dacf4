using System.Buffers.Binary;
using RecurrentCore.Interop;
using Xunit;
using static RecurrentCore.Tests.Interop.InteropAssert;

namespace RecurrentCore.Tests.Interop;

public class NpyTests
{
    public static TheoryData<TensorDType, int[]> RoundTripCases()
    {
        int[][] shapes = [[], [5], [0], [2, 3], [3, 0], [2, 1, 3], [1, 2, 0, 4], [2, 3, 1, 2]];
        var data = new TheoryData<TensorDType, int[]>();
        foreach (var dtype in new[] { TensorDType.F32, TensorDType.F64, TensorDType.F16, TensorDType.I64, TensorDType.I32, TensorDType.U8, TensorDType.I8 })
        {
            foreach (int[] shape in shapes)
            {
                data.Add(dtype, shape);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(RoundTripCases))]
    public void Round_trips_every_dtype_and_rank(TensorDType dtype, int[] shape)
    {
        var tensor = Random(dtype, shape, seed: shape.Length * 31 + (int)dtype);
        byte[] bytes = Npy.Write(tensor);
        Assert.Equal(0, (bytes.Length - tensor.Bytes.Length) % 64);
        Assert.Equal((byte)'\n', bytes[bytes.Length - tensor.Bytes.Length - 1]);
        Equal(tensor, Npy.Read(bytes, "<stream>"));
    }

    [Fact]
    public void Writes_numpy_header_text()
    {
        byte[] bytes = Npy.Write(HostTensor.FromSingle([3, 4], new float[12]));
        Assert.Equal(1, bytes[6]);
        Assert.Equal(128 - 10, BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(8)));
        string header = System.Text.Encoding.ASCII.GetString(bytes, 10, 118);
        Assert.StartsWith("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }", header, StringComparison.Ordinal);
        Assert.Contains("'shape': (5,)", System.Text.Encoding.ASCII.GetString(Npy.Write(HostTensor.FromInt64([5], new long[5]))), StringComparison.Ordinal);
    }

    [Fact]
    public void Writes_version_2_when_the_header_exceeds_64_KiB()
    {
        // numpy caps ndim at 32/64, so only a rank this absurd needs a u32 header length; the rule is still numpy's.
        int[] shape = Enumerable.Repeat(1, 30_000).ToArray();
        var tensor = HostTensor.FromSingle(shape, [4.5f]);
        byte[] bytes = Npy.Write(tensor);
        Assert.Equal(2, bytes[6]);
        Assert.Equal(0, (bytes.Length - 4) % 64);
        Equal(tensor, Npy.Read(bytes, "<stream>"));
    }

    [Fact]
    public void Format_errors_are_RecurrentCore_errors() =>
        Assert.IsAssignableFrom<RecurrentCoreException>(Assert.Throws<InteropFormatException>(() => Npy.Read([], "x.npy")));

    [Fact]
    public void Refuses_to_write_BF16()
    {
        Assert.Throws<ArgumentException>(() => Npy.Write(new HostTensor(TensorDType.BF16, [1], new byte[2])));
    }

    [Fact]
    public void File_round_trip()
    {
        string path = Path.Combine(Path.GetTempPath(), $"rc-npy-{Guid.NewGuid():N}.npy");
        try
        {
            var tensor = HostTensor.FromDouble([2, 2], [1, 2, 3, 4]);
            Npy.WriteFile(path, tensor);
            Equal(tensor, Npy.ReadFile(path));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Reads_numpy_fixtures()
    {
        var f32 = Npy.ReadFile(FixturePath("f32_3x4.npy"));
        Assert.Equal(TensorDType.F32, f32.DType);
        Assert.Equal([3, 4], f32.Shape);
        Assert.Equal(Enumerable.Range(0, 12).Select(i => i * 0.5f - 1), f32.ToSingle());

        var scalar = Npy.ReadFile(FixturePath("f64_scalar.npy"));
        Assert.Empty(scalar.Shape);
        Assert.Equal(new[] { 3.25 }, scalar.ToDouble());

        var i64 = Npy.ReadFile(FixturePath("i64_5.npy"));
        Assert.Equal([5], i64.Shape);
        Assert.Equal(new long[] { -2, -1, 0, 1, 2 }, i64.ToInt64());

        var f16 = Npy.ReadFile(FixturePath("f16_2x3.npy"));
        Assert.Equal(TensorDType.F16, f16.DType);
        Assert.Equal(Enumerable.Range(0, 6).Select(i => i * 0.25f), f16.ToSingle());

        var i32 = Npy.ReadFile(FixturePath("i32_2x2x2.npy"));
        Assert.Equal([2, 2, 2], i32.Shape);
        Assert.Equal(Enumerable.Range(0, 8).Select(i => i * -3L), i32.ToInt64());

        var u8 = Npy.ReadFile(FixturePath("u8_0x3.npy"));
        Assert.Equal(TensorDType.U8, u8.DType);
        Assert.Equal([0, 3], u8.Shape);
        Assert.Equal(0, u8.ElementCount);

        var bigEndian = Npy.ReadFile(FixturePath("f32_be_3.npy"));
        Assert.Equal(new[] { 1.5f, -2f, 3f }, bigEndian.ToSingle());

        var v2 = Npy.ReadFile(FixturePath("f32_v2_2x2.npy"));
        Assert.Equal([2, 2], v2.Shape);
        Assert.Equal(new[] { 0f, 1f, 2f, 3f }, v2.ToSingle());
    }

    [Fact]
    public void Writer_output_matches_numpy_byte_for_byte()
    {
        byte[] numpy = File.ReadAllBytes(FixturePath("f32_3x4.npy"));
        var tensor = HostTensor.FromSingle([3, 4], Enumerable.Range(0, 12).Select(i => i * 0.5f - 1).ToArray());
        Assert.Equal(numpy, Npy.Write(tensor));
    }

    [Fact]
    public void Accepts_version_3_utf8_header()
    {
        byte[] bytes = NpyBytes("{'descr': '<i4', 'fortran_order': False, 'shape': (1,), }", [7, 0, 0, 0], major: 3);
        Assert.Equal(new long[] { 7 }, Npy.Read(bytes, "v3.npy").ToInt64());
    }

    [Fact]
    public void Fortran_order_is_read_transposed_into_row_major()
    {
        // numpy wrote these (make_fixtures.py): the bytes are column-major; HostTensor is row-major.
        var t = Npy.ReadFile(FixturePath("f32_fortran_2x3.npy"));
        Assert.Equal([2, 3], t.Shape);
        Assert.Equal(new float[] { 0, 1, 2, 3, 4, 5 }, t.ToSingle());

        var transposed = Npy.ReadFile(FixturePath("f32_transposed_4x3.npy")); // np.arange(12).reshape(3, 4).T
        Assert.Equal([4, 3], transposed.Shape);
        Assert.Equal(Enumerable.Range(0, 12).Select(k => (float)((4 * (k % 3)) + (k / 3))).ToArray(), transposed.ToSingle());

        var cube = Npy.ReadFile(FixturePath("f64_fortran_2x3x4.npy"));
        Assert.Equal([2, 3, 4], cube.Shape);
        Assert.Equal(Enumerable.Range(0, 24).Select(k => (k * 0.5) - 3).ToArray(), cube.ToDouble());

        var ints = Npy.ReadFile(FixturePath("i64_fortran_3x2.npy"));
        Assert.Equal(TensorDType.I64, ints.DType);
        Assert.Equal(new long[] { -1, 0, 1, 2, 3, 4 }, ints.ToInt64());

        var bigEndian = Npy.ReadFile(FixturePath("f32_be_fortran_3x2.npy"));
        Assert.Equal(new float[] { 0.25f, 1.25f, 2.25f, 3.25f, 4.25f, 5.25f }, bigEndian.ToSingle());
    }

    [Fact]
    public void Fortran_order_of_rank_0_1_and_empty_arrays_is_the_same_bytes()
    {
        foreach (var (shape, count) in new[] { ("()", 1), ("(3,)", 3), ("(0, 4)", 0), ("(2, 0, 3)", 0) })
        {
            var data = Enumerable.Range(1, count).SelectMany(v => BitConverter.GetBytes((float)v)).ToArray();
            var t = Npy.Read(NpyBytes($"{{'descr': '<f4', 'fortran_order': True, 'shape': {shape}, }}", data), "f.npy");
            Assert.Equal(Enumerable.Range(1, count).Select(v => (float)v).ToArray(), t.ToSingle());
        }
    }

    [Fact]
    public void Truncated_magic() => Fails(() => Npy.Read([0x93, (byte)'N', (byte)'U'], "data.npy"), "data.npy", "truncated magic");

    [Fact]
    public void Bad_magic() => Fails(() => Npy.Read("PK\u0003\u0004 not numpy at all"u8, "data.npy"), "data.npy", "bad magic");

    [Fact]
    public void Bad_version()
    {
        byte[] bytes = Npy.Write(HostTensor.FromSingle([1], [1f]));
        bytes[6] = 4;
        Fails(() => Npy.Read(bytes, "data.npy"), "data.npy", "unsupported .npy version 4.0");
    }

    [Fact]
    public void Truncated_version_and_length()
    {
        Fails(() => Npy.Read([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1], "data.npy"), "data.npy", "truncated version");
        Fails(() => Npy.Read([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0, 5], "data.npy"), "data.npy", "truncated header length");
    }

    [Fact]
    public void Header_length_past_end_of_file()
    {
        byte[] bytes = Npy.Write(HostTensor.FromSingle([1], [1f]));
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), 5000);
        Fails(() => Npy.Read(bytes, "data.npy"), "data.npy", "header length 5000 exceeds");
    }

    [Fact]
    public void Huge_header_length_is_refused_without_allocating()
    {
        byte[] bytes = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 2, 0, 0xFF, 0xFF, 0xFF, 0xFF, (byte)'{'];
        long before = GC.GetAllocatedBytesForCurrentThread();
        Fails(() => Npy.Read(bytes, "data.npy"), "data.npy", "header length 4294967295 exceeds");
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1_000_000);
    }

    [Fact]
    public void Non_dict_header() =>
        Fails(() => Npy.Read(NpyBytes("['descr', '<f4']", []), "data.npy"), "data.npy", "not a dict");

    [Fact]
    public void Missing_key() =>
        Fails(() => Npy.Read(NpyBytes("{'descr': '<f4', 'fortran_order': False, }", []), "data.npy"), "data.npy", "missing key 'shape'");

    [Fact]
    public void Unexpected_and_duplicate_keys()
    {
        Fails(() => Npy.Read(NpyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (), 'x': 1}", new byte[4]), "data.npy"), "data.npy", "unexpected key 'x'");
        Fails(() => Npy.Read(NpyBytes("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': ()}", new byte[4]), "data.npy"), "data.npy", "duplicate key 'descr'");
    }

    [Fact]
    public void Unsupported_dtype()
    {
        Fails(() => Npy.Read(NpyBytes("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", new byte[8]), "data.npy"), "data.npy", "unsupported dtype", "<c8");
        Fails(() => Npy.Read(NpyBytes("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", new byte[4]), "data.npy"), "data.npy", "structured");
    }

    [Fact]
    public void Malformed_shapes()
    {
        Fails(() => Npy.Read(NpyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }", []), "data.npy"), "data.npy", "negative");
        Fails(() => Npy.Read(NpyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (5), }", new byte[20]), "data.npy"), "data.npy", "not a tuple");
        Fails(() => Npy.Read(NpyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999,), }", []), "data.npy"), "data.npy", "exceeds");
        Fails(() => Npy.Read(NpyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 'a'), }", []), "data.npy"), "data.npy", "shape[1]");
    }

    [Fact]
    public void Data_too_short()
    {
        byte[] bytes = NpyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }", new byte[40]);
        var e = Fails(() => Npy.Read(bytes, "data.npy"), "data.npy", "shape (3, 4) = 12 elements", "40 bytes", "need 48");
        Assert.Equal("data.npy: header declares shape (3, 4) = 12 elements but 40 bytes of data follow (need 48)", e.Message);
    }

    [Fact]
    public void Data_too_long() =>
        Fails(() => Npy.Read(NpyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", new byte[13]), "data.npy"), "data.npy", "13 bytes", "need 12", "trailing");

    [Fact]
    public void Element_count_overflow() =>
        Fails(
            () => Npy.Read(NpyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': (2147483647, 2147483647, 2147483647), }", []), "data.npy"),
            "data.npy",
            "overflows");

    [Fact]
    public void Read_file_names_the_path()
    {
        string path = Path.Combine(Path.GetTempPath(), $"rc-bad-{Guid.NewGuid():N}.npy");
        try
        {
            File.WriteAllBytes(path, [1, 2, 3, 4, 5, 6, 7, 8]);
            Fails(() => Npy.ReadFile(path), Path.GetFileName(path), "bad magic");
        }
        finally
        {
            File.Delete(path);
        }
    }
}
