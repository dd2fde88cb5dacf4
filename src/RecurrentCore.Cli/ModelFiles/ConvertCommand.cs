using System.CommandLine;
using RecurrentCore.Interop;
using RecurrentCore.Interop.Onnx;

namespace RecurrentCore.Cli.ModelFiles;

/// <summary>
/// <c>recurrent convert IN OUT</c>: a layer stack between a safetensors state_dict (with the configuration in its
/// metadata) and ONNX. IN's format is read from its content; OUT's from its extension (.onnx or .safetensors).
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
        var command = new Command("convert", "Convert a recurrent layer stack between safetensors and ONNX.") { input, output, cell, batchFirst, module, opset };
        command.SetAction(parse =>
        {
            string inPath = parse.GetValue(input)!, outPath = parse.GetValue(output)!;
            string ext = Path.GetExtension(outPath).ToLowerInvariant();
            if (ext is not (".onnx" or ".safetensors"))
            {
                throw new CliException($"{outPath}: the output's extension must be .onnx or .safetensors");
            }

            var p = ModelLoader.LoadParameters(
                inPath,
                parse.GetValue(cell) is { } c ? CellKinds.Parse(c) : null,
                parse.GetValue(batchFirst) ? true : null,
                parse.GetValue(module));
            if (ext == ".onnx" && p.Config.ProjSize > 0)
            {
                throw new CliException($"{outPath}: ONNX's LSTM has no projection; {inPath} is an LSTM with proj_size {p.Config.ProjSize} (weight_hr_l{{k}}) and converts to .safetensors only");
            }

            byte[] bytes = ext == ".onnx"
                ? OnnxModel.Export(p, new OnnxExportOptions { Opset = parse.GetValue(opset), SequenceLens = true, InitialStates = true })
                : PyTorchStateDict.ToSafeTensors(p);
            ModelLoader.WriteAtomically(outPath, bytes);
            parse.InvocationConfiguration.Output.WriteLine($"wrote {outPath} ({Describe(p.Config)})");
            return 0;
        });
        return command;
    }

    public static string Describe(RecurrentConfig c) =>
        $"{c.Cell.Name()}, input {c.InputSize}, hidden {c.HiddenSize}, {c.NumLayers} layer(s), {(c.Bidirectional ? "bidirectional" : "unidirectional")}, "
        + $"{(c.BatchFirst ? "batch-first" : "time-major")}, {(c.Bias ? "bias" : "no bias")}"
        + (c.Cell == CellKind.Gru ? $", linear_before_reset {(c.LinearBeforeReset ? 1 : 0)}" : string.Empty);
}
