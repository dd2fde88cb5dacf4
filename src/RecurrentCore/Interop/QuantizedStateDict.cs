using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;

namespace RecurrentCore.Interop;

/// <summary>
/// The safetensors layout of a quantized layer stack: PyTorch state_dict names, the weights in their stored dtype and
/// the configuration in <c>__metadata__</c>.
/// <list type="bullet">
/// <item><c>weight_ih_l{k}</c> (G·H, I_k), <c>weight_hh_l{k}</c> (G·H, H): F32, BF16 (bit patterns as computed with) or
/// I8 (q in [−127, 127]);</item>
/// <item>int8 only: <c>weight_ih_l{k}_scale</c>, <c>weight_hh_l{k}_scale</c>, F32 (G·H,), one per row: w = q·s;</item>
/// <item><c>bias_ih_l{k}</c>, <c>bias_hh_l{k}</c>: F32 (G·H,), when the layer has biases;</item>
/// <item>metadata: <see cref="PyTorchStateDict.ToMetadata"/>'s configuration keys, <see cref="FormatKey"/> (f32, bf16,
/// int8) and, for int8, <see cref="Int8SchemeKey"/> = <see cref="Int8Scheme"/>.</item>
/// </list>
/// A reader needs nothing else: the values are exactly those the kernels multiply by, so a layer saved and loaded
/// computes bit for bit as before.
/// </summary>
public static partial class QuantizedStateDict
{
    /// <summary>Metadata key of the weight format: <c>f32</c>, <c>bf16</c> or <c>int8</c>.</summary>
    public const string FormatKey = "recurrent.weights_format";

    /// <summary>Metadata key of the int8 quantization scheme (int8 files only).</summary>
    public const string Int8SchemeKey = "recurrent.int8_scheme";

    /// <summary>The one int8 scheme: symmetric, zero point 0, one scale per output row.</summary>
    public const string Int8Scheme = "symmetric-per-row";

    /// <summary>
    /// The weight format <paramref name="file"/> records, or null for a plain (float) state_dict. A file that holds int8
    /// tensors or weight scales without recording a format is refused rather than read as floats.
    /// </summary>
    /// <exception cref="InteropFormatException">The recorded format is unknown, or int8 data has no recorded format.</exception>
    public static WeightFormat? FormatOf(SafeTensorsFile file, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentNullException.ThrowIfNull(sourceName);
        if (file.Metadata.TryGetValue(FormatKey, out var name))
        {
            return name switch
            {
                "f32" => WeightFormat.Float32,
                "bf16" => WeightFormat.BFloat16,
                "int8" => WeightFormat.Int8,
                _ => throw InteropFormatException.Create(sourceName, $"metadata '{FormatKey}' = '{name}' is not f32, bf16 or int8"),
            };
        }

        foreach (var (tensorName, tensor) in file.Tensors)
        {
            if (tensor.DType == TensorDType.I8 || ScaleName().IsMatch(tensorName))
            {
                throw InteropFormatException.Create(
                    sourceName,
                    $"tensor '{tensorName}' is {(tensor.DType == TensorDType.I8 ? "int8" : "a weight scale")} but the metadata records no '{FormatKey}'; a quantized file names its format (write it with QuantizedLayer.ToSafeTensors or recurrent convert --weights-format)");
            }
        }

        return null;
    }

    /// <summary>Serialises a stack (tensors per layer in state_dict order, then scales after their weights).</summary>
    internal static byte[] Write(QuantizedStackData stack)
    {
        var cfg = stack.Config;
        var meta = PyTorchStateDict.ToMetadata(cfg);
        meta[FormatKey] = stack.Format.Name();
        if (stack.Format == WeightFormat.Int8)
        {
            meta[Int8SchemeKey] = Int8Scheme;
        }

        var tensors = new List<KeyValuePair<string, HostTensor>>();
        for (int l = 0; l < stack.Layers.Count; l++)
        {
            var layer = stack.Layers[l];
            AddMatrix(tensors, $"weight_ih_l{l}", layer.Ih);
            AddMatrix(tensors, $"weight_hh_l{l}", layer.Hh);
            if (cfg.Bias)
            {
                tensors.Add(new($"bias_ih_l{l}", HostTensor.FromSingle([layer.BiasIh.Length], layer.BiasIh)));
                tensors.Add(new($"bias_hh_l{l}", HostTensor.FromSingle([layer.BiasHh.Length], layer.BiasHh)));
            }
        }

        return SafeTensors.Write(tensors, meta);
    }

    /// <summary>Reads and validates a stack; every refusal is one line naming the file and the tensor or key.</summary>
    /// <exception cref="InteropFormatException">The file is not a quantized stack this library can run.</exception>
    internal static QuantizedStackData Read(SafeTensorsFile file, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(file);
        var meta = file.Metadata;
        var format = FormatOf(file, sourceName)
            ?? throw Fail(sourceName, $"is not a quantized layer file: its metadata has no '{FormatKey}' (a float32 state_dict loads with RecurrentLayer)");
        meta.TryGetValue(Int8SchemeKey, out var scheme);
        if (format == WeightFormat.Int8 && scheme != Int8Scheme)
        {
            throw Fail(sourceName, scheme is null
                ? $"int8 weights without metadata '{Int8SchemeKey}' (expected '{Int8Scheme}')"
                : $"metadata '{Int8SchemeKey}' = '{scheme}' is not supported (only '{Int8Scheme}')");
        }

        if (format != WeightFormat.Int8 && scheme is not null)
        {
            throw Fail(sourceName, $"metadata '{Int8SchemeKey}' is given but '{FormatKey}' = {format.Name()}: the metadata is mixed");
        }

        var cell = PyTorchStateDict.MetadataCell(meta, null, sourceName)
            ?? throw Fail(sourceName, $"a quantized file records its cell (metadata '{PyTorchStateDict.MetadataKeys.Cell}'), this one does not");
        bool batchFirst = PyTorchStateDict.MetadataBatchFirst(meta, null, sourceName) ?? false;

        var scales = new Dictionary<string, HostTensor>(StringComparer.Ordinal);
        var rest = new List<KeyValuePair<string, HostTensor>>();
        foreach (var pair in file.Tensors)
        {
            if (ScaleName().IsMatch(pair.Key))
            {
                scales.Add(pair.Key, pair.Value);
            }
            else
            {
                rest.Add(pair);
            }
        }

        var cfg = PyTorchStateDict.InferConfig(cell, rest, sourceName, batchFirst);
        if (cfg.Bidirectional || cfg.ProjSize != 0)
        {
            throw Fail(sourceName, cfg.Bidirectional
                ? "a quantized layer is unidirectional, but the file has '_reverse' tensors"
                : "a quantized layer has no LSTM projection (weight_hr_l{k})");
        }

        if (cfg.Cell == CellKind.Gru && meta.TryGetValue(PyTorchStateDict.MetadataKeys.LinearBeforeReset, out var lbr) && lbr != "true")
        {
            throw Fail(sourceName, $"metadata '{PyTorchStateDict.MetadataKeys.LinearBeforeReset}' = '{lbr}': a quantized GRU has PyTorch's form (true)");
        }

        PyTorchStateDict.CheckMetadata(meta, cfg, sourceName);
        var byName = rest.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
        var layers = new QuantizedLayerData[cfg.NumLayers];
        int gh = cfg.GateCount * cfg.HiddenSize;
        for (int l = 0; l < cfg.NumLayers; l++)
        {
            var ih = ReadMatrix(byName, scales, $"weight_ih_l{l}", format, gh, cfg.LayerInputSize(l), sourceName);
            var hh = ReadMatrix(byName, scales, $"weight_hh_l{l}", format, gh, cfg.HiddenSize, sourceName);
            float[] bih = cfg.Bias ? ReadFloat32(byName[$"bias_ih_l{l}"], $"bias_ih_l{l}", sourceName) : [];
            float[] bhh = cfg.Bias ? ReadFloat32(byName[$"bias_hh_l{l}"], $"bias_hh_l{l}", sourceName) : [];
            layers[l] = new QuantizedLayerData(ih, hh, bih, bhh);
        }

        if (scales.Count > 0)
        {
            string extra = scales.Keys.Order(StringComparer.Ordinal).First();
            throw Fail(sourceName, format == WeightFormat.Int8
                ? $"tensor '{extra}' scales no weight of a {cfg.NumLayers}-layer {cfg.Cell.Name()}"
                : $"tensor '{extra}' is a weight scale but '{FormatKey}' = {format.Name()} (only int8 weights have scales): the file is mixed");
        }

        return new QuantizedStackData(cfg, format, layers);
    }

    private static void AddMatrix(List<KeyValuePair<string, HostTensor>> tensors, string name, QuantizedMatrixData m)
    {
        int[] shape = [m.Rows, m.Columns];
        switch (m.Format)
        {
            case WeightFormat.Float32:
                tensors.Add(new(name, HostTensor.FromSingle(shape, m.Float32)));
                break;
            case WeightFormat.BFloat16:
                var bits = new byte[m.BFloat16.Length * 2];
                for (int i = 0; i < m.BFloat16.Length; i++)
                {
                    BinaryPrimitives.WriteUInt16LittleEndian(bits.AsSpan(i * 2), m.BFloat16[i]);
                }

                tensors.Add(new(name, new HostTensor(TensorDType.BF16, shape, bits)));
                break;
            default:
                tensors.Add(new(name, new HostTensor(TensorDType.I8, shape, MemoryMarshal.AsBytes(m.Int8.AsSpan()))));
                tensors.Add(new(name + "_scale", HostTensor.FromSingle([m.Rows], m.Scales)));
                break;
        }
    }

    private static QuantizedMatrixData ReadMatrix(
        Dictionary<string, HostTensor> byName, Dictionary<string, HostTensor> scales, string name, WeightFormat format, int rows, int columns, string source)
    {
        // InferConfig has checked that the tensor exists with shape (rows, columns).
        var t = byName[name];
        if ((long)rows * (columns + 64) > Array.MaxLength)
        {
            // The kernels' storage pads each row to a multiple of 64 elements in one array.
            throw Fail(source, $"tensor '{name}' ({rows}, {columns}) is too large for a quantized layer's padded rows");
        }
        var expected = format switch
        {
            WeightFormat.Float32 => TensorDType.F32,
            WeightFormat.BFloat16 => TensorDType.BF16,
            _ => TensorDType.I8,
        };
        if (t.DType != expected)
        {
            throw Fail(source, $"tensor '{name}' has dtype {TensorDTypeInfo.SafeTensorsName(t.DType)}, but '{FormatKey}' = {format.Name()} stores weights as {TensorDTypeInfo.SafeTensorsName(expected)}");
        }

        switch (format)
        {
            case WeightFormat.Float32:
                return QuantizedMatrixData.FromFloat32(rows, columns, ReadFloat32(t, name, source));
            case WeightFormat.BFloat16:
                var bits = new ushort[rows * columns];
                var raw = t.Bytes.Span;
                for (int i = 0; i < bits.Length; i++)
                {
                    bits[i] = BinaryPrimitives.ReadUInt16LittleEndian(raw[(i * 2)..]);
                    if ((bits[i] & 0x7F80) == 0x7F80)
                    {
                        throw Fail(source, $"tensor '{name}' holds a non-finite bf16 value (bits 0x{bits[i]:x4}) at flat index {i}");
                    }
                }

                return QuantizedMatrixData.FromBFloat16(rows, columns, bits);
            default:
                var q = MemoryMarshal.Cast<byte, sbyte>(t.Bytes.Span).ToArray();
                int bad = Array.IndexOf(q, sbyte.MinValue);
                if (bad >= 0)
                {
                    throw Fail(source, $"tensor '{name}' holds -128 at flat index {bad}; the symmetric scheme uses -127..127");
                }

                string scaleName = name + "_scale";
                if (!scales.Remove(scaleName, out var s))
                {
                    throw Fail(source, $"tensor '{scaleName}' is missing: int8 weights need one F32 scale per row of '{name}', shape ({rows},)");
                }

                if (s.DType != TensorDType.F32 || s.Shape.Count != 1 || s.Shape[0] != rows)
                {
                    throw Fail(source, $"tensor '{scaleName}' is {TensorDTypeInfo.SafeTensorsName(s.DType)} {PyTorchStateDict.ShapeText(s.Shape)}, expected F32 ({rows},): one scale per row of '{name}'");
                }

                var scale = s.ToSingle(source);
                int negative = Array.FindIndex(scale, v => !(v >= 0) || !float.IsFinite(v));
                if (negative >= 0)
                {
                    throw Fail(source, $"tensor '{scaleName}' holds {scale[negative].ToString("R", CultureInfo.InvariantCulture)} at index {negative}; a scale is finite and not negative");
                }

                return QuantizedMatrixData.FromInt8(rows, columns, q, scale);
        }
    }

    private static float[] ReadFloat32(HostTensor t, string name, string source)
    {
        if (t.DType != TensorDType.F32)
        {
            throw Fail(source, $"tensor '{name}' has dtype {TensorDTypeInfo.SafeTensorsName(t.DType)}; a quantized file stores it as F32 (the values the layer computes with)");
        }

        var values = t.ToSingle(source);
        int bad = Array.FindIndex(values, v => !float.IsFinite(v));
        return bad < 0
            ? values
            : throw Fail(source, $"tensor '{name}' holds a non-finite value ({values[bad].ToString(CultureInfo.InvariantCulture)}) at flat index {bad}");
    }

    private static InteropFormatException Fail(string source, string problem) => InteropFormatException.Create(source, problem);

    [GeneratedRegex(@"^weight_(?:ih|hh)_l(?:0|[1-9][0-9]{0,3})(?:_reverse)?_scale$", RegexOptions.CultureInvariant)]
    private static partial Regex ScaleName();
}
