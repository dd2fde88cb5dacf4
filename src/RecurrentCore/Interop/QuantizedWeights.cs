namespace RecurrentCore.Interop;

/// <summary>
/// One weight matrix (N × K, PyTorch layout, row-major, unpadded) exactly as a quantized layer computes with it: float32
/// values, bfloat16 bits, or int8 values in [−127, 127] with one float32 scale per row (w = q·s). What the file readers
/// and writers exchange with <c>Layers.QuantizedLayer</c>, which owns the padded kernel layout.
/// </summary>
internal sealed record QuantizedMatrixData(WeightFormat Format, int Rows, int Columns, float[] Float32, ushort[] BFloat16, sbyte[] Int8, float[] Scales)
{
    public static QuantizedMatrixData FromFloat32(int rows, int columns, float[] values) => new(WeightFormat.Float32, rows, columns, values, [], [], []);

    public static QuantizedMatrixData FromBFloat16(int rows, int columns, ushort[] bits) => new(WeightFormat.BFloat16, rows, columns, [], bits, [], []);

    public static QuantizedMatrixData FromInt8(int rows, int columns, sbyte[] values, float[] scales) => new(WeightFormat.Int8, rows, columns, [], [], values, scales);
}

/// <summary>One layer of a quantized stack: W_ih, W_hh and the float32 biases b_ih, b_hh (empty without bias).</summary>
internal sealed record QuantizedLayerData(QuantizedMatrixData Ih, QuantizedMatrixData Hh, float[] BiasIh, float[] BiasHh);

/// <summary>A unidirectional quantized layer stack: its configuration, its one weight format and its layers (bottom first).</summary>
internal sealed record QuantizedStackData(RecurrentConfig Config, WeightFormat Format, IReadOnlyList<QuantizedLayerData> Layers);
