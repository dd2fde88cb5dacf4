using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using RecurrentCore.Kernels.Quantized;

namespace RecurrentCore.Cells;

/// <summary>
/// One weight matrix (N × K, PyTorch layout) in a <see cref="WeightFormat"/>, in pinned storage so a step reaches it by
/// pointer: float32 row-major unpadded; bfloat16 and int8 with rows padded with zeros to <see cref="Stride"/> (a multiple
/// of 64), so their kernels need no column tail; int8 with a float32 scale and the integer sum of each row.
/// </summary>
internal sealed unsafe class QuantizedMatrix
{
    private readonly float[] _f32 = [];
    private readonly ushort[] _bf16 = [];
    private readonly sbyte[] _i8 = [];
    private readonly int[] _rowSums = [];
    private readonly float[] _scales = [];
    private ColumnPacking? _columns;

    public QuantizedMatrix(ReadOnlySpan<float> w, int rows, int columns, WeightFormat format)
    {
        Rows = rows;
        Columns = columns;
        Format = format;
        Stride = format == WeightFormat.Float32 ? columns : PadTo64(columns);
        switch (format)
        {
            case WeightFormat.Float32:
                _f32 = GC.AllocateArray<float>(Math.Max(1, rows * columns), pinned: true);
                w[..(rows * columns)].CopyTo(_f32);
                break;
            case WeightFormat.BFloat16:
                _bf16 = GC.AllocateArray<ushort>(Math.Max(1, rows * Stride), pinned: true);
                for (int r = 0; r < rows; r++)
                {
                    for (int c = 0; c < columns; c++)
                    {
                        _bf16[(r * Stride) + c] = BFloat16.FromSingle(w[(r * columns) + c]);
                    }
                }

                break;
            case WeightFormat.Int8:
                _i8 = GC.AllocateArray<sbyte>(Math.Max(1, rows * Stride), pinned: true);
                _rowSums = GC.AllocateArray<int>(Math.Max(1, rows), pinned: true);
                _scales = GC.AllocateArray<float>(Math.Max(1, rows), pinned: true);
                for (int r = 0; r < rows; r++)
                {
                    var row = w.Slice(r * columns, columns);
                    float s = Int8Quantizer.Scale(row);
                    int sum = 0;
                    for (int c = 0; c < columns; c++)
                    {
                        int q = Int8Quantizer.Quantize(row[c], s);
                        _i8[(r * Stride) + c] = (sbyte)q;
                        sum += q;
                    }

                    _scales[r] = s;
                    _rowSums[r] = sum;
                }

                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(format));
        }
    }

    /// <summary>
    /// An int8 matrix from stored values: <paramref name="q"/> (N × K row-major, each in [−127, 127]) and one scale per
    /// row, taken as they are (a file's contents), so the products are those of the layer that wrote them. No checks.
    /// </summary>
    internal QuantizedMatrix(ReadOnlySpan<sbyte> q, ReadOnlySpan<float> scales, int rows, int columns)
    {
        Rows = rows;
        Columns = columns;
        Format = WeightFormat.Int8;
        Stride = PadTo64(columns);
        _i8 = GC.AllocateArray<sbyte>(Math.Max(1, rows * Stride), pinned: true);
        _rowSums = GC.AllocateArray<int>(Math.Max(1, rows), pinned: true);
        _scales = GC.AllocateArray<float>(Math.Max(1, rows), pinned: true);
        for (int r = 0; r < rows; r++)
        {
            int sum = 0;
            for (int c = 0; c < columns; c++)
            {
                sbyte v = q[(r * columns) + c];
                _i8[(r * Stride) + c] = v;
                sum += v;
            }

            _scales[r] = scales[r];
            _rowSums[r] = sum;
        }
    }

    public int Rows { get; }

    public int Columns { get; }

    /// <summary>Elements between rows in storage; the length of the padded input a bf16/int8 product reads.</summary>
    public int Stride { get; }

    public WeightFormat Format { get; }

    public float* Float32 => Pointer(_f32);

    public ushort* BFloat16Bits => Pointer(_bf16);

    public sbyte* Int8 => Pointer(_i8);

    public int* RowSums => Pointer(_rowSums);

    public float* Scales => Pointer(_scales);

    /// <summary>Bytes the weights occupy (what one product streams).</summary>
    public long Bytes => (long)Rows * Stride * Format.BytesPerWeight();

    /// <summary>
    /// The int8 weights in <see cref="ColumnCellLayout"/> (four columns per lane) for a width of <paramref name="lanes"/> lanes (pinned), packed
    /// at the first request (a stream's creation) and kept; a matrix serves one kernel variant.
    /// </summary>
    public sbyte* Int8Columns(int lanes) => (sbyte*)PackedColumns(lanes, 4, _i8);

    /// <summary>The bfloat16 weights in <see cref="ColumnCellLayout"/> (two columns per lane), as <see cref="Int8Columns"/>.</summary>
    public ushort* BFloat16Columns(int lanes) => (ushort*)PackedColumns(lanes, 2, _bf16);

    /// <summary>The int8 weights (row r at r·Stride), for tests.</summary>
    internal ReadOnlySpan<sbyte> Int8Values => _i8;

    /// <summary>The weights as the kernels multiply by them, N × K row-major, exactly (each is a float32 or q·s).</summary>
    public double[] Dequantize()
    {
        var d = new double[Rows * Columns];
        for (int r = 0; r < Rows; r++)
        {
            for (int c = 0; c < Columns; c++)
            {
                d[(r * Columns) + c] = Format switch
                {
                    WeightFormat.Float32 => _f32[(r * Columns) + c],
                    WeightFormat.BFloat16 => BFloat16.ToSingle(_bf16[(r * Stride) + c]),
                    _ => (double)_i8[(r * Stride) + c] * _scales[r],
                };
            }
        }

        return d;
    }

    /// <summary>The smallest multiple of 64 that is at least <paramref name="n"/> (and at least 64).</summary>
    public static int PadTo64(int n) => Math.Max(64, (n + 63) & ~63);

    private static T* Pointer<T>(T[] a)
        where T : unmanaged => (T*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(a));

    private void* PackedColumns<T>(int lanes, int perLane, T[] rowMajor)
        where T : unmanaged
    {
        var packed = _columns;
        if (packed is null || packed.Lanes != lanes)
        {
            // Two streams made at once may both pack; either copy is the same, and the reference is published whole.
            var cells = GC.AllocateArray<T>((int)Math.Max(1, ColumnCellLayout.Elements(Rows, Columns, lanes, perLane)), pinned: true);
            ColumnCellLayout.Pack<T>(rowMajor, Rows, Columns, Stride, lanes, perLane, cells);
            packed = new ColumnPacking(cells, lanes);
            _columns = packed;
        }

        return Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(packed.Cells));
    }

    private sealed record ColumnPacking(Array Cells, int Lanes);
}
