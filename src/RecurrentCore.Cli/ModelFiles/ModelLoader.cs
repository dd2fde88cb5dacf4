using System.Buffers.Binary;
using RecurrentCore.Interop;
using RecurrentCore.Interop.Onnx;
using RecurrentCore.Layers;

namespace RecurrentCore.Cli.ModelFiles;

/// <summary>The two model file formats, told apart by content.</summary>
internal enum ModelFormat
{
    SafeTensors,
    Onnx,
}

/// <summary>A model file's layer stack: float parameters, or a quantized layer with <see cref="Parameters"/> its stored weights (exactly).</summary>
/// <param name="Parameters">The float parameters (a quantized layer's stored weights, exactly).</param>
/// <param name="Quantized">The quantized layer, or null.</param>
/// <param name="Reverse">An ONNX reverse-only stack (OnnxImportResult.Reverse): only convert to .onnx takes it.</param>
internal sealed record LoadedModel(RecurrentParameters Parameters, QuantizedLayer? Quantized, bool Reverse = false);

/// <summary>
/// Reads a model file in either format, detected by content and never by extension: safetensors starts with an
/// 8-byte little-endian header length followed by '{'; an ONNX ModelProto starts with field 1 (ir_version, key 0x08),
/// which every protobuf writer emits first.
/// </summary>
internal static class ModelLoader
{
    public static ModelFormat Detect(string path, ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length >= 9 && bytes[8] == (byte)'{' && BinaryPrimitives.ReadUInt64LittleEndian(bytes) is ulong n && n >= 2 && n <= (ulong)(bytes.Length - 8))
        {
            return ModelFormat.SafeTensors;
        }

        if (bytes.Length >= 2 && bytes[0] == 0x08)
        {
            return ModelFormat.Onnx;
        }

        throw new CliException($"{path}: not a safetensors or ONNX file");
    }

    /// <summary>
    /// The layer stack of a model file. safetensors: the state_dict of <paramref name="module"/> (or the only recurrent
    /// module), its metadata honoured, or a quantized layer (<see cref="QuantizedStateDict"/>, told apart by its
    /// metadata); ONNX: the imported RNN/LSTM/GRU stack. A requested cell or batch-first that the file contradicts is
    /// refused.
    /// </summary>
    /// <remarks>
    /// With <paramref name="safeTensorsOnly"/> (the --weights option, documented as safetensors) every file goes to the
    /// safetensors reader, whose message says what is wrong with it as safetensors ("not a safetensors file", …);
    /// --model is the option that detects the format.
    /// </remarks>
    public static LoadedModel Load(string path, CellKind? cell, bool? batchFirst, string? module, bool safeTensorsOnly = false)
    {
        byte[] bytes = ReadAll(path);
        if (safeTensorsOnly || Detect(path, bytes) == ModelFormat.SafeTensors)
        {
            var file = SafeTensors.Read(bytes, path);
            if (QuantizedStateDict.FormatOf(file, path) is WeightFormat format && format != WeightFormat.Float32)
            {
                if (module is not null)
                {
                    throw new CliException($"{path}: --module selects a module of a state_dict; this is a quantized layer file ({format.Name()})");
                }

                var q = QuantizedLayer.FromSafeTensors(file, path);
                Require(path, cell, batchFirst, q.Config, $"the file's {format.Name()} layer");
                return new LoadedModel(q.DequantizedParameters(), q);
            }

            var sp = PyTorchStateDict.ToParameters(file, path, cell, batchFirst, module);
            return new LoadedModel(sp, null);
        }

        if (module is not null)
        {
            throw new CliException($"{path}: --module selects a module of a state_dict; this is an ONNX file");
        }

        var import = OnnxModel.Import(bytes, path);
        Require(path, cell, batchFirst, import.Config, "the ONNX graph");
        return new LoadedModel(import.Parameters, null, import.Reverse);
    }

    /// <summary>
    /// <see cref="Load"/>'s parameters: a quantized file's are its stored weights (exactly what it computes with), for a
    /// caller that builds its own layer.
    /// </summary>
    public static RecurrentParameters LoadParameters(string path, CellKind? cell, bool? batchFirst, string? module, bool safeTensorsOnly = false) =>
        Forward(path, Load(path, cell, batchFirst, module, safeTensorsOnly)).Parameters;

    /// <summary><paramref name="model"/>, refused when it runs backwards in time: a PyTorch layer stack would run it forwards.</summary>
    public static LoadedModel Forward(string path, LoadedModel model) => model.Reverse
        ? throw new CliException($"{path}: a reverse-only stack (ONNX direction = reverse) has no PyTorch layer to run it; OnnxModel.Load runs it, and convert writes it to .onnx")
        : model;

    private static void Require(string path, CellKind? cell, bool? batchFirst, RecurrentConfig config, string holder)
    {
        if (cell is CellKind c && c != config.Cell)
        {
            throw new CliException($"{path}: cell {c.Name()} was requested but {holder} holds {config.Cell.Name()}");
        }

        if (batchFirst is bool bf && bf != config.BatchFirst)
        {
            throw new CliException($"{path}: --batch-first was given but {holder} is {(config.BatchFirst ? "batch-first" : "time-major")}");
        }
    }

    /// <summary>The file's bytes; a missing or unreadable file is one line naming it.</summary>
    public static byte[] ReadAll(string path)
    {
        try
        {
            // File.ReadAllBytes reads pipes and FIFOs to their end; a directory is named as such (as the tensor readers do).
            return Directory.Exists(path) ? throw new CliException($"{path}: is a directory, not a file") : File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"{path}: cannot read: {e.Message}", e);
        }
    }

    /// <summary>Writes <paramref name="bytes"/> to <paramref name="path"/> all or nothing (a temporary file renamed into place).</summary>
    public static void WriteAtomically(string path, byte[] bytes)
    {
        string full = Path.GetFullPath(path);
        string temp = Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.recurrent-{Environment.ProcessId}-{Guid.NewGuid():N}");
        try
        {
            File.WriteAllBytes(temp, bytes);
            File.Move(temp, full, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            File.Delete(temp);
            throw new CliException($"{path}: cannot write: {e.Message}", e);
        }
    }
}
