using RecurrentCore.Interop;
using RecurrentCore.Interop.Onnx;
using RecurrentCore.Kernels;

namespace RecurrentCore.Layers;

/// <summary>A quantized layer to and from files: safetensors with its scales (<see cref="QuantizedStateDict"/>), and ONNX export.</summary>
public sealed partial class QuantizedLayer
{
    /// <summary>
    /// The layer as safetensors (layout: <see cref="QuantizedStateDict"/>): the stored weights exactly (float32,
    /// bfloat16 bits, or int8 values with their per-row scales), the float32 biases and the configuration, so that
    /// <see cref="FromSafeTensors"/> gives a layer that computes bit for bit the same outputs. Deterministic bytes.
    /// </summary>
    public byte[] ToSafeTensors() => QuantizedStateDict.Write(ToData());

    /// <summary>Reads a layer written by <see cref="ToSafeTensors"/> (or any file in that layout).</summary>
    /// <param name="file">The file, from <see cref="SafeTensors.Read(ReadOnlySpan{byte}, string)"/> or <see cref="SafeTensors.ReadFile"/>.</param>
    /// <param name="sourceName">Names the file in error messages.</param>
    /// <param name="variant">The kernel variant; <see cref="KernelCatalog.Active"/> when null.</param>
    /// <exception cref="InteropFormatException">The file records no weight format, a tensor has the wrong dtype or
    /// shape, a scale is missing, extra, mis-shaped or negative, an int8 value is −128, a value is not finite, or the
    /// metadata contradicts the tensors or itself; the one-line message names the file and the tensor or key.</exception>
    /// <exception cref="ArgumentException">The variant is not supported on this machine.</exception>
    public static QuantizedLayer FromSafeTensors(SafeTensorsFile file, string sourceName, KernelVariant? variant = null)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentNullException.ThrowIfNull(sourceName);
        var v = variant ?? KernelCatalog.Active;
        if (!KernelCatalog.IsSupported(v))
        {
            throw new ArgumentException($"kernel variant {KernelCatalog.Name(v)} is not supported on this machine", nameof(variant));
        }

        var data = QuantizedStateDict.Read(file, sourceName);
        var layers = new QuantizedLayerWeights[data.Layers.Count];
        for (int l = 0; l < layers.Length; l++)
        {
            var d = data.Layers[l];
            layers[l] = new QuantizedLayerWeights(data.Config, ToMatrix(d.Ih), ToMatrix(d.Hh), d.BiasIh, d.BiasHh);
        }

        return new QuantizedLayer(data.Config, data.Format, v, layers);
    }

    /// <summary>
    /// The layer as an ONNX model with the graph inputs and outputs of <see cref="OnnxModel.Export(RecurrentParameters, OnnxExportOptions?)"/>:
    /// an int8 LSTM as one <c>com.microsoft.DynamicQuantizeLSTM</c> node per layer (ONNX Runtime's contrib operator) on
    /// exactly the stored int8 weights and scales; a float32 layer as the standard graph. ONNX Runtime quantizes the
    /// activations differently (uint8 with a zero point, X once per call and h per step over the batch, where this
    /// library quantizes each row's x and h symmetrically per step), so outputs agree to the int8 noise, not bit for bit
    /// (measured figures: docs/onnx.md).
    /// </summary>
    /// <exception cref="NotSupportedException">bf16 weights, or an int8 GRU or Elman RNN: ONNX Runtime has no operator that
    /// computes them as stored (the message says so in one line).</exception>
    /// <exception cref="ArgumentException">The options are out of range.</exception>
    public byte[] ToOnnx(OnnxExportOptions? options = null) => OnnxQuantizedExporter.Build(ToData(), options ?? new OnnxExportOptions()).ToBytes();

    /// <summary>The stored weights and biases, unpadded, as the file writers take them.</summary>
    internal QuantizedStackData ToData()
    {
        var layers = new QuantizedLayerData[Layers.Length];
        for (int l = 0; l < layers.Length; l++)
        {
            var w = Layers[l];
            layers[l] = new QuantizedLayerData(ToData(w.Ih), ToData(w.Hh), [.. w.BiasIh], [.. w.BiasHh]);
        }

        return new QuantizedStackData(Config, Format, layers);
    }

    private static unsafe QuantizedMatrixData ToData(QuantizedMatrix m)
    {
        int rows = m.Rows, cols = m.Columns, stride = m.Stride;
        switch (m.Format)
        {
            case WeightFormat.Float32:
                return QuantizedMatrixData.FromFloat32(rows, cols, new ReadOnlySpan<float>(m.Float32, rows * cols).ToArray());
            case WeightFormat.BFloat16:
                var bits = new ushort[rows * cols];
                for (int r = 0; r < rows; r++)
                {
                    new ReadOnlySpan<ushort>(m.BFloat16Bits + ((nint)r * stride), cols).CopyTo(bits.AsSpan(r * cols));
                }

                return QuantizedMatrixData.FromBFloat16(rows, cols, bits);
            default:
                var q = new sbyte[rows * cols];
                for (int r = 0; r < rows; r++)
                {
                    m.Int8Values.Slice(r * stride, cols).CopyTo(q.AsSpan(r * cols));
                }

                return QuantizedMatrixData.FromInt8(rows, cols, q, new ReadOnlySpan<float>(m.Scales, rows).ToArray());
        }
    }

    private static QuantizedMatrix ToMatrix(QuantizedMatrixData d) => d.Format switch
    {
        WeightFormat.Float32 => new QuantizedMatrix(d.Float32, d.Rows, d.Columns, WeightFormat.Float32),
        // Widening is exact and rounding an exact bfloat16 value gives its bits back (non-finite values were refused).
        WeightFormat.BFloat16 => new QuantizedMatrix(Array.ConvertAll(d.BFloat16, Kernels.Quantized.BFloat16.ToSingle), d.Rows, d.Columns, WeightFormat.BFloat16),
        _ => new QuantizedMatrix(d.Int8, d.Scales, d.Rows, d.Columns),
    };
}
