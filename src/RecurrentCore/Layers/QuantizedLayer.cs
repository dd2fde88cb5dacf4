using RecurrentCore.Cells;
using RecurrentCore.Kernels;

namespace RecurrentCore.Layers;

/// <summary>
/// An inference-only copy of a unidirectional <see cref="RecurrentLayer"/> with W_ih and W_hh stored in a
/// <see cref="WeightFormat"/> (float32, bfloat16 or int8); biases, gate math, h and c stay float32. Built once by
/// <see cref="FromLayer"/>; afterwards immutable and shareable, each caller bringing its own <see cref="QuantizedStreamState"/>.
/// Being a separate type, it cannot be handed to training or backward: those take a float32 <see cref="RecurrentLayer"/>.
/// </summary>
/// <remarks>
/// <para>Every product is one row at a time (the streaming step's GEMV), for each of B rows in turn.</para>
/// <para>bfloat16: each weight rounded to nearest even, widened exactly in registers; float32 fused accumulation, so
/// the result is within float32 accumulation error of the double reference on the bfloat16 weights
/// (<see cref="DequantizedParameters"/>).</para>
/// <para>int8: per output row r, <c>s_r = max|W[r,:]| / 127</c>, <c>q = round_even(W / s_r)</c> in [−127, 127]; at each
/// step x and h are quantized the same way per vector. The int32 dot product is exact (kernels match a scalar
/// emulation bit for bit), then <c>(float)dot · (s_r · s_x)</c> plus the float32 biases.</para>
/// </remarks>
public sealed class QuantizedLayer
{
    private QuantizedLayer(RecurrentConfig config, WeightFormat format, KernelVariant variant, QuantizedLayerWeights[] layers)
    {
        Config = config;
        Format = format;
        Variant = variant;
        Layers = layers;
    }

    /// <summary>The configuration.</summary>
    public RecurrentConfig Config { get; }

    /// <summary>How W_ih and W_hh are stored.</summary>
    public WeightFormat Format { get; }

    /// <summary>The kernel variant every call runs.</summary>
    public KernelVariant Variant { get; }

    /// <summary>Bytes of W_ih and W_hh over all layers (what one step of one row streams).</summary>
    public long WeightBytes => Layers.Sum(l => l.Ih.Bytes + l.Hh.Bytes);

    internal QuantizedLayerWeights[] Layers { get; }

    /// <summary>Converts the weights of <paramref name="layer"/> to <paramref name="format"/>.</summary>
    /// <param name="layer">A unidirectional layer (LSTM, GRU with PyTorch's reset-after form, or Elman).</param>
    /// <param name="format">The storage format.</param>
    /// <param name="variant">The kernel variant; the layer's when null.</param>
    /// <exception cref="ArgumentException">The variant is not supported here, or a weight is not finite.</exception>
    /// <exception cref="NotSupportedException">The layer is bidirectional or a GRU with the reset gate before the product.</exception>
    public static QuantizedLayer FromLayer(RecurrentLayer layer, WeightFormat format, KernelVariant? variant = null)
    {
        ArgumentNullException.ThrowIfNull(layer);
        if (!Enum.IsDefined(format))
        {
            throw new ArgumentOutOfRangeException(nameof(format));
        }

        var cfg = layer.Config;
        if (cfg.Bidirectional)
        {
            throw new NotSupportedException("a quantized layer is unidirectional: bidirectional layers are not supported");
        }

        if (cfg.Cell == CellKind.Gru && !cfg.LinearBeforeReset)
        {
            throw new NotSupportedException("a quantized GRU needs PyTorch's form (linear_before_reset = 1)");
        }

        var v = variant ?? layer.Variant;
        if (!KernelCatalog.IsSupported(v))
        {
            throw new ArgumentException($"kernel variant {KernelCatalog.Name(v)} is not supported on this machine", nameof(variant));
        }

        var layers = new QuantizedLayerWeights[cfg.NumLayers];
        for (int l = 0; l < cfg.NumLayers; l++)
        {
            layers[l] = new QuantizedLayerWeights(
                cfg, l, format,
                layer.ParameterStorage(l, 0, ParameterKind.WeightIh),
                layer.ParameterStorage(l, 0, ParameterKind.WeightHh),
                layer.ParameterStorage(l, 0, ParameterKind.BiasIh),
                layer.ParameterStorage(l, 0, ParameterKind.BiasHh));
        }

        return new QuantizedLayer(cfg, format, v, layers);
    }

    /// <summary>Builds a float32 layer from <paramref name="parameters"/> and converts it (<see cref="FromLayer"/>).</summary>
    public static QuantizedLayer FromParameters(RecurrentParameters parameters, WeightFormat format, KernelVariant? variant = null) =>
        FromLayer(RecurrentLayer.FromParameters(parameters, variant), format, variant);

    /// <summary>
    /// The parameters the kernels compute with: weights exactly as stored (bfloat16 widened, int8 as q·s), biases
    /// float32. The double reference on these separates quantization error from kernel error.
    /// </summary>
    public RecurrentParameters DequantizedParameters()
    {
        var p = new RecurrentParameters(Config);
        for (int l = 0; l < Config.NumLayers; l++)
        {
            var w = Layers[l];
            w.Ih.Dequantize().CopyTo(p[l, 0, ParameterKind.WeightIh], 0);
            w.Hh.Dequantize().CopyTo(p[l, 0, ParameterKind.WeightHh], 0);
            for (int i = 0; i < w.BiasIh.Length; i++)
            {
                p[l, 0, ParameterKind.BiasIh][i] = w.BiasIh[i];
                p[l, 0, ParameterKind.BiasHh][i] = w.BiasHh[i];
            }
        }

        return p;
    }

    /// <summary>State for <paramref name="batch"/> independent streams (zero initial state); also Forward's workspace.</summary>
    public QuantizedStreamState CreateStream(int batch = 1) => new(this, batch);

    /// <summary>
    /// Runs the layers over a batch of sequences of length <paramref name="seqLen"/> with <paramref name="stream"/>'s
    /// batch size B and scratch; the stream's state is overwritten (set from h0/c0 or zero first).
    /// </summary>
    /// <param name="stream">From <see cref="CreateStream"/> of this layer.</param>
    /// <param name="input">(T, B, I), or (B, T, I) when batch-first.</param>
    /// <param name="seqLen">T.</param>
    /// <param name="output">(T, B, H), or (B, T, H) when batch-first.</param>
    /// <param name="hN">(L, B, H) final hidden states, or empty.</param>
    /// <param name="cN">(L, B, H) final cell states (LSTM), or empty.</param>
    /// <param name="h0">(L, B, H) initial hidden states, or empty for zeros.</param>
    /// <param name="c0">(L, B, H) initial cell states (LSTM), or empty for zeros.</param>
    /// <exception cref="ArgumentException">A span's length does not fit the shapes, or the stream is another layer's.</exception>
    public void Forward(
        QuantizedStreamState stream, ReadOnlySpan<float> input, int seqLen, Span<float> output, Span<float> hN = default, Span<float> cN = default,
        ReadOnlySpan<float> h0 = default, ReadOnlySpan<float> c0 = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!ReferenceEquals(stream.Layer, this))
        {
            throw new ArgumentException("the stream was created by another layer", nameof(stream));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(seqLen, 1);
        stream.RunSequence(input, seqLen, output, hN, cN, h0, c0);
    }

    /// <summary>
    /// The layer as safetensors (layout: <see cref="Interop.QuantizedStateDict"/>): the stored weights exactly (float32,
    /// bfloat16 bits, or int8 values with their per-row scales), the float32 biases and the configuration, so that
    /// <see cref="FromSafeTensors"/> gives a layer that computes bit for bit the same outputs. Deterministic bytes.
    /// </summary>
    public byte[] ToSafeTensors() => Interop.QuantizedStateDict.Write(ToData());

    /// <summary>Reads a layer written by <see cref="ToSafeTensors"/> (or any file in that layout).</summary>
    /// <param name="file">The file, from <see cref="Interop.SafeTensors.Read(ReadOnlySpan{byte}, string)"/> or <see cref="Interop.SafeTensors.ReadFile"/>.</param>
    /// <param name="sourceName">Names the file in error messages.</param>
    /// <param name="variant">The kernel variant; <see cref="KernelCatalog.Active"/> when null.</param>
    /// <exception cref="InteropFormatException">The file records no weight format, a tensor has the wrong dtype or
    /// shape, a scale is missing, extra, mis-shaped or negative, an int8 value is −128, a value is not finite, or the
    /// metadata contradicts the tensors or itself; the one-line message names the file and the tensor or key.</exception>
    /// <exception cref="ArgumentException">The variant is not supported on this machine.</exception>
    public static QuantizedLayer FromSafeTensors(Interop.SafeTensorsFile file, string sourceName, KernelVariant? variant = null)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentNullException.ThrowIfNull(sourceName);
        var v = variant ?? KernelCatalog.Active;
        if (!KernelCatalog.IsSupported(v))
        {
            throw new ArgumentException($"kernel variant {KernelCatalog.Name(v)} is not supported on this machine", nameof(variant));
        }

        var data = Interop.QuantizedStateDict.Read(file, sourceName);
        var layers = new QuantizedLayerWeights[data.Layers.Count];
        for (int l = 0; l < layers.Length; l++)
        {
            var d = data.Layers[l];
            layers[l] = new QuantizedLayerWeights(data.Config, ToMatrix(d.Ih), ToMatrix(d.Hh), d.BiasIh, d.BiasHh);
        }

        return new QuantizedLayer(data.Config, data.Format, v, layers);
    }

    /// <summary>
    /// The layer as an ONNX model with the graph inputs and outputs of <see cref="Interop.Onnx.OnnxModel.Export(RecurrentParameters, Interop.Onnx.OnnxExportOptions?)"/>:
    /// an int8 LSTM as one <c>com.microsoft.DynamicQuantizeLSTM</c> node per layer (ONNX Runtime's contrib operator) on
    /// exactly the stored int8 weights and scales; a float32 layer as the standard graph. ONNX Runtime quantizes the
    /// activations differently (uint8 with a zero point, X once per call and h per step over the batch, where this
    /// library quantizes each row's x and h symmetrically per step), so outputs agree to the int8 noise, not bit for bit
    /// (measured figures: docs/onnx.md).
    /// </summary>
    /// <exception cref="NotSupportedException">bf16 weights, or an int8 GRU or Elman RNN: ONNX Runtime has no operator that
    /// computes them as stored (the message says so in one line).</exception>
    /// <exception cref="ArgumentException">The options are out of range.</exception>
    public byte[] ToOnnx(Interop.Onnx.OnnxExportOptions? options = null) => Interop.Onnx.OnnxQuantizedExporter.Build(ToData(), options ?? new Interop.Onnx.OnnxExportOptions()).ToBytes();

    /// <summary>The stored weights and biases, unpadded, as the file writers take them.</summary>
    internal Interop.QuantizedStackData ToData()
    {
        var layers = new Interop.QuantizedLayerData[Layers.Length];
        for (int l = 0; l < layers.Length; l++)
        {
            var w = Layers[l];
            layers[l] = new Interop.QuantizedLayerData(ToData(w.Ih), ToData(w.Hh), [.. w.BiasIh], [.. w.BiasHh]);
        }

        return new Interop.QuantizedStackData(Config, Format, layers);
    }

    private static unsafe Interop.QuantizedMatrixData ToData(QuantizedMatrix m)
    {
        int rows = m.Rows, cols = m.Columns, stride = m.Stride;
        switch (m.Format)
        {
            case WeightFormat.Float32:
                return Interop.QuantizedMatrixData.FromFloat32(rows, cols, new ReadOnlySpan<float>(m.Float32, rows * cols).ToArray());
            case WeightFormat.BFloat16:
                var bits = new ushort[rows * cols];
                for (int r = 0; r < rows; r++)
                {
                    new ReadOnlySpan<ushort>(m.BFloat16Bits + ((nint)r * stride), cols).CopyTo(bits.AsSpan(r * cols));
                }

                return Interop.QuantizedMatrixData.FromBFloat16(rows, cols, bits);
            default:
                var q = new sbyte[rows * cols];
                for (int r = 0; r < rows; r++)
                {
                    m.Int8Values.Slice(r * stride, cols).CopyTo(q.AsSpan(r * cols));
                }

                return Interop.QuantizedMatrixData.FromInt8(rows, cols, q, new ReadOnlySpan<float>(m.Scales, rows).ToArray());
        }
    }

    private static QuantizedMatrix ToMatrix(Interop.QuantizedMatrixData d) => d.Format switch
    {
        WeightFormat.Float32 => new QuantizedMatrix(d.Float32, d.Rows, d.Columns, WeightFormat.Float32),
        // Widening is exact and rounding an exact bfloat16 value gives its bits back (non-finite values were refused).
        WeightFormat.BFloat16 => new QuantizedMatrix(Array.ConvertAll(d.BFloat16, Kernels.Quantized.BFloat16.ToSingle), d.Rows, d.Columns, WeightFormat.BFloat16),
        _ => new QuantizedMatrix(d.Int8, d.Scales, d.Rows, d.Columns),
    };
}
