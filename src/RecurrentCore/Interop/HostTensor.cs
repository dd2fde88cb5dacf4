using System.Buffers.Binary;
using System.Collections.ObjectModel;
using System.Runtime.InteropServices;

namespace RecurrentCore.Interop;

/// <summary>
/// A dense, row-major (C order) tensor held in host memory as little-endian raw bytes:
/// <c>Bytes.Length == ElementCount * sizeof(DType)</c>, <c>ElementCount == Π Shape[i]</c> (1 for rank 0).
/// The bytes are a private copy, so the tensor never changes after construction.
/// </summary>
public sealed class HostTensor
{
    private readonly byte[] _bytes;

    /// <summary>
    /// Creates a tensor from a copy of <paramref name="bytes"/>.
    /// </summary>
    /// <param name="dtype">Element type.</param>
    /// <param name="shape">Dimensions, outermost first; empty for a scalar; zeros allowed.</param>
    /// <param name="bytes">Little-endian element bytes in row-major order.</param>
    /// <exception cref="ArgumentException">A dimension is negative, the element count overflows, or
    /// <c>bytes.Length != ElementCount * sizeof(dtype)</c>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="dtype"/> is not a defined value.</exception>
    public HostTensor(TensorDType dtype, ReadOnlySpan<int> shape, ReadOnlySpan<byte> bytes)
        : this(dtype, shape, bytes.ToArray(), validated: false)
    {
    }

    private HostTensor(TensorDType dtype, ReadOnlySpan<int> shape, byte[] ownedBytes, bool validated)
    {
        int size = TensorDTypeInfo.SizeOf(dtype);
        if (!TensorDTypeInfo.TryGetElementCount(shape, out long count))
        {
            throw new ArgumentException("Shape has a negative dimension or its element count overflows.", nameof(shape));
        }

        if (!validated && (count > long.MaxValue / size || count * size != ownedBytes.LongLength))
        {
            throw new ArgumentException(
                $"Shape {TensorDTypeInfo.FormatShape(shape.ToArray())} of {dtype} needs {count} * {size} bytes but {ownedBytes.Length} were given.",
                nameof(shape));
        }

        DType = dtype;
        Shape = new ReadOnlyCollection<int>(shape.ToArray());
        ElementCount = count;
        _bytes = ownedBytes;
    }

    /// <summary>Element type.</summary>
    public TensorDType DType { get; }

    /// <summary>Dimensions, outermost first; empty for a scalar.</summary>
    public IReadOnlyList<int> Shape { get; }

    /// <summary>Number of elements: the product of <see cref="Shape"/> (1 for a scalar, 0 if any dimension is 0).</summary>
    public long ElementCount { get; }

    /// <summary>Little-endian element bytes, row-major; length <c>ElementCount * sizeof(DType)</c>.</summary>
    public ReadOnlyMemory<byte> Bytes => _bytes;

    /// <summary>Wraps bytes a reader has already checked against the shape; takes ownership of the array.</summary>
    internal static HostTensor FromValidatedBytes(TensorDType dtype, ReadOnlySpan<int> shape, byte[] bytes) =>
        new(dtype, shape, bytes, validated: true);

    /// <summary>Creates an F32 tensor from a copy of <paramref name="data"/>.</summary>
    /// <exception cref="ArgumentException"><c>data.Length</c> differs from the product of <paramref name="shape"/>,
    /// or a dimension is negative.</exception>
    public static HostTensor FromSingle(ReadOnlySpan<int> shape, ReadOnlySpan<float> data)
    {
        var bytes = new byte[checked(data.Length * sizeof(float))];
        for (int i = 0; i < data.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * sizeof(float)), data[i]);
        }

        return new HostTensor(TensorDType.F32, shape, bytes, validated: false);
    }

    /// <summary>Creates an F64 tensor from a copy of <paramref name="data"/>.</summary>
    /// <exception cref="ArgumentException"><c>data.Length</c> differs from the product of <paramref name="shape"/>,
    /// or a dimension is negative.</exception>
    public static HostTensor FromDouble(ReadOnlySpan<int> shape, ReadOnlySpan<double> data)
    {
        var bytes = new byte[checked(data.Length * sizeof(double))];
        for (int i = 0; i < data.Length; i++)
        {
            BinaryPrimitives.WriteDoubleLittleEndian(bytes.AsSpan(i * sizeof(double)), data[i]);
        }

        return new HostTensor(TensorDType.F64, shape, bytes, validated: false);
    }

    /// <summary>Creates an I64 tensor from a copy of <paramref name="data"/>.</summary>
    /// <exception cref="ArgumentException"><c>data.Length</c> differs from the product of <paramref name="shape"/>,
    /// or a dimension is negative.</exception>
    public static HostTensor FromInt64(ReadOnlySpan<int> shape, ReadOnlySpan<long> data)
    {
        var bytes = new byte[checked(data.Length * sizeof(long))];
        for (int i = 0; i < data.Length; i++)
        {
            BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(i * sizeof(long)), data[i]);
        }

        return new HostTensor(TensorDType.I64, shape, bytes, validated: false);
    }

    /// <summary>
    /// The elements as <see cref="float"/>: F32 as is, F64 rounded to nearest, BF16 exactly (its bits are the upper
    /// half of a binary32), F16 widened exactly via <see cref="Half"/>, integers converted (large I64/I32 round).
    /// </summary>
    /// <exception cref="InteropFormatException">An F64 value is finite but beyond float32's range (|v| rounds past
    /// <see cref="float.MaxValue"/>): narrowing would silently make it ±∞; the message gives its flat index.</exception>
    public float[] ToSingle() => ToSingle("<tensor>");

    /// <summary>As <see cref="ToSingle()"/>, naming the tensor <paramref name="sourceName"/> in the error.</summary>
    /// <exception cref="InteropFormatException">An F64 value is finite but beyond float32's range; the message names
    /// <paramref name="sourceName"/> and the flat index.</exception>
    public float[] ToSingle(string sourceName)
    {
        ArgumentNullException.ThrowIfNull(sourceName);
        if (DType == TensorDType.F32 && BitConverter.IsLittleEndian)
        {
            return MemoryMarshal.Cast<byte, float>(_bytes).ToArray();
        }

        var result = new float[ElementCount];
        ReadOnlySpan<byte> b = _bytes;
        for (int i = 0; i < result.Length; i++)
        {
            result[i] = DType switch
            {
                TensorDType.F32 => BinaryPrimitives.ReadSingleLittleEndian(b[(i * 4)..]),
                TensorDType.F64 => NarrowChecked(BinaryPrimitives.ReadDoubleLittleEndian(b[(i * 8)..]), i, sourceName),
                TensorDType.BF16 => BFloat16ToSingle(BinaryPrimitives.ReadUInt16LittleEndian(b[(i * 2)..])),
                TensorDType.F16 => (float)BinaryPrimitives.ReadHalfLittleEndian(b[(i * 2)..]),
                TensorDType.I64 => BinaryPrimitives.ReadInt64LittleEndian(b[(i * 8)..]),
                TensorDType.I32 => BinaryPrimitives.ReadInt32LittleEndian(b[(i * 4)..]),
                TensorDType.U8 => b[i],
                TensorDType.I8 => (sbyte)b[i],
                _ => throw new InvalidOperationException("Unknown dtype."),
            };
        }

        return result;
    }

    /// <summary>(float)<paramref name="value"/>, refusing a finite double that rounds to ±∞ in float32.</summary>
    /// <exception cref="InteropFormatException">The value is finite and beyond float32's range.</exception>
    internal static float NarrowChecked(double value, long index, string sourceName)
    {
        float narrowed = (float)value;
        if (BeyondFloat32(value, narrowed, $"flat index {index}") is { } why)
        {
            throw InteropFormatException.Create(sourceName, why);
        }

        return narrowed;
    }

    /// <summary>
    /// Why <paramref name="value"/> (at <paramref name="where"/>) cannot be narrowed to <paramref name="narrowed"/>: a
    /// finite double that rounds to ±∞ in float32; null when it can.
    /// </summary>
    internal static string? BeyondFloat32(double value, float narrowed, string where) =>
        float.IsInfinity(narrowed) && double.IsFinite(value)
            ? $"value {value.ToString("R", System.Globalization.CultureInfo.InvariantCulture)} at {where} is beyond float32's range (±{float.MaxValue.ToString("R", System.Globalization.CultureInfo.InvariantCulture)}) and would become infinite"
            : null;

    /// <summary>
    /// The elements as <see cref="double"/>: every floating dtype widens exactly; I32, U8 and I8 exactly; I64 rounds
    /// beyond 2^53.
    /// </summary>
    public double[] ToDouble()
    {
        if (DType == TensorDType.F64 && BitConverter.IsLittleEndian)
        {
            return MemoryMarshal.Cast<byte, double>(_bytes).ToArray();
        }

        var result = new double[ElementCount];
        ReadOnlySpan<byte> b = _bytes;
        for (int i = 0; i < result.Length; i++)
        {
            result[i] = DType switch
            {
                TensorDType.F32 => BinaryPrimitives.ReadSingleLittleEndian(b[(i * 4)..]),
                TensorDType.F64 => BinaryPrimitives.ReadDoubleLittleEndian(b[(i * 8)..]),
                TensorDType.BF16 => BFloat16ToSingle(BinaryPrimitives.ReadUInt16LittleEndian(b[(i * 2)..])),
                TensorDType.F16 => (double)BinaryPrimitives.ReadHalfLittleEndian(b[(i * 2)..]),
                TensorDType.I64 => BinaryPrimitives.ReadInt64LittleEndian(b[(i * 8)..]),
                TensorDType.I32 => BinaryPrimitives.ReadInt32LittleEndian(b[(i * 4)..]),
                TensorDType.U8 => b[i],
                TensorDType.I8 => (sbyte)b[i],
                _ => throw new InvalidOperationException("Unknown dtype."),
            };
        }

        return result;
    }

    /// <summary>The elements as <see cref="long"/>, from I64, I32, U8 or I8 (exact).</summary>
    /// <exception cref="InteropFormatException">The dtype is floating point; values would be truncated.</exception>
    public long[] ToInt64()
    {
        if (TensorDTypeInfo.IsFloatingPoint(DType))
        {
            throw InteropFormatException.Create(
                "<tensor>", $"cannot convert a {DType} tensor to Int64: it is floating point and would be truncated");
        }

        if (DType == TensorDType.I64 && BitConverter.IsLittleEndian)
        {
            return MemoryMarshal.Cast<byte, long>(_bytes).ToArray();
        }

        var result = new long[ElementCount];
        ReadOnlySpan<byte> b = _bytes;
        for (int i = 0; i < result.Length; i++)
        {
            result[i] = DType switch
            {
                TensorDType.I64 => BinaryPrimitives.ReadInt64LittleEndian(b[(i * 8)..]),
                TensorDType.I32 => BinaryPrimitives.ReadInt32LittleEndian(b[(i * 4)..]),
                TensorDType.I8 => (sbyte)b[i],
                _ => b[i],
            };
        }

        return result;
    }

    /// <summary>Widens a bfloat16 bit pattern exactly: the 16 bits become the upper half of a binary32.</summary>
    internal static float BFloat16ToSingle(ushort bits) => BitConverter.Int32BitsToSingle(bits << 16);
}
