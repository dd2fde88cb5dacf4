using System.Runtime.InteropServices;

namespace RecurrentCore.Interop.Onnx;

/// <summary>
/// A caller's buffer for <see cref="OnnxRunner.Run(ReadOnlySpan{OnnxBuffer}, ReadOnlySpan{OnnxBuffer})"/>: float32,
/// float64, int32 or int64 memory, row-major. Wrapping an array or a <see cref="Memory{T}"/> allocates nothing; the
/// default value is "no buffer" (an output not wanted).
/// </summary>
public readonly struct OnnxBuffer
{
    private readonly Memory<float> _f32;
    private readonly Memory<double> _f64;
    private readonly Memory<int> _i32;
    private readonly Memory<long> _i64;

    private OnnxBuffer(OnnxBufferKind kind, Memory<float> f32 = default, Memory<double> f64 = default, Memory<int> i32 = default, Memory<long> i64 = default)
    {
        Kind = kind;
        _f32 = f32;
        _f64 = f64;
        _i32 = i32;
        _i64 = i64;
    }

    /// <summary>What the buffer holds (<see cref="OnnxBufferKind.None"/> for the default value).</summary>
    public OnnxBufferKind Kind { get; }

    /// <summary>The number of elements.</summary>
    public int Length => Kind switch
    {
        OnnxBufferKind.F32 => _f32.Length,
        OnnxBufferKind.F64 => _f64.Length,
        OnnxBufferKind.I32 => _i32.Length,
        OnnxBufferKind.I64 => _i64.Length,
        _ => 0,
    };

    /// <summary>float32 memory.</summary>
    public static implicit operator OnnxBuffer(Memory<float> data) => new(OnnxBufferKind.F32, f32: data);

    /// <summary>float64 memory.</summary>
    public static implicit operator OnnxBuffer(Memory<double> data) => new(OnnxBufferKind.F64, f64: data);

    /// <summary>int32 memory.</summary>
    public static implicit operator OnnxBuffer(Memory<int> data) => new(OnnxBufferKind.I32, i32: data);

    /// <summary>int64 memory.</summary>
    public static implicit operator OnnxBuffer(Memory<long> data) => new(OnnxBufferKind.I64, i64: data);

    /// <summary>A float32 array.</summary>
    public static implicit operator OnnxBuffer(float[] data) => new(OnnxBufferKind.F32, f32: data);

    /// <summary>A float64 array.</summary>
    public static implicit operator OnnxBuffer(double[] data) => new(OnnxBufferKind.F64, f64: data);

    /// <summary>An int32 array.</summary>
    public static implicit operator OnnxBuffer(int[] data) => new(OnnxBufferKind.I32, i32: data);

    /// <summary>An int64 array.</summary>
    public static implicit operator OnnxBuffer(long[] data) => new(OnnxBufferKind.I64, i64: data);

    /// <summary>Read-only float32 memory, for an input (the runner never writes an input).</summary>
    public static OnnxBuffer FromReadOnly(ReadOnlyMemory<float> data) => new(OnnxBufferKind.F32, f32: MemoryMarshal.AsMemory(data));

    /// <summary>Read-only int32 memory, for an input (the runner never writes an input).</summary>
    public static OnnxBuffer FromReadOnly(ReadOnlyMemory<int> data) => new(OnnxBufferKind.I32, i32: MemoryMarshal.AsMemory(data));

    /// <summary>The values as double (exact for every kind up to 2^53).</summary>
    internal void Read(Span<double> destination)
    {
        switch (Kind)
        {
            case OnnxBufferKind.F32:
                var f = _f32.Span;
                for (int j = 0; j < destination.Length; j++)
                {
                    destination[j] = f[j];
                }

                break;
            case OnnxBufferKind.F64:
                _f64.Span[..destination.Length].CopyTo(destination);
                break;
            case OnnxBufferKind.I32:
                var i = _i32.Span;
                for (int j = 0; j < destination.Length; j++)
                {
                    destination[j] = i[j];
                }

                break;
            case OnnxBufferKind.I64:
                var l = _i64.Span;
                for (int j = 0; j < destination.Length; j++)
                {
                    destination[j] = l[j];
                }

                break;
        }
    }

    /// <summary>Writes <paramref name="source"/>, rounded to float32 or truncated to an integer as the kind asks.</summary>
    internal void Write(ReadOnlySpan<double> source)
    {
        switch (Kind)
        {
            case OnnxBufferKind.F32:
                var f = _f32.Span;
                for (int j = 0; j < source.Length; j++)
                {
                    f[j] = (float)source[j];
                }

                break;
            case OnnxBufferKind.F64:
                source.CopyTo(_f64.Span);
                break;
            case OnnxBufferKind.I32:
                var i = _i32.Span;
                for (int j = 0; j < source.Length; j++)
                {
                    i[j] = (int)source[j];
                }

                break;
            case OnnxBufferKind.I64:
                var l = _i64.Span;
                for (int j = 0; j < source.Length; j++)
                {
                    l[j] = (long)source[j];
                }

                break;
        }
    }
}

/// <summary>What an <see cref="OnnxBuffer"/> holds.</summary>
public enum OnnxBufferKind
{
    /// <summary>No buffer (the default value).</summary>
    None,

    /// <summary>float32.</summary>
    F32,

    /// <summary>float64.</summary>
    F64,

    /// <summary>int32.</summary>
    I32,

    /// <summary>int64.</summary>
    I64,
}
