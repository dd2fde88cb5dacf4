using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace RecurrentCore.Interop.Onnx;

/// <summary>
/// A protocol-buffer encoder into a growing buffer. Embedded messages are written by a callback into a nested
/// writer and copied in with their length, which is simple and fine for the small graphs ONNX export makes.
/// Fields are written in the order called; default values are written only when the caller asks.
/// </summary>
internal sealed class ProtoWriter
{
    private readonly ArrayBufferWriter<byte> _buffer = new();

    public byte[] ToArray() => _buffer.WrittenSpan.ToArray();

    public void WriteVarintField(int field, long value)
    {
        WriteKey(field, WireType.Varint);
        WriteVarint((ulong)value);
    }

    public void WriteFloatField(int field, float value)
    {
        WriteKey(field, WireType.Fixed32);
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteSingleLittleEndian(b, value);
        _buffer.Write<byte>(b);
    }

    public void WriteBytesField(int field, ReadOnlySpan<byte> value)
    {
        WriteKey(field, WireType.LengthDelimited);
        WriteVarint((ulong)value.Length);
        _buffer.Write(value);
    }

    public void WriteStringField(int field, string value) => WriteBytesField(field, Encoding.UTF8.GetBytes(value));

    /// <summary>Writes a repeated int64 field packed (proto3 style, accepted by every proto2 parser).</summary>
    public void WritePackedInt64(int field, IEnumerable<long> values)
    {
        var inner = new ProtoWriter();
        foreach (long v in values)
        {
            inner.WriteVarint((ulong)v);
        }

        WriteBytesField(field, inner._buffer.WrittenSpan);
    }

    /// <summary>Writes a repeated float field packed.</summary>
    public void WritePackedFloat(int field, IEnumerable<float> values)
    {
        var list = values.ToList();
        var bytes = new byte[list.Count * 4];
        for (int i = 0; i < list.Count; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), list[i]);
        }

        WriteBytesField(field, bytes);
    }

    public void WriteMessageField(int field, Action<ProtoWriter> write)
    {
        var inner = new ProtoWriter();
        write(inner);
        WriteBytesField(field, inner._buffer.WrittenSpan);
    }

    private void WriteKey(int field, WireType wire) => WriteVarint(((ulong)field << 3) | (ulong)wire);

    private void WriteVarint(ulong value)
    {
        while (value >= 0x80)
        {
            _buffer.Write([(byte)(value | 0x80)]);
            value >>= 7;
        }

        _buffer.Write([(byte)value]);
    }
}
