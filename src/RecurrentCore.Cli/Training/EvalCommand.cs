using System.CommandLine;
using System.Globalization;
using RecurrentCore.Models;

namespace RecurrentCore.Cli.Training;

/// <summary>
/// <c>recurrent eval</c>: the held-out loss of a <c>recurrent train</c> checkpoint on a text, in nats per char, with
/// W_ih and W_hh in each requested weight format (<see cref="CharLanguageModel.Evaluate"/>), and each format's cost
/// relative to float32.
/// </summary>
internal static class EvalCommand
{
    public static Command Create()
    {
        var checkpoint = new Option<string>("--checkpoint") { Description = "A checkpoint written by recurrent train.", Required = true };
        var text = new Option<string>("--text") { Description = "UTF-8 held-out text; every char must be in the checkpoint's vocabulary.", Required = true };
        var formats = new Option<string>("--weights-formats")
        {
            Description = "Comma-separated weight formats to evaluate: f32, bf16, int8 (the relative cost is against f32 when listed).",
            DefaultValueFactory = _ => "f32,bf16,int8",
        };
        var command = new Command("eval", "Held-out loss (nats/char) of a character LM checkpoint with its recurrent weights in float32, bf16 and int8.")
        {
            checkpoint, text, formats,
        };
        PathOptions.RequireNonEmpty(checkpoint, text);
        command.SetAction(parse =>
        {
            string ckPath = parse.GetValue(checkpoint)!, textPath = parse.GetValue(text)!;
            var list = ParseFormats(parse.GetValue(formats)!);
            var model = CharLanguageModel.Load(ckPath);
            string corpus = ReadText(textPath);
            var cfg = model.Model.Recurrent.Config;
            var o = parse.InvocationConfiguration.Output;
            o.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"eval: {ckPath}: {cfg.Cell.Name()} H={cfg.HiddenSize} L={cfg.NumLayers} E={cfg.InputSize}, vocabulary {model.Vocabulary.Length}; {corpus.Length - 1} predictions on {textPath}"));
            o.WriteLine("| format | nats/char | vs f32 |");
            o.WriteLine("|---|---|---|");
            double? f32 = null;
            foreach (var f in list)
            {
                double loss;
                try
                {
                    loss = model.Evaluate(corpus, f);
                }
                catch (ArgumentException e)
                {
                    throw new CliException($"{textPath}: {e.Message}");
                }
                catch (NotSupportedException e)
                {
                    throw new CliException($"{ckPath}: {f.Name()}: {e.Message}");
                }

                f32 ??= f == WeightFormat.Float32 ? loss : null;
                string rel = f32 is double b && f != WeightFormat.Float32
                    ? string.Create(CultureInfo.InvariantCulture, $"{100 * (loss - b) / b:+0.000;-0.000}%")
                    : "—";
                o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {f.Name()} | {loss:0.00000} | {rel} |"));
            }

            return 0;
        });
        return command;
    }

    private static List<WeightFormat> ParseFormats(string value)
    {
        var list = new List<WeightFormat>();
        foreach (string part in value.Split(',', StringSplitOptions.TrimEntries))
        {
            WeightFormat f;
            try
            {
                f = WeightFormats.Parse(part);
            }
            catch (ArgumentException)
            {
                throw new CliException($"--weights-formats: '{part}' is not f32, bf16 or int8");
            }

            if (list.Contains(f))
            {
                throw new CliException($"--weights-formats: {f.Name()} is listed twice");
            }

            list.Add(f);
        }

        // float32 first, so the others are reported against it.
        return [.. list.OrderBy(f => f != WeightFormat.Float32)];
    }

    private static string ReadText(string path)
    {
        try
        {
            return Directory.Exists(path) ? throw new CliException($"{path}: is a directory, not a text file") : File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"{path}: cannot read: {e.Message}", e);
        }
    }
}
