using System.CommandLine;
using RecurrentCore.Interop;
using RecurrentCore.Interop.Onnx;
using RecurrentCore.Layers;

namespace RecurrentCore.Cli.ModelFiles;

/// <summary>
/// <c>recurrent convert IN OUT [--weights-format f32|bf16|int8]</c>: a layer stack between a safetensors state_dict (with
/// the configuration in its metadata), a quantized layer file and ONNX. IN's format is read from its content; OUT's from
/// its extension (.onnx or .safetensors).
/// </summary>
internal static class ConvertCommand
{
    public static Command Create()
    {
        var input = new Argument<string>("IN") { Description = "A safetensors state_dict or an ONNX model (detected by content)." };
        var output = new Argument<string>("OUT") { Description = "The file to write: .onnx or .safetensors." };
        var cell = new Option<string?>("--cell") { Description = "The cell of a state_dict without recorded configuration: lstm, gru, rnn-tanh or rnn-relu." };
        cell.AcceptOnlyFromAmong("lstm", "gru", "rnn-tanh", "rnn-relu");
        var batchFirst = new Option<bool>("--batch-first") { Description = "The state_dict's model is batch-first (recorded in the output)." };
        var module = new Option<string?>("--module") { Description = "The module prefix of a whole-model state_dict (e.g. encoder)." };
        var opset = new Option<int>("--opset") { Description = "The ONNX opset to write (14..21).", DefaultValueFactory = _ => 14 };
        var format = new Option<string?>("--weights-format")
        {
            Description = "Store W_ih and W_hh as f32, bf16 or int8 (.safetensors: a quantized layer file with its scales; .onnx: int8 LSTM as com.microsoft.DynamicQuantizeLSTM). Default: IN's format.",
        };
        format.AcceptOnlyFromAmong("f32", "bf16", "int8");
        var command = new Command("convert", "Convert a recurrent layer stack between safetensors and ONNX, or to bf16/int8 weights.") { input, output, cell, batchFirst, module, opset, format };
        command.SetAction(parse =>
        {
            string inPath = parse.GetValue(input)!, outPath = parse.GetValue(output)!;
            string ext = Path.GetExtension(outPath).ToLowerInvariant();
            if (ext is not (".onnx" or ".safetensors"))
            {
                throw new CliException($"{outPath}: the output's extension must be .onnx or .safetensors");
            }

            var model = ModelLoader.Load(
                inPath,
                parse.GetValue(cell) is { } c ? CellKinds.Parse(c) : null,
                parse.GetValue(batchFirst) ? true : null,
                parse.GetValue(module));
            if (ext == ".onnx" && model.Parameters.Config.ProjSize > 0)
            {
                throw new CliException($"{outPath}: ONNX's LSTM has no projection; {inPath} is an LSTM with proj_size {model.Parameters.Config.ProjSize} (weight_hr_l{{k}}) and converts to .safetensors only");
            }

            var wf = parse.GetValue(format) is { } f ? WeightFormats.Parse(f) : (WeightFormat?)null;
            if (model.Reverse && (ext != ".onnx" || wf is not (null or WeightFormat.Float32)))
            {
                throw new CliException($"{inPath}: a reverse-only stack (ONNX direction = reverse) converts to float32 .onnx only: a PyTorch state_dict or quantized layer file has no reverse-only layer");
            }

            var q = Quantize(inPath, model, wf);
            var onnx = new OnnxExportOptions { Opset = parse.GetValue(opset), SequenceLens = true, InitialStates = true, Reverse = model.Reverse };
            byte[] bytes = (ext, q) switch
            {
                (".onnx", null) => OnnxModel.Export(model.Parameters, onnx),
                (".onnx", _) => QuantizedOnnx(outPath, q, onnx),
                (_, null) => PyTorchStateDict.ToSafeTensors(model.Parameters),
                _ => q.ToSafeTensors(),
            };
            ModelLoader.WriteAtomically(outPath, bytes);
            parse.InvocationConfiguration.Output.WriteLine($"wrote {outPath} ({Describe(model.Parameters.Config)}{(model.Reverse ? ", reverse" : string.Empty)}{(q is null ? string.Empty : $", {q.Format.Name()} weights")})");
            return 0;
        });
        return command;
    }

    /// <summary>The layer to write in a reduced format, or null for float32 parameters.</summary>
    private static QuantizedLayer? Quantize(string inPath, LoadedModel model, WeightFormat? format)
    {
        if (model.Quantized is { } q)
        {
            // Quantizing stored bf16/int8 weights again (or widening them back) would not give the float model's layer.
            return format is null || format == q.Format
                ? q
                : throw new CliException($"--weights-format {format.Value.Name()}: {inPath} holds {q.Format.Name()} weights already; convert from the float32 model");
        }

        if (format is null or WeightFormat.Float32)
        {
            return null;
        }

        try
        {
            return QuantizedLayer.FromParameters(model.Parameters, format.Value);
        }
        catch (Exception e) when (e is NotSupportedException or ArgumentException)
        {
            throw new CliException($"--weights-format {format.Value.Name()}: {inPath}: {e.Message}");
        }
    }

    private static byte[] QuantizedOnnx(string outPath, QuantizedLayer q, OnnxExportOptions options)
    {
        try
        {
            return q.ToOnnx(options);
        }
        catch (NotSupportedException e)
        {
            throw new CliException($"{outPath}: {e.Message}");
        }
    }

    public static string Describe(RecurrentConfig c) =>
        $"{c.Cell.Name()}, input {c.InputSize}, hidden {c.HiddenSize}, {c.NumLayers} layer(s), {(c.Bidirectional ? "bidirectional" : "unidirectional")}, "
        + $"{(c.BatchFirst ? "batch-first" : "time-major")}, {(c.Bias ? "bias" : "no bias")}"
        + (c.Cell == CellKind.Gru ? $", linear_before_reset {(c.LinearBeforeReset ? 1 : 0)}" : string.Empty);
}
