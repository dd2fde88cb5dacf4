using System.Globalization;

namespace RecurrentCore.Interop.Onnx;

/// <summary>The ONNX element types an <see cref="OnnxTensor"/> carries (TensorProto.DataType values).</summary>
public enum OnnxElementType
{
    /// <summary>float32.</summary>
    F32 = 1,

    /// <summary>int32.</summary>
    I32 = 6,

    /// <summary>int64.</summary>
    I64 = 7,

    /// <summary>bool.</summary>
    Bool = 9,

    /// <summary>float16.</summary>
    F16 = 10,

    /// <summary>float64.</summary>
    F64 = 11,
}

/// <summary>
/// A dense tensor as <see cref="OnnxSession"/> passes it: an element type, a shape and row-major values held as double
/// (integers exactly up to 2^53, which covers every shape, index and length).
/// </summary>
public sealed class OnnxTensor
{
    /// <summary>Creates a tensor; <paramref name="data"/> is not copied.</summary>
    /// <exception cref="ArgumentException">The data length is not the product of the shape, or a dimension is negative.</exception>
    public OnnxTensor(OnnxElementType elementType, int[] shape, double[] data)
    {
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(data);
        long count = 1;
        foreach (int d in shape)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(d, nameof(shape));
            count *= d;
            if (count > Array.MaxLength)
            {
                throw new ArgumentException($"shape ({string.Join(", ", shape)}) has more elements than fit in memory", nameof(shape));
            }
        }

        if (count != data.Length)
        {
            throw new ArgumentException($"data has {data.Length} values but shape ({string.Join(", ", shape)}) needs {count}", nameof(data));
        }

        ElementType = elementType;
        Shape = shape;
        Data = data;
    }

    /// <summary>The element type.</summary>
    public OnnxElementType ElementType { get; }

    /// <summary>The dimensions.</summary>
    public int[] Shape { get; }

    /// <summary>The values, row-major.</summary>
    public double[] Data { get; }

    /// <summary>The rank.</summary>
    public int Rank => Shape.Length;

    /// <summary>A float tensor.</summary>
    public static OnnxTensor FromFloats(double[] data, params int[] shape) => new(OnnxElementType.F32, shape, data);

    /// <summary>A double tensor.</summary>
    public static OnnxTensor FromDoubles(double[] data, params int[] shape) => new(OnnxElementType.F64, shape, data);

    /// <summary>An int64 tensor.</summary>
    public static OnnxTensor FromInt64s(long[] data, params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(data);
        return new(OnnxElementType.I64, shape, [.. data.Select(v => (double)v)]);
    }

    /// <summary>An int32 tensor.</summary>
    public static OnnxTensor FromInt32s(int[] data, params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(data);
        return new(OnnxElementType.I32, shape, [.. data.Select(v => (double)v)]);
    }

    /// <summary>Whether the element type is an integer or bool type.</summary>
    public bool IsInteger => ElementType is OnnxElementType.I32 or OnnxElementType.I64 or OnnxElementType.Bool;

    /// <summary>"float (2, 3)".</summary>
    public override string ToString() => $"{OnnxTensorData.TypeName((int)ElementType)} ({string.Join(", ", Shape.Select(d => d.ToString(CultureInfo.InvariantCulture)))})";

    internal long Count => Data.Length;

    /// <summary>A value as an index, saturating at ±2^62 (torch writes INT64_MAX for "to the end").</summary>
    internal long Index(int i)
    {
        double v = Data[i];
        return v >= 4.6e18 ? 1L << 62 : v <= -4.6e18 ? -(1L << 62) : (long)v;
    }

    internal long[] Indices() => [.. Enumerable.Range(0, Data.Length).Select(Index)];
}
