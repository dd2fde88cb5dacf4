using System.CommandLine;
using System.Globalization;
using RecurrentCore.Models;
using RecurrentCore.Training;

namespace RecurrentCore.Cli.Training;

/// <summary><c>recurrent generate</c>: samples text from a <c>recurrent train</c> checkpoint, one streaming step per char.</summary>
internal static class GenerateCommand
{
    public static Command Create()
    {
        var checkpoint = new Option<string>("--checkpoint") { Description = "A checkpoint written by 'recurrent train'.", Required = true };
        var prompt = new Option<string?>("--prompt") { Description = "Text fed before sampling (chars must be in the vocabulary); default: the vocabulary's first char." };
        var length = new Option<int>("--length") { Description = "Chars to generate.", DefaultValueFactory = _ => 200 };
        var temperature = new Option<double>("--temperature") { Description = "Softmax temperature; 0 is greedy.", DefaultValueFactory = _ => 1.0 };
        var topK = new Option<int>("--top-k") { Description = "Sample among the k most likely chars; 0 for all.", DefaultValueFactory = _ => 0 };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the sampler.", DefaultValueFactory = _ => 0UL };
        var command = new Command("generate", "Generate text from a character-level language model checkpoint.") { checkpoint, prompt, length, temperature, topK, seed };
        PathOptions.RequireNonEmpty(checkpoint);
        command.SetAction(parse =>
        {
            string path = parse.GetValue(checkpoint)!;
            int n = parse.GetValue(length);
            double tau = parse.GetValue(temperature);
            int k = parse.GetValue(topK);
            if (n < 0)
            {
                throw new CliException($"--length must be 0 or more, got {n}");
            }

            if (!(tau >= 0) || !double.IsFinite(tau))
            {
                throw new CliException($"--temperature must be 0 or positive, got {tau.ToString(CultureInfo.InvariantCulture)}");
            }

            if (k < 0)
            {
                throw new CliException($"--top-k must be 0 (all) or positive, got {k}");
            }

            if (!File.Exists(path))
            {
                throw new CliException($"{path}: checkpoint not found");
            }

            var model = CharLanguageModel.Load(path);
            string text = parse.GetValue(prompt) ?? model.Vocabulary[..1];
            if (text.Length == 0)
            {
                throw new CliException("--prompt is empty: give at least one char");
            }

            foreach (char c in text)
            {
                if (!model.Contains(c))
                {
                    throw new CliException($"--prompt: char '{c}' (U+{(int)c:X4}) is not in the checkpoint's vocabulary");
                }
            }

            var output = parse.InvocationConfiguration.Output;
            output.Write(text);
            output.WriteLine(model.Generate(text, n, tau, k, new SeededRandom(parse.GetValue(seed))));
            return 0;
        });
        return command;
    }
}
