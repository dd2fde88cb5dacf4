using RecurrentCore.Interop.Onnx;
using RecurrentCore.Tests.Reference;
using Xunit;
using static RecurrentCore.Tests.Interop.InteropAssert;

namespace RecurrentCore.Tests.Interop.Onnx;

/// <summary>The hand-written protobuf reader and writer on the wire format itself.</summary>
public class OnnxProtoCodecTests
{
    [Theory]
    [InlineData(0L, new byte[] { 0x08, 0x00 })]
    [InlineData(1L, new byte[] { 0x08, 0x01 })]
    [InlineData(127L, new byte[] { 0x08, 0x7f })]
    [InlineData(128L, new byte[] { 0x08, 0x80, 0x01 })]
    [InlineData(300L, new byte[] { 0x08, 0xac, 0x02 })]
    [InlineData(-1L, new byte[] { 0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01 })]
    [InlineData(long.MaxValue, new byte[] { 0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f })]
    [InlineData(long.MinValue, new byte[] { 0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01 })]
    public void Varints_encode_and_decode_like_protobuf(long value, byte[] encoded)
    {
        var w = new ProtoWriter();
        w.WriteVarintField(1, value);
        Assert.Equal(encoded, w.ToArray());
        var r = new ProtoReader(encoded, "x", "Test");
        Assert.True(r.TryReadKey(out int field, out var wire));
        Assert.Equal((1, WireType.Varint), (field, wire));
        Assert.Equal(value, r.ReadInt64(wire, "v"));
        Assert.False(r.TryReadKey(out _, out _));
    }

    [Fact]
    public void Refuses_a_varint_overflowing_64_bits() =>
        Fails(() => Read([0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02]), "x", "overflows 64 bits");

    [Fact]
    public void Refuses_an_int32_out_of_range()
    {
        // data_type = 2^40 in a TensorProto.
        byte[] tensor = [0x10, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20];
        Fails(() => Parse(tensor), "x", "'data_type' value 1099511627776 does not fit in int32");
    }

    [Fact]
    public void Reads_packed_and_unpacked_repeated_fields()
    {
        // dims 2, 3 unpacked then 4 packed; float_data 1.5 unpacked then packed [2, -0.5]; int64_data packed [-2, 7].
        byte[] bytes =
        [
            0x08, 0x02, 0x08, 0x03, 0x0a, 0x01, 0x04,
            0x25, 0x00, 0x00, 0xc0, 0x3f, 0x22, 0x08, 0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0x00, 0xbf,
            0x3a, 0x0b, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x07,
        ];
        var t = Parse(bytes);
        Assert.Equal([2L, 3, 4], t.Dims);
        Assert.Equal([1.5f, 2f, -0.5f], t.FloatData);
        Assert.Equal([-2L, 7], t.Int64Data);
    }

    [Fact]
    public void Skips_unknown_fields_of_every_wire_type()
    {
        // field 99 as varint, fixed64, length-delimited, fixed32, then name = "w".
        byte[] bytes =
        [
            0x98, 0x06, 0x96, 0x01,
            0x99, 0x06, 1, 2, 3, 4, 5, 6, 7, 8,
            0x9a, 0x06, 0x02, 0xaa, 0xbb,
            0x9d, 0x06, 1, 2, 3, 4,
            0x42, 0x01, (byte)'w',
        ];
        Assert.Equal("w", Parse(bytes).Name);
    }

    [Fact]
    public void Truncated_fixed_width_fields_are_errors()
    {
        Fails(() => Parse([0x25, 0x00, 0x00]), "x", "TensorProto", "needs 4 bytes but only 2 remain");
        Fails(() => Parse([0x99, 0x06, 1, 2, 3]), "x", "needs 8 bytes but only 3 remain");
    }

    [Fact]
    public void Writes_deterministically_and_parses_back_to_the_same_bytes()
    {
        var cfg = new RecurrentConfig(CellKind.Lstm, 3, 4, 2, bidirectional: true, batchFirst: true);
        byte[] bytes = OnnxModel.Export(RandomData.Parameters(cfg, new Random(9), 0.5), new OnnxExportOptions { InitialStates = true, SequenceLens = true });
        Assert.Equal(bytes, OnnxModel.Export(RandomData.Parameters(cfg, new Random(9), 0.5), new OnnxExportOptions { InitialStates = true, SequenceLens = true }));
        var parsed = OnnxModelProto.Parse(bytes, "x");
        Assert.Equal(bytes, parsed.ToBytes());
        Assert.Equal(8, parsed.IrVersion);
        Assert.Equal(new OnnxOpsetId(string.Empty, 14), Assert.Single(parsed.OpsetImports));
        var lstm = parsed.Graph!.Nodes.First(n => n.OpType == "LSTM");
        Assert.Equal("bidirectional", lstm.Attributes.Single(a => a.Name == "direction").S);
        Assert.Equal(OnnxAttributeType.Int, lstm.Attributes.Single(a => a.Name == "hidden_size").Type);
        Assert.Equal([1L, 0, 2], parsed.Graph.Nodes[0].Attributes.Single().Ints);
    }

    [Fact]
    public void Refuses_dims_whose_product_overflows()
    {
        var t = new OnnxTensorProto { DataType = 1, RawData = [] };
        t.Dims.AddRange([1L << 31, 1L << 33]);
        Fails(() => OnnxTensorData.ToDoubles(t, "x", "tensor 'w'"), "x: tensor 'w' declares dims (2147483648, 8589934592)");
        t.Dims.Clear();
        t.Dims.AddRange([2, -1]);
        Fails(() => OnnxTensorData.ToDoubles(t, "x", "tensor 'w'"), "negative dimension -1");
    }

    [Fact]
    public void Decodes_float16_from_int32_data_and_int32_from_raw()
    {
        var h = new OnnxTensorProto { DataType = 10 };
        h.Dims.Add(2);
        h.Int32Data.AddRange([BitConverter.HalfToUInt16Bits((Half)1.5), BitConverter.HalfToUInt16Bits((Half)(-2))]);
        Assert.Equal([1.5, -2.0], OnnxTensorData.ToDoubles(h, "x", "h"));
        var i = new OnnxTensorProto { DataType = 6, RawData = [1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff] };
        i.Dims.Add(2);
        Assert.Equal([1L, -1], OnnxTensorData.ToInt64s(i, "x", "i"));
    }

    private static void Read(byte[] bytes)
    {
        var r = new ProtoReader(bytes, "x", "Test");
        while (r.TryReadKey(out _, out var wire))
        {
            r.ReadInt64(wire, "v");
        }
    }

    private static OnnxTensorProto Parse(byte[] bytes)
    {
        var r = new ProtoReader(bytes, "x", "TensorProto");
        return OnnxTensorProto.Parse(ref r);
    }
}
