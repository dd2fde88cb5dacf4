using System.Buffers.Binary;
using System.Text;

namespace RecurrentCore.Interop.Onnx;

/// <summary>Protocol-buffer wire types (the low three bits of a field key).</summary>
internal enum WireType
{
    Varint = 0,
    Fixed64 = 1,
    LengthDelimited = 2,
    StartGroup = 3,
    EndGroup = 4,
    Fixed32 = 5,
}

/// <summary>
/// A bounds-checked protocol-buffer decoder over one message's bytes. Every length is checked against the bytes
/// that remain before anything is sliced or allocated, so truncated or hostile input fails with an
/// <see cref="InteropFormatException"/> naming the source, the message being read and the byte offset.
/// </summary>
internal ref struct ProtoReader
{
    private readonly ReadOnlySpan<byte> _data;
    private readonly string _source;
    private readonly string _message;
    private readonly long _baseOffset; // offset of _data[0] in the file, for messages
    private int _pos;

    public ProtoReader(ReadOnlySpan<byte> data, string source, string message, long baseOffset = 0)
    {
        _data = data;
        _source = source;
        _message = message;
        _baseOffset = baseOffset;
        _pos = 0;
    }

    /// <summary>The file offset of the next byte to read.</summary>
    public readonly long Offset => _baseOffset + _pos;

    public readonly string Source => _source;

    /// <summary>Reads the next field key; false at the end of the message.</summary>
    public bool TryReadKey(out int field, out WireType wire)
    {
        if (_pos >= _data.Length)
        {
            field = 0;
            wire = default;
            return false;
        }

        long at = Offset;
        ulong key = ReadVarint();
        wire = (WireType)(key & 7);
        ulong number = key >> 3;
        if (number == 0 || number > 536_870_911)
        {
            throw Error(at, $"invalid field number {number}");
        }

        if ((int)wire is 6 or 7)
        {
            throw Error(at, $"field {number} has invalid wire type {(int)wire}");
        }

        field = (int)number;
        return true;
    }

    /// <summary>Reads a base-128 varint of at most 10 bytes.</summary>
    public ulong ReadVarint()
    {
        long at = Offset;
        ulong result = 0;
        for (int shift = 0; shift < 70; shift += 7)
        {
            if (_pos >= _data.Length)
            {
                throw Error(at, "truncated varint");
            }

            byte b = _data[_pos++];
            if (shift == 63 && b > 1)
            {
                throw Error(at, "varint overflows 64 bits");
            }

            result |= (ulong)(b & 0x7f) << shift;
            if (b < 0x80)
            {
                return result;
            }
        }

        throw Error(at, "varint longer than 10 bytes");
    }

    /// <summary>An int64 field (two's complement in a varint).</summary>
    public long ReadInt64(WireType wire, string name)
    {
        Expect(wire, WireType.Varint, name);
        return (long)ReadVarint();
    }

    /// <summary>An int32 or enum field; values outside int32 are an error.</summary>
    public int ReadInt32(WireType wire, string name)
    {
        long at = Offset;
        long v = ReadInt64(wire, name);
        if (v is < int.MinValue or > int.MaxValue)
        {
            throw Error(at, $"field '{name}' value {v} does not fit in int32");
        }

        return (int)v;
    }

    public float ReadFloat(WireType wire, string name)
    {
        Expect(wire, WireType.Fixed32, name);
        return BinaryPrimitives.ReadSingleLittleEndian(Take(4, name));
    }

    /// <summary>The payload of a length-delimited field.</summary>
    public ReadOnlySpan<byte> ReadBytes(WireType wire, string name, out long payloadOffset)
    {
        Expect(wire, WireType.LengthDelimited, name);
        long at = Offset;
        ulong length = ReadVarint();
        int left = _data.Length - _pos;
        if (length > (ulong)left)
        {
            throw Error(at, $"field '{name}' declares {length} bytes but only {left} remain");
        }

        payloadOffset = Offset;
        return Take((int)length, name);
    }

    public ReadOnlySpan<byte> ReadBytes(WireType wire, string name) => ReadBytes(wire, name, out _);

    /// <summary>A UTF-8 string field; invalid UTF-8 is an error.</summary>
    public string ReadString(WireType wire, string name)
    {
        long at = Offset;
        var bytes = ReadBytes(wire, name);
        try
        {
            return Strict.GetString(bytes);
        }
        catch (DecoderFallbackException e)
        {
            throw Error(at, $"field '{name}' is not valid UTF-8", e);
        }
    }

    /// <summary>A reader over an embedded message field.</summary>
    public ProtoReader ReadMessage(WireType wire, string name, string messageName)
    {
        var payload = ReadBytes(wire, name, out long offset);
        return new ProtoReader(payload, _source, messageName, offset);
    }

    /// <summary>Appends a repeated int64 field, packed or not.</summary>
    public void ReadRepeatedInt64(WireType wire, string name, List<long> values)
    {
        if (wire == WireType.Varint)
        {
            values.Add((long)ReadVarint());
            return;
        }

        var packed = new ProtoReader(ReadBytes(wire, name, out long offset), _source, _message, offset);
        while (packed._pos < packed._data.Length)
        {
            values.Add((long)packed.ReadVarint());
        }
    }

    /// <summary>Appends a repeated fixed32 float field, packed or not.</summary>
    public void ReadRepeatedFloat(WireType wire, string name, List<float> values)
    {
        if (wire == WireType.Fixed32)
        {
            values.Add(ReadFloat(wire, name));
            return;
        }

        long at = Offset;
        var bytes = ReadBytes(wire, name);
        if (bytes.Length % 4 != 0)
        {
            throw Error(at, $"packed field '{name}' has {bytes.Length} bytes, not a multiple of 4");
        }

        for (int i = 0; i < bytes.Length; i += 4)
        {
            values.Add(BinaryPrimitives.ReadSingleLittleEndian(bytes[i..]));
        }
    }

    /// <summary>Appends a repeated fixed64 double field, packed or not.</summary>
    public void ReadRepeatedDouble(WireType wire, string name, List<double> values)
    {
        if (wire == WireType.Fixed64)
        {
            values.Add(BinaryPrimitives.ReadDoubleLittleEndian(Take(8, name)));
            return;
        }

        long at = Offset;
        var bytes = ReadBytes(wire, name);
        if (bytes.Length % 8 != 0)
        {
            throw Error(at, $"packed field '{name}' has {bytes.Length} bytes, not a multiple of 8");
        }

        for (int i = 0; i < bytes.Length; i += 8)
        {
            values.Add(BinaryPrimitives.ReadDoubleLittleEndian(bytes[i..]));
        }
    }

    /// <summary>Skips a field this decoder does not need. Groups (deprecated, unused by ONNX) are an error.</summary>
    public void Skip(int field, WireType wire)
    {
        long at = Offset;
        switch (wire)
        {
            case WireType.Varint:
                ReadVarint();
                break;
            case WireType.Fixed64:
                Take(8, $"field {field}");
                break;
            case WireType.Fixed32:
                Take(4, $"field {field}");
                break;
            case WireType.LengthDelimited:
                ReadBytes(wire, $"field {field}");
                break;
            default:
                throw Error(at, $"field {field} uses the unsupported group wire type {(int)wire}");
        }
    }

    public readonly InteropFormatException Error(long offset, string problem, Exception? inner = null) =>
        InteropFormatException.Create(_source, $"malformed protobuf in {_message} at byte {offset}: {problem}", inner);

    private readonly void Expect(WireType actual, WireType expected, string name)
    {
        if (actual != expected)
        {
            throw Error(Offset, $"field '{name}' has wire type {(int)actual} ({actual}), expected {(int)expected} ({expected})");
        }
    }

    private ReadOnlySpan<byte> Take(int count, string name)
    {
        if (_data.Length - _pos < count)
        {
            throw Error(Offset, $"field '{name}' needs {count} bytes but only {_data.Length - _pos} remain");
        }

        var slice = _data.Slice(_pos, count);
        _pos += count;
        return slice;
    }

    private static readonly UTF8Encoding Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
}
