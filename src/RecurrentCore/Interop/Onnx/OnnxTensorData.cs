using System.Buffers.Binary;
using System.Globalization;

namespace RecurrentCore.Interop.Onnx;

/// <summary>Decodes TensorProto contents (raw_data or the typed repeated fields) with every count checked against dims.</summary>
internal static class OnnxTensorData
{
    /// <summary>The element count of <paramref name="dims"/>, or an error when a dimension is negative or the product overflows int.</summary>
    public static int ElementCount(IReadOnlyList<long> dims, string source, string what)
    {
        long count = 1;
        foreach (long dim in dims)
        {
            if (dim < 0)
            {
                throw InteropFormatException.Create(source, $"{what} has negative dimension {dim} in dims ({string.Join(", ", dims)})");
            }

            if (count != 0 && dim > Array.MaxLength / count)
            {
                throw InteropFormatException.Create(source, $"{what} declares dims ({string.Join(", ", dims)}), more elements than fit in memory");
            }

            count *= dim;
        }

        return (int)count;
    }

    /// <summary>The values of a float, double or float16 tensor widened to double; non-finite values are refused.</summary>
    public static double[] ToDoubles(OnnxTensorProto t, string source, string what)
    {
        CheckStorage(t, source, what);
        int count = ElementCount(t.Dims, source, what);
        var type = (OnnxDataType)t.DataType;
        double[] values = type switch
        {
            OnnxDataType.Float => t.RawData is { } raw
                ? Decode(raw, count, 4, source, what, b => (double)BinaryPrimitives.ReadSingleLittleEndian(b))
                : Typed(t.FloatData.Count, count, "float_data", source, what, i => (double)t.FloatData[i]),
            OnnxDataType.Double => t.RawData is { } raw
                ? Decode(raw, count, 8, source, what, b => BinaryPrimitives.ReadDoubleLittleEndian(b))
                : Typed(t.DoubleData.Count, count, "double_data", source, what, i => t.DoubleData[i]),
            OnnxDataType.Float16 => t.RawData is { } raw
                ? Decode(raw, count, 2, source, what, b => (double)BinaryPrimitives.ReadHalfLittleEndian(b))
                : Typed(t.Int32Data.Count, count, "int32_data", source, what, i => (double)BitConverter.UInt16BitsToHalf((ushort)t.Int32Data[i])),
            _ => throw InteropFormatException.Create(source, $"{what} has data_type {TypeName(t.DataType)}; expected float, double or float16"),
        };
        int bad = Array.FindIndex(values, v => !double.IsFinite(v));
        if (bad >= 0)
        {
            throw InteropFormatException.Create(source, $"{what} holds a non-finite value ({values[bad].ToString(CultureInfo.InvariantCulture)}) at flat index {bad}");
        }

        return values;
    }

    /// <summary>The values of an int32 or int64 tensor.</summary>
    public static long[] ToInt64s(OnnxTensorProto t, string source, string what)
    {
        CheckStorage(t, source, what);
        int count = ElementCount(t.Dims, source, what);
        return (OnnxDataType)t.DataType switch
        {
            OnnxDataType.Int64 => t.RawData is { } raw
                ? Decode(raw, count, 8, source, what, b => BinaryPrimitives.ReadInt64LittleEndian(b))
                : Typed(t.Int64Data.Count, count, "int64_data", source, what, i => t.Int64Data[i]),
            OnnxDataType.Int32 => t.RawData is { } raw
                ? Decode(raw, count, 4, source, what, b => (long)BinaryPrimitives.ReadInt32LittleEndian(b))
                : Typed(t.Int32Data.Count, count, "int32_data", source, what, i => t.Int32Data[i]),
            _ => throw InteropFormatException.Create(source, $"{what} has data_type {TypeName(t.DataType)}; expected int32 or int64"),
        };
    }

    /// <summary>The values of a bool tensor (raw_data one byte each, or int32_data).</summary>
    public static bool[] ToBools(OnnxTensorProto t, string source, string what)
    {
        CheckStorage(t, source, what);
        int count = ElementCount(t.Dims, source, what);
        return t.RawData is { } raw
            ? Decode(raw, count, 1, source, what, b => b[0] != 0)
            : Typed(t.Int32Data.Count, count, "int32_data", source, what, i => t.Int32Data[i] != 0);
    }

    public static string TypeName(int dataType) => dataType switch
    {
        1 => "float",
        2 => "uint8",
        3 => "int8",
        4 => "uint16",
        5 => "int16",
        6 => "int32",
        7 => "int64",
        8 => "string",
        9 => "bool",
        10 => "float16",
        11 => "double",
        12 => "uint32",
        13 => "uint64",
        14 => "complex64",
        15 => "complex128",
        16 => "bfloat16",
        _ => $"unknown ({dataType.ToString(CultureInfo.InvariantCulture)})",
    };

    private static void CheckStorage(OnnxTensorProto t, string source, string what)
    {
        if (t.IsExternal)
        {
            throw InteropFormatException.Create(source, $"{what} stores its data externally (data_location=EXTERNAL); only embedded tensors are supported");
        }

        if (t.HasSegment)
        {
            throw InteropFormatException.Create(source, $"{what} is a segment of a larger tensor; segmented tensors are not supported");
        }
    }

    private delegate T ReadElement<T>(ReadOnlySpan<byte> bytes);

    private static T[] Decode<T>(byte[] raw, int count, int size, string source, string what, ReadElement<T> read)
    {
        if ((long)count * size != raw.Length)
        {
            throw InteropFormatException.Create(source, $"{what} has {raw.Length} bytes of raw_data but its dims need {count} × {size} = {(long)count * size}");
        }

        var result = new T[count];
        for (int i = 0; i < count; i++)
        {
            result[i] = read(raw.AsSpan(i * size, size));
        }

        return result;
    }

    private static T[] Typed<T>(int have, int count, string field, string source, string what, Func<int, T> get)
    {
        if (have != count)
        {
            throw InteropFormatException.Create(source, $"{what} has {have} values in {field} but its dims need {count}");
        }

        var result = new T[count];
        for (int i = 0; i < count; i++)
        {
            result[i] = get(i);
        }

        return result;
    }
}
