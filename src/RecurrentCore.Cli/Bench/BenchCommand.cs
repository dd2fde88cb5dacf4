using System.CommandLine;
using System.Globalization;
using System.Text.Json;

namespace RecurrentCore.Cli.Bench;

/// <summary>
/// <c>recurrent bench</c> (a contract: keep its flags and JSON): times one scenario and prints one JSON object
/// {"cell","mode","input","hidden","layers","bidirectional","batch","seq","threads","kernel","weights_format","iterations","median_ns",
/// "p99_ns","allocated_bytes_per_iteration"}, or a readable line without --json.
/// </summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var cell = new Option<string?>("--cell") { Description = "lstm, gru, rnn-tanh or rnn-relu (required unless --model; with --model, for a state_dict whose metadata does not record it)." };
        cell.AcceptOnlyFromAmong("lstm", "gru", "rnn-tanh", "rnn-relu");
        var input = new Option<int?>("--input") { Description = "Input features I (required unless --model)." };
        var hidden = new Option<int?>("--hidden") { Description = "Hidden size H (required unless --model)." };
        var layers = new Option<int?>("--layers") { Description = "Stacked layers L (default 1; from the file with --model)." };
        var model = new Option<string?>("--model") { Description = "Time this model file's layer stack instead of random weights: a safetensors state_dict or an ONNX model, detected by content; it sets the cell and every size." };
        var module = new Option<string?>("--module") { Description = "With --model: the module prefix of a whole-model state_dict (e.g. encoder)." };
        var bidirectional = new Option<bool>("--bidirectional") { Description = "Run both directions (not with --mode step)." };
        var batch = new Option<int>("--batch") { Description = "Batch size B (streams in step mode).", Required = true };
        var seq = new Option<int>("--seq") { Description = "Sequence length T (ignored in step mode, which runs one step).", Required = true };
        var mode = new Option<string>("--mode") { Description = "forward: one inference forward over (T, B); train: forward + full backward; step: one streaming step for B streams.", Required = true };
        mode.AcceptOnlyFromAmong("forward", "train", "step");
        var threads = new Option<int>("--threads") { Description = "Threads for forward and train (batch rows split among them; results bitwise identical to 1 thread).", DefaultValueFactory = _ => 1 };
        var seconds = new Option<double>("--seconds") { Description = "Measuring time after warm-up (which runs until the timing is stable).", DefaultValueFactory = _ => 2.0 };
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of a readable line." };
        var format = new Option<string>("--weights-format") { Description = "f32, bf16 or int8: how W_ih and W_hh are stored (bf16/int8: inference only, --mode step or forward).", DefaultValueFactory = _ => "f32" };
        format.AcceptOnlyFromAmong("f32", "bf16", "int8");
        var command = new Command("bench", "Time one layer call (forward, train or streaming step) on random weights and print the median and p99 latency.")
        {
            cell, input, hidden, layers, bidirectional, batch, seq, mode, threads, seconds, json, format, model, module,
        };
        PathOptions.RequireNonEmpty(model, module);
        command.Validators.Add(result =>
        {
            bool hasModel = result.GetResult(model) is not null;
            foreach (var shape in new Option[] { cell, input, hidden, layers, bidirectional })
            {
                bool given = result.GetResult(shape) is { Implicit: false };
                if (hasModel && given && shape != cell)
                {
                    result.AddError($"{shape.Name}: the --model file sets the sizes; drop {shape.Name}");
                }
                else if (!hasModel && !given && shape != layers && shape != bidirectional)
                {
                    result.AddError($"{shape.Name}: required (or --model FILE)");
                }
            }

            if (!hasModel && result.GetResult(module) is not null)
            {
                result.AddError("--module: selects a module of a --model state_dict; give --model");
            }
        });
        command.SetAction(parse =>
        {
            string? modelPath = parse.GetValue(model);
            var parameters = modelPath is null ? null : ModelFiles.ModelLoader.LoadParameters(modelPath, parse.GetValue(cell) is { } c ? CellKinds.Parse(c) : null, null, parse.GetValue(module));
            int i = parameters?.Config.InputSize ?? Positive(parse.GetValue(input) ?? 0, "--input");
            int h = parameters?.Config.HiddenSize ?? Positive(parse.GetValue(hidden) ?? 0, "--hidden");
            int l = parameters?.Config.NumLayers ?? Positive(parse.GetValue(layers) ?? 1, "--layers"), b = Positive(parse.GetValue(batch), "--batch");
            int t = Positive(parse.GetValue(seq), "--seq"), th = Positive(parse.GetValue(threads), "--threads");
            double s = parse.GetValue(seconds);
            if (!(s > 0 && s <= 3600))
            {
                throw new CliException($"--seconds: {s.ToString(CultureInfo.InvariantCulture)} is outside (0, 3600]");
            }

            var m = Enum.Parse<BenchMode>(parse.GetValue(mode)!, ignoreCase: true);
            if (th != 1 && m == BenchMode.Step)
            {
                throw new CliException($"--threads: a streaming step runs on the calling thread; {th} threads apply to --mode forward and train");
            }

            bool bi = parameters?.Config.Bidirectional ?? parse.GetValue(bidirectional);
            if (m == BenchMode.Step && bi)
            {
                throw new CliException("--bidirectional: a bidirectional layer cannot stream (--mode step)");
            }

            var wf = WeightFormats.Parse(parse.GetValue(format)!);
            if (wf != WeightFormat.Float32)
            {
                if (m == BenchMode.Train)
                {
                    throw new CliException($"--weights-format: {wf.Name()} weights are for inference; training runs float32 (--mode step or forward)");
                }

                if (bi)
                {
                    throw new CliException($"--weights-format: {wf.Name()} layers are unidirectional; drop --bidirectional");
                }

                if (th != 1)
                {
                    throw new CliException($"--threads: {wf.Name()} layers run on the calling thread");
                }

                if (parameters is { Config.ProjSize: > 0 })
                {
                    throw new CliException($"--weights-format: {wf.Name()} layers have no projection; {modelPath} is an LSTM with proj_size {parameters.Config.ProjSize}");
                }
            }

            var cfg = parameters?.Config ?? new RecurrentConfig(CellKinds.Parse(parse.GetValue(cell)!), i, h, l, bidirectional: bi);
            using var scenario = new BenchScenario(cfg, m, t, b, th, weightFormat: wf, parameters: parameters);
            var r = scenario.Measure(s);
            var o = parse.InvocationConfiguration.Output;
            if (parse.GetValue(json))
            {
                o.WriteLine(Json(cfg, m, t, b, th, scenario.Kernel, r, wf));
            }
            else
            {
                o.WriteLine(string.Create(
                    CultureInfo.InvariantCulture,
                    $"{cfg.Cell.Name()} {m.ToString().ToLowerInvariant()} I={i} H={h}{(cfg.ProjSize > 0 ? $" P={cfg.ProjSize}" : string.Empty)} L={l}{(bi ? " bi" : string.Empty)} B={b} T={(m == BenchMode.Step ? 1 : t)} kernel={scenario.Kernel} weights={wf.Name()}: median {Format(r.MedianNs)}, p99 {Format(r.P99Ns)}, {r.Iterations} iterations in {r.MeasuredSeconds:0.00} s after {r.WarmupSeconds:0.00} s warm-up, {r.AllocatedBytesPerIteration:0.##} B allocated/iteration"));
            }

            return 0;
        });
        return command;
    }

    internal static string Json(RecurrentConfig cfg, BenchMode mode, int seqLen, int batch, int threads, string kernel, BenchResult r, WeightFormat format = WeightFormat.Float32)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartObject();
            w.WriteString("cell", cfg.Cell.Name());
            w.WriteString("mode", mode.ToString().ToLowerInvariant());
            w.WriteNumber("input", cfg.InputSize);
            w.WriteNumber("hidden", cfg.HiddenSize);
            w.WriteNumber("layers", cfg.NumLayers);
            w.WriteBoolean("bidirectional", cfg.Bidirectional);
            w.WriteNumber("batch", batch);
            w.WriteNumber("seq", mode == BenchMode.Step ? 1 : seqLen);
            w.WriteNumber("threads", threads);
            w.WriteString("kernel", kernel);
            w.WriteString("weights_format", format.Name());
            w.WriteNumber("iterations", r.Iterations);
            w.WriteNumber("median_ns", Math.Round(r.MedianNs, 1));
            w.WriteNumber("p99_ns", Math.Round(r.P99Ns, 1));
            w.WriteNumber("allocated_bytes_per_iteration", Math.Round(r.AllocatedBytesPerIteration, 3));
            w.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }

    private static int Positive(int value, string name) =>
        value >= 1 ? value : throw new CliException($"{name}: {value} must be at least 1");

    private static string Format(double ns) => ns switch
    {
        < 1e3 => string.Create(CultureInfo.InvariantCulture, $"{ns:0.0} ns"),
        < 1e6 => string.Create(CultureInfo.InvariantCulture, $"{ns / 1e3:0.00} µs"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{ns / 1e6:0.00} ms"),
    };
}
