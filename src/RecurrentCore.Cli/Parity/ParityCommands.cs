using System.CommandLine;

namespace RecurrentCore.Cli.Parity;

/// <summary>
/// The parity contract: <c>recurrent forward</c> and <c>recurrent backward</c> read a PyTorch state_dict and .npy
/// inputs and write the outputs (and gradients) as float32 .npy / safetensors files into --out.
/// </summary>
internal static class ParityCommands
{
    public static Command Forward() => Create("forward", "Run a PyTorch-compatible RNN/LSTM/GRU forward on .npy inputs and write output.npy, h_n.npy (and c_n.npy).", backward: false);

    public static Command Backward() => Create(
        "backward",
        "Run forward and backward through time for loss = sum(output*DY) + sum(h_n*DHN) + sum(c_n*DCN); write the outputs, grad_input.npy, grad_h0.npy (grad_c0.npy) and grads.safetensors.",
        backward: true);

    private static Command Create(string name, string description, bool backward)
    {
        var cell = new Option<string?>("--cell") { Description = "The cell: lstm, gru, rnn-tanh or rnn-relu (required unless --model records it)." };
        cell.AcceptOnlyFromAmong("lstm", "gru", "rnn-tanh", "rnn-relu");
        var weights = new Option<string?>("--weights") { Description = "A PyTorch nn.LSTM/nn.GRU/nn.RNN state_dict saved as safetensors." };
        var model = new Option<string?>("--model") { Description = "A model file in either format, detected by content: a safetensors state_dict (configuration from its metadata) or an ONNX layer stack." };
        var module = new Option<string?>("--module") { Description = "The module prefix of a whole-model state_dict (e.g. encoder); found when only one holds recurrent parameters." };
        var input = new Option<string>("--input") { Description = "float32 input (T, B, I), or (B, T, I) with --batch-first.", Required = true };
        var h0 = new Option<string?>("--h0") { Description = "float32 initial hidden state (L*D, B, H); zeros when absent." };
        var c0 = new Option<string?>("--c0") { Description = "float32 initial cell state (L*D, B, H), LSTM only; zeros when absent." };
        var lengths = new Option<string?>("--lengths") { Description = "int64 sequence lengths (B,), each in 1..T, any order." };
        var batchFirst = new Option<bool>("--batch-first") { Description = "Input and output are (B, T, F) instead of (T, B, F)." };
        var output = new Option<string>("--out")
        {
            Description = "Output directory, replaced all or nothing: the new set is written beside it and swapped in only when complete, so a failed run leaves the previous outputs intact and a successful one leaves no stale file of an earlier run (see docs/reliability.md). It must be new, empty, or hold only files of an earlier run.",
            Required = true,
        };
        var reference = new Option<bool>("--reference") { Description = "Run the scalar double-precision reference path instead of the fast float32 kernels." };
        var command = new Command(name, description) { cell, weights, model, module, input, h0, c0, lengths, batchFirst, output, reference };
        PathOptions.RequireNonEmpty(weights, model, module, input, h0, c0, lengths, output);
        // Exactly one weights source, checked by the parser so that it is a usage error (exit 1) like a missing option.
        command.Validators.Add(result =>
        {
            bool hasWeights = result.GetResult(weights) is not null, hasModel = result.GetResult(model) is not null;
            if (hasWeights == hasModel)
            {
                result.AddError(hasWeights
                    ? "--weights and --model: give either --weights or --model, not both"
                    : "--weights: required (a safetensors state_dict), or --model FILE (safetensors or ONNX)");
            }
        });
        Option<string>? format = null;
        if (!backward)
        {
            format = new Option<string>("--weights-format") { Description = "f32, bf16 or int8: convert W_ih and W_hh before running (with --reference: the double reference on the converted weights). A quantized model file (recurrent convert --weights-format) runs in its own format.", DefaultValueFactory = _ => "f32" };
            format.AcceptOnlyFromAmong("f32", "bf16", "int8");
            command.Options.Add(format);
        }

        Option<string>? gradOutput = null;
        Option<string?>? gradHN = null, gradCN = null;
        if (backward)
        {
            gradOutput = new Option<string>("--grad-output") { Description = "float32 upstream gradient of the output, same shape as the output.", Required = true };
            gradHN = new Option<string?>("--grad-h-n") { Description = "float32 upstream gradient of h_n (L*D, B, H); zeros when absent." };
            gradCN = new Option<string?>("--grad-c-n") { Description = "float32 upstream gradient of c_n (L*D, B, H), LSTM only; zeros when absent." };
            command.Options.Add(gradOutput);
            command.Options.Add(gradHN);
            command.Options.Add(gradCN);
            PathOptions.RequireNonEmpty(gradOutput, gradHN, gradCN);
        }

        command.SetAction(parse =>
        {
            var (cellKind, weightsPath, isModel) = ModelFiles.ModelOptions.Resolve(parse.GetValue(cell), parse.GetValue(weights), parse.GetValue(model));
            var paths = new ParityPaths(
                cellKind ?? CellKind.Lstm,
                weightsPath,
                parse.GetValue(input)!,
                parse.GetValue(h0),
                parse.GetValue(c0),
                parse.GetValue(lengths),
                parse.GetValue(batchFirst),
                gradOutput is null ? null : parse.GetValue(gradOutput),
                gradHN is null ? null : parse.GetValue(gradHN),
                gradCN is null ? null : parse.GetValue(gradCN))
            {
                CellFromFile = cellKind is null,
                IsModel = isModel,
                Module = parse.GetValue(module),
            };
            var inputs = ParityInputs.Load(paths);
            // Given or not matters for a quantized model file, which runs in its own format.
            var wf = format is null || parse.GetResult(format) is null or { Implicit: true } ? (WeightFormat?)null : WeightFormats.Parse(parse.GetValue(format)!);
            var (outputs, grads) = ParityRun.Execute(inputs, parse.GetValue(reference), wf);
            string dir = parse.GetValue(output)!;
            var files = ParityRun.Files(inputs, outputs, grads);
            AtomicOutput.WriteAll(dir, files, ParityRun.AllFileNames);
            parse.InvocationConfiguration.Output.WriteLine($"wrote {string.Join(", ", files.Select(f => f.FileName))} to {dir}");
            return 0;
        });
        return command;
    }
}
