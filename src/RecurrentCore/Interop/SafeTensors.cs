using System.Buffers.Binary;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Unicode;

namespace RecurrentCore.Interop;

/// <summary>
/// Reads and writes the safetensors format (https://github.com/huggingface/safetensors):
/// an 8-byte little-endian u64 header size <c>N</c>, then <c>N</c> bytes of UTF-8 JSON
/// <c>{"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ..., "__metadata__": {str: str}}</c>,
/// then the data buffer. Offsets are relative to the buffer start and must tile it exactly: no overlap, no hole,
/// no trailing bytes.
/// </summary>
public static class SafeTensors
{
    /// <summary>Largest header this reader accepts (the reference implementation's limit).</summary>
    public const int MaxHeaderBytes = 100_000_000;

    private const string MetadataKey = "__metadata__";

    /// <summary>Reads and validates the safetensors file at <paramref name="path"/> (a regular file, or a pipe/FIFO).</summary>
    /// <exception cref="InteropFormatException">The file is malformed; the message names <paramref name="path"/>.</exception>
    /// <exception cref="IOException">The file cannot be opened or read, or <paramref name="path"/> is a directory.</exception>
    public static SafeTensorsFile ReadFile(string path) => Read(TensorFileSource.ReadAll(path, Probe), path);

    /// <summary>
    /// Reads and validates a safetensors file from <paramref name="stream"/>, from its current position to its end.
    /// A stream that cannot seek is read only as far as its header declares (and one byte more, to detect trailing
    /// data), with the header bounded by <see cref="MaxHeaderBytes"/>.
    /// </summary>
    /// <param name="stream">A readable stream; it is not disposed.</param>
    /// <param name="sourceName">Names the input in error messages (e.g. "&lt;stdin&gt;").</param>
    /// <exception cref="InteropFormatException">The data is malformed; the message names <paramref name="sourceName"/>.</exception>
    /// <exception cref="IOException">The stream cannot be read.</exception>
    public static SafeTensorsFile Read(Stream stream, string sourceName) => Read(TensorFileSource.ReadAll(stream, sourceName, Probe), sourceName);

    /// <summary>Reads and validates safetensors <paramref name="bytes"/>.</summary>
    /// <param name="bytes">The whole file.</param>
    /// <param name="sourceName">Names the input in error messages (e.g. "&lt;stream&gt;").</param>
    /// <exception cref="InteropFormatException">The data is malformed; the message names <paramref name="sourceName"/>.</exception>
    public static SafeTensorsFile Read(ReadOnlySpan<byte> bytes, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(sourceName);
        if (bytes.Length < 8)
        {
            throw Fail(sourceName, $"file is {bytes.Length} bytes, too short for the 8-byte header size");
        }

        if (bytes.StartsWith(NpyMagic))
        {
            throw Fail(sourceName, "not a safetensors file: it starts with the .npy magic \\x93NUMPY");
        }

        ulong headerSize = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        if (headerSize == 0)
        {
            throw Fail(sourceName, "not a safetensors file: header size 0 leaves no room for the JSON header");
        }

        if (bytes.Length > 8 && bytes[8] != (byte)'{')
        {
            // The reference implementation requires the JSON header to start with '{' (InvalidHeaderStart); checking it
            // first turns an .onnx file or garbage into "not a safetensors file" rather than a header-size overflow.
            throw Fail(
                sourceName,
                $"not a safetensors file: the header after the 8-byte header size must be a JSON object starting with '{{', found byte 0x{bytes[8]:x2} (header size {headerSize})");
        }

        if (headerSize > MaxHeaderBytes)
        {
            throw Fail(sourceName, $"header size {headerSize} exceeds the limit of {MaxHeaderBytes} bytes");
        }

        long available = bytes.Length - 8L;
        if (headerSize > (ulong)available)
        {
            throw Fail(sourceName, $"header size {headerSize} exceeds the {available} bytes after the size field (truncated file?)");
        }

        ReadOnlySpan<byte> header = bytes.Slice(8, (int)headerSize);
        ReadOnlySpan<byte> buffer = bytes[(8 + (int)headerSize)..];
        if (!Utf8.IsValid(header))
        {
            throw Fail(sourceName, "header is not valid UTF-8");
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(header.ToArray(), JsonOptions);
        }
        catch (JsonException e)
        {
            throw Fail(sourceName, "header is not valid JSON: " + e.Message, e);
        }

        using (document)
        {
            try
            {
                RefuseRepeatedKeys(document.RootElement, "header", sourceName);
                return ReadHeader(document.RootElement, buffer, sourceName);
            }
            catch (InvalidOperationException e)
            {
                // JsonDocument accepts "\uD800" (a lone surrogate) but cannot turn it into a .NET string.
                throw Fail(sourceName, "header has a string with an invalid \\u escape (lone UTF-16 surrogate)", e);
            }
        }
    }

    private static ReadOnlySpan<byte> NpyMagic => [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    private static readonly JsonDocumentOptions JsonOptions = new() { MaxDepth = 16 };

    /// <summary>
    /// How much of a stream the header declares: the size field, the header, then the end of the furthest
    /// data_offsets plus one byte (so trailing data is still seen). Stops early when the prefix is already malformed;
    /// <see cref="Read(ReadOnlySpan{byte}, string)"/> then reports the problem.
    /// </summary>
    private static long Probe(ReadOnlySpan<byte> prefix)
    {
        if (prefix.Length < 9)
        {
            return 9;
        }

        ulong headerSize = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (prefix.StartsWith(NpyMagic) || prefix[8] != (byte)'{' || headerSize is 0 or > MaxHeaderBytes)
        {
            return prefix.Length;
        }

        long headerEnd = 8 + (long)headerSize;
        if (prefix.Length < headerEnd)
        {
            return headerEnd;
        }

        ulong bufferEnd = 0;
        try
        {
            using var document = JsonDocument.Parse(prefix[8..(int)headerEnd].ToArray(), JsonOptions);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                return prefix.Length;
            }

            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (property.Value.ValueKind == JsonValueKind.Object
                    && property.Value.TryGetProperty("data_offsets", out var offsets)
                    && offsets.ValueKind == JsonValueKind.Array
                    && offsets.GetArrayLength() == 2
                    && TryGetOffset(offsets[1], out ulong end))
                {
                    bufferEnd = Math.Max(bufferEnd, end);
                }
            }
        }
        catch (JsonException)
        {
            return prefix.Length;
        }

        return TensorFileSource.SaturatingAdd(headerEnd + 1, bufferEnd);
    }

    /// <summary>
    /// Refuses an object with a repeated key anywhere in the header, as the reference implementation (serde) does:
    /// JsonDocument keeps both and TryGetProperty would silently pick one.
    /// </summary>
    private static void RefuseRepeatedKeys(JsonElement element, string where, string source)
    {
        if (element.ValueKind == JsonValueKind.Object)
        {
            HashSet<string>? seen = null;
            foreach (var property in element.EnumerateObject())
            {
                seen ??= new HashSet<string>(StringComparer.Ordinal);
                if (!seen.Add(property.Name))
                {
                    throw Fail(source, where == "header" ? $"duplicate name '{property.Name}' in header" : $"duplicate key '{property.Name}' in {where}");
                }

                RefuseRepeatedKeys(property.Value, where == "header" ? $"'{property.Name}'" : $"{where}.'{property.Name}'", source);
            }
        }
        else if (element.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in element.EnumerateArray())
            {
                RefuseRepeatedKeys(item, where, source);
            }
        }
    }

    private static SafeTensorsFile ReadHeader(JsonElement root, ReadOnlySpan<byte> buffer, string source)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw Fail(source, $"header must be a JSON object, found {root.ValueKind}");
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        var entries = new List<Entry>();
        foreach (var property in root.EnumerateObject())
        {
            string name = property.Name;
            if (!seen.Add(name))
            {
                throw Fail(source, $"duplicate name '{name}' in header");
            }

            if (name == MetadataKey)
            {
                ReadMetadata(property.Value, metadata, source);
            }
            else
            {
                entries.Add(ReadEntry(name, property.Value, (ulong)buffer.Length, source));
            }
        }

        // Stable sort by (begin, end) so zero-length tensors sharing an offset keep header order.
        var ordered = entries.OrderBy(e => e.Begin).ThenBy(e => e.End).ToList();
        ulong position = 0;
        foreach (var entry in ordered)
        {
            if (entry.Begin > position)
            {
                throw Fail(source, $"hole in the data buffer: bytes {position}..{entry.Begin} belong to no tensor (next is '{entry.Name}')");
            }

            if (entry.Begin < position)
            {
                throw Fail(source, $"tensor '{entry.Name}' data_offsets [{entry.Begin}, {entry.End}] overlap the previous tensor, which ends at {position}");
            }

            position = entry.End;
        }

        if (position != (ulong)buffer.Length)
        {
            throw Fail(source, $"data buffer is {buffer.Length} bytes but the tensors cover only {position} (trailing bytes)");
        }

        var tensors = new List<KeyValuePair<string, HostTensor>>(ordered.Count);
        foreach (var entry in ordered)
        {
            byte[] data = buffer[(int)entry.Begin..(int)entry.End].ToArray();
            tensors.Add(new(entry.Name, HostTensor.FromValidatedBytes(entry.DType, entry.Shape, data)));
        }

        return new SafeTensorsFile(source, tensors.AsReadOnly(), metadata.AsReadOnly());
    }

    private static void ReadMetadata(JsonElement value, Dictionary<string, string> metadata, string source)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            throw Fail(source, $"__metadata__ must be an object of string values, found {value.ValueKind}");
        }

        foreach (var item in value.EnumerateObject())
        {
            if (item.Value.ValueKind != JsonValueKind.String)
            {
                throw Fail(source, $"__metadata__ value for '{item.Name}' must be a string, found {item.Value.ValueKind}");
            }

            if (!metadata.TryAdd(item.Name, item.Value.GetString()!))
            {
                throw Fail(source, $"duplicate key '{item.Name}' in __metadata__");
            }
        }
    }

    private static Entry ReadEntry(string name, JsonElement value, ulong bufferLength, string source)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            throw Fail(source, $"tensor '{name}' must be an object, found {value.ValueKind}");
        }

        if (!value.TryGetProperty("dtype", out var dtypeElement))
        {
            throw Fail(source, $"tensor '{name}' is missing key 'dtype'");
        }

        if (!value.TryGetProperty("shape", out var shapeElement))
        {
            throw Fail(source, $"tensor '{name}' is missing key 'shape'");
        }

        if (!value.TryGetProperty("data_offsets", out var offsetsElement))
        {
            throw Fail(source, $"tensor '{name}' is missing key 'data_offsets'");
        }

        if (dtypeElement.ValueKind != JsonValueKind.String)
        {
            throw Fail(source, $"tensor '{name}' dtype must be a string, found {dtypeElement.ValueKind}");
        }

        string dtypeName = dtypeElement.GetString()!;
        if (!TensorDTypeInfo.TryParseSafeTensorsName(dtypeName, out var dtype))
        {
            throw Fail(source, $"tensor '{name}' has unsupported dtype '{dtypeName}' (supported: F32, F64, BF16, F16, I64, I32, U8, I8)");
        }

        if (shapeElement.ValueKind != JsonValueKind.Array)
        {
            throw Fail(source, $"tensor '{name}' shape must be an array, found {shapeElement.ValueKind}");
        }

        var shape = new int[shapeElement.GetArrayLength()];
        int axis = 0;
        foreach (var dim in shapeElement.EnumerateArray())
        {
            if (dim.ValueKind != JsonValueKind.Number || !dim.TryGetInt64(out long d))
            {
                throw Fail(source, $"tensor '{name}' shape[{axis}] must be an integer, found {dim.GetRawText()}");
            }

            if (d < 0)
            {
                throw Fail(source, $"tensor '{name}' shape[{axis}] is negative ({d})");
            }

            if (d > int.MaxValue)
            {
                throw Fail(source, $"tensor '{name}' shape[{axis}] = {d} exceeds {int.MaxValue}");
            }

            shape[axis++] = (int)d;
        }

        if (offsetsElement.ValueKind != JsonValueKind.Array || offsetsElement.GetArrayLength() != 2)
        {
            throw Fail(source, $"tensor '{name}' data_offsets must be an array [begin, end], found {offsetsElement.GetRawText()}");
        }

        if (!TryGetOffset(offsetsElement[0], out ulong begin) || !TryGetOffset(offsetsElement[1], out ulong end))
        {
            throw Fail(source, $"tensor '{name}' data_offsets must be non-negative integers, found {offsetsElement.GetRawText()}");
        }

        if (end < begin)
        {
            throw Fail(source, $"tensor '{name}' data_offsets [{begin}, {end}] end before they begin");
        }

        if (end > bufferLength)
        {
            throw Fail(source, $"tensor '{name}' data_offsets [{begin}, {end}] are out of range: the data buffer is {bufferLength} bytes");
        }

        int size = TensorDTypeInfo.SizeOf(dtype);
        if (!TensorDTypeInfo.TryGetElementCount(shape, out long count) || count > long.MaxValue / size)
        {
            throw Fail(source, $"tensor '{name}' shape {TensorDTypeInfo.FormatShape(shape)} element count overflows");
        }

        if ((ulong)(count * size) != end - begin)
        {
            throw Fail(
                source,
                $"tensor '{name}' shape {TensorDTypeInfo.FormatShape(shape)} of {dtypeName} needs {count * size} bytes but data_offsets [{begin}, {end}] span {end - begin}");
        }

        return new Entry(name, dtype, shape, begin, end);
    }

    private static bool TryGetOffset(JsonElement element, out ulong value)
    {
        value = 0;
        return element.ValueKind == JsonValueKind.Number && element.TryGetUInt64(out value);
    }

    /// <summary>Writes tensors (in the given order) and optional metadata to <paramref name="path"/>.</summary>
    /// <exception cref="ArgumentException">A name is empty, repeated or "__metadata__".</exception>
    public static void WriteFile(
        string path,
        IEnumerable<KeyValuePair<string, HostTensor>> tensors,
        IReadOnlyDictionary<string, string>? metadata = null) => File.WriteAllBytes(path, Write(tensors, metadata));

    /// <summary>
    /// Serialises tensors (in the given order, packed back to back) and optional metadata (keys sorted ordinally).
    /// The JSON header is padded with spaces to a multiple of 8 bytes, so the output is deterministic.
    /// </summary>
    /// <exception cref="ArgumentException">A name is empty, repeated or "__metadata__".</exception>
    public static byte[] Write(
        IEnumerable<KeyValuePair<string, HostTensor>> tensors,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var list = tensors.ToList();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, tensor) in list)
        {
            ArgumentNullException.ThrowIfNull(tensor);
            if (string.IsNullOrEmpty(name) || name == MetadataKey || !names.Add(name))
            {
                throw new ArgumentException($"Tensor name '{name}' is empty, reserved or repeated.", nameof(tensors));
            }
        }

        using var json = new MemoryStream();
        using (var writer = new Utf8JsonWriter(json, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                writer.WriteStartObject(MetadataKey);
                foreach (var (key, value) in metadata.OrderBy(p => p.Key, StringComparer.Ordinal))
                {
                    writer.WriteString(key, value);
                }

                writer.WriteEndObject();
            }

            long offset = 0;
            foreach (var (name, tensor) in list)
            {
                writer.WriteStartObject(name);
                writer.WriteString("dtype", TensorDTypeInfo.SafeTensorsName(tensor.DType));
                writer.WriteStartArray("shape");
                foreach (int dim in tensor.Shape)
                {
                    writer.WriteNumberValue(dim);
                }

                writer.WriteEndArray();
                writer.WriteStartArray("data_offsets");
                writer.WriteNumberValue(offset);
                offset += tensor.Bytes.Length;
                writer.WriteNumberValue(offset);
                writer.WriteEndArray();
                writer.WriteEndObject();
            }

            writer.WriteEndObject();
        }

        int headerLength = (int)json.Length;
        int paddedLength = (headerLength + 7) / 8 * 8;
        long total = 8L + paddedLength + list.Sum(p => (long)p.Value.Bytes.Length);
        var output = new byte[total];
        BinaryPrimitives.WriteUInt64LittleEndian(output, (ulong)paddedLength);
        json.GetBuffer().AsSpan(0, headerLength).CopyTo(output.AsSpan(8));
        output.AsSpan(8 + headerLength, paddedLength - headerLength).Fill((byte)' ');
        int position = 8 + paddedLength;
        foreach (var (_, tensor) in list)
        {
            tensor.Bytes.Span.CopyTo(output.AsSpan(position));
            position += tensor.Bytes.Length;
        }

        return output;
    }

    private static InteropFormatException Fail(string source, string problem, Exception? inner = null) =>
        InteropFormatException.Create(source, problem, inner);

    private sealed record Entry(string Name, TensorDType DType, int[] Shape, ulong Begin, ulong End);
}
