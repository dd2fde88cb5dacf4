using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using RecurrentCore.Models;
using RecurrentCore.Training;

namespace RecurrentCore.Cli.Training;

/// <summary>
/// <c>recurrent train</c>: a character-level language model (Embedding → RNN/LSTM/GRU → Linear → softmax) trained on a
/// text file with truncated BPTT; the checkpoint (safetensors, PyTorch names, vocabulary in the metadata) is written
/// to a temporary file and renamed, so a failed run leaves nothing.
/// </summary>
internal static class TrainCommand
{
    public static Command Create()
    {
        var text = new Option<string>("--text") { Description = "UTF-8 training text.", Required = true };
        var cell = new Option<string>("--cell") { Description = "lstm, gru, rnn-tanh or rnn-relu.", DefaultValueFactory = _ => "lstm" };
        var hidden = new Option<int>("--hidden") { Description = "Hidden size H.", DefaultValueFactory = _ => 128 };
        var layers = new Option<int>("--layers") { Description = "Stacked recurrent layers L.", DefaultValueFactory = _ => 1 };
        var embedding = new Option<int>("--embedding") { Description = "Embedding size E.", DefaultValueFactory = _ => 32 };
        var epochs = new Option<int>("--epochs") { Description = "Passes over the text.", DefaultValueFactory = _ => 1 };
        var seqLen = new Option<int>("--seq-len") { Description = "Truncation length k: gradients flow back at most k steps; the state carries on.", DefaultValueFactory = _ => 64 };
        var batch = new Option<int>("--batch") { Description = "Parallel streams B (the text is cut into B contiguous pieces).", DefaultValueFactory = _ => 16 };
        var clip = new Option<double>("--clip") { Description = "Maximum global gradient norm; 0 disables clipping.", DefaultValueFactory = _ => 5.0 };
        var optimizer = new Option<string>("--optimizer") { Description = "sgd, adam or adamw.", DefaultValueFactory = _ => "adam" };
        var lr = new Option<double>("--lr") { Description = "Learning rate.", DefaultValueFactory = _ => 3e-3 };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the initialisation.", DefaultValueFactory = _ => 0UL };
        var checkpoint = new Option<string>("--checkpoint") { Description = "Output checkpoint (.safetensors).", Required = true };
        var threads = new Option<int>("--threads") { Description = "Threads for the recurrent passes and the head (results bitwise identical to 1 thread).", DefaultValueFactory = _ => 1 };
        var dropout = new Option<double>("--dropout") { Description = "Dropout between stacked recurrent layers in training, as nn.LSTM(dropout=p): p in [0, 1); masks seeded from --seed.", DefaultValueFactory = _ => 0.0 };
        var command = new Command("train", "Train a character-level language model on a text file and save a safetensors checkpoint.")
        {
            text, cell, hidden, layers, embedding, epochs, seqLen, batch, clip, optimizer, lr, seed, checkpoint, threads, dropout,
        };
        PathOptions.RequireNonEmpty(text, checkpoint);
        command.SetAction(parse => Run(
            new TrainSettings(
                parse.GetValue(text)!, parse.GetValue(cell)!, parse.GetValue(hidden), parse.GetValue(layers), parse.GetValue(embedding),
                parse.GetValue(epochs), parse.GetValue(seqLen), parse.GetValue(batch), parse.GetValue(clip), parse.GetValue(optimizer)!,
                parse.GetValue(lr), parse.GetValue(seed), parse.GetValue(checkpoint)!, parse.GetValue(threads), parse.GetValue(dropout)),
            parse.InvocationConfiguration.Output,
            parse.InvocationConfiguration.Error));
        return command;
    }

    public static int Run(TrainSettings s, TextWriter output, TextWriter error)
    {
        var cell = ParseCell(s.Cell);
        Positive("--hidden", s.Hidden);
        Positive("--layers", s.Layers);
        Positive("--embedding", s.Embedding);
        Positive("--epochs", s.Epochs);
        Positive("--seq-len", s.SeqLen);
        Positive("--batch", s.Batch);
        Positive("--threads", s.Threads);
        if (!(s.Dropout >= 0 && s.Dropout < 1))
        {
            throw new CliException($"--dropout must be in [0, 1), got {s.Dropout.ToString(CultureInfo.InvariantCulture)}");
        }

        if (!(s.LearningRate > 0) || !double.IsFinite(s.LearningRate))
        {
            throw new CliException($"--lr must be a positive number, got {s.LearningRate.ToString(CultureInfo.InvariantCulture)}");
        }

        if (!(s.Clip >= 0) || !double.IsFinite(s.Clip))
        {
            throw new CliException($"--clip must be 0 (off) or positive, got {s.Clip.ToString(CultureInfo.InvariantCulture)}");
        }

        PrepareCheckpointFolder(s.CheckpointPath);
        string corpus = ReadText(s.TextPath);
        int streamLength = (corpus.Length - 1) / s.Batch;
        if (streamLength < 1)
        {
            throw new CliException($"{s.TextPath}: {corpus.Length} chars is too short for --batch {s.Batch} (needs at least {s.Batch + 1})");
        }

        var model = new CharLanguageModel(CharLanguageModel.VocabularyOf(corpus), cell, s.Hidden, s.Layers, s.Embedding, new SeededRandom(s.Seed));
        var lm = model.Model;
        lm.Recurrent.Dropout = s.Dropout;
        lm.Recurrent.DropoutSeed = s.Seed;
        Optimizer opt = s.Optimizer switch
        {
            "sgd" => new Sgd(lm.Parameters, new SgdOptions { LearningRate = s.LearningRate }),
            "adam" => new Adam(lm.Parameters, new AdamOptions { LearningRate = s.LearningRate }),
            "adamw" => new AdamW(lm.Parameters, new AdamOptions { LearningRate = s.LearningRate }),
            _ => throw new CliException($"--optimizer: unknown optimizer '{s.Optimizer}': expected sgd, adam or adamw"),
        };

        // B contiguous streams: stream b reads ids[b·n .. (b+1)·n] (and the next char as its last target).
        int[] ids = model.Encode(corpus);
        int k = Math.Min(s.SeqLen, streamLength), b = s.Batch;
        using var trainer = lm.CreateTrainer(k, b, s.Threads);
        var inputs = new int[k * b];
        var targets = new int[k * b];
        int chunks = (streamLength + k - 1) / k;
        long totalChunks = (long)chunks * s.Epochs;
        output.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"train: {corpus.Length} chars, vocabulary {model.Vocabulary.Length}, {cell.Name()} H={s.Hidden} L={s.Layers} E={s.Embedding}{(s.Dropout > 0 ? $" dropout {s.Dropout}" : string.Empty)}, {lm.Parameters.ElementCount} parameters; B={b} streams of {streamLength} chars, truncation {k}, {s.Optimizer} lr {s.LearningRate}, clip {s.Clip}, threads {s.Threads}"));
        var bar = new ProgressBar(error, "train", totalChunks);
        var clock = Stopwatch.StartNew();
        long done = 0, chars = 0;
        double firstEpochLoss = double.NaN, lastEpochLoss = double.NaN;
        for (int epoch = 0; epoch < s.Epochs; epoch++)
        {
            trainer.Bptt.ResetState();
            double sum = 0;
            long count = 0;
            for (int start = 0; start < streamLength; start += k)
            {
                int steps = Math.Min(k, streamLength - start);
                for (int t = 0; t < steps; t++)
                {
                    for (int j = 0; j < b; j++)
                    {
                        int at = (j * streamLength) + start + t;
                        inputs[(t * b) + j] = ids[at];
                        targets[(t * b) + j] = ids[at + 1];
                    }
                }

                float loss = trainer.Step(inputs.AsSpan(0, steps * b), targets.AsSpan(0, steps * b), steps, opt, s.Clip);
                if (!float.IsFinite(loss))
                {
                    throw new CliException($"training diverged at epoch {epoch + 1} (loss {loss}); lower --lr or set --clip");
                }

                sum += (double)loss * steps * b;
                count += (long)steps * b;
                chars += (long)steps * b;
                done++;
                double rate = chars / Math.Max(1e-9, clock.Elapsed.TotalSeconds);
                bar.Update(done, string.Create(CultureInfo.InvariantCulture, $"epoch {epoch + 1}/{s.Epochs} loss {loss:0.000} {rate:0} chars/s"));
            }

            double mean = sum / count;
            firstEpochLoss = epoch == 0 ? mean : firstEpochLoss;
            lastEpochLoss = mean;
        }

        bar.Finish(string.Create(CultureInfo.InvariantCulture, $"{chars / Math.Max(1e-9, clock.Elapsed.TotalSeconds):0} chars/s"));
        var meta = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["train.epochs"] = s.Epochs.ToString(CultureInfo.InvariantCulture),
            ["train.seq_len"] = k.ToString(CultureInfo.InvariantCulture),
            ["train.batch"] = b.ToString(CultureInfo.InvariantCulture),
            ["train.seed"] = s.Seed.ToString(CultureInfo.InvariantCulture),
            ["train.dropout"] = s.Dropout.ToString("R", CultureInfo.InvariantCulture),
            ["train.loss"] = lastEpochLoss.ToString("R", CultureInfo.InvariantCulture),
        };
        try
        {
            model.Save(s.CheckpointPath, opt, meta);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"{s.CheckpointPath}: cannot write checkpoint: {e.Message}", e);
        }

        output.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"mean loss (nats/char): epoch 1 {firstEpochLoss:0.0000}, epoch {s.Epochs} {lastEpochLoss:0.0000}; uniform would be {Math.Log(model.Vocabulary.Length):0.0000}"));
        output.WriteLine($"wrote {s.CheckpointPath}");
        return 0;
    }

    internal static CellKind ParseCell(string name)
    {
        try
        {
            return CellKinds.Parse(name);
        }
        catch (ArgumentException)
        {
            throw new CliException($"--cell: unknown cell '{name}': expected lstm, gru, rnn-tanh or rnn-relu");
        }
    }

    /// <summary>
    /// Creates the checkpoint's folder before any work, so a path that cannot be written fails in a second, not after
    /// the whole training run.
    /// </summary>
    internal static void PrepareCheckpointFolder(string path)
    {
        if (Directory.Exists(path))
        {
            throw new CliException($"{path}: is a directory; --checkpoint names the .safetensors file to write");
        }

        string? folder = null;
        try
        {
            folder = Path.GetDirectoryName(Path.GetFullPath(path));
            if (folder is not null)
            {
                Directory.CreateDirectory(folder);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new CliException($"{path}: cannot create the checkpoint's folder {folder}: {e.Message}", e);
        }
    }

    internal static void Positive(string flag, int value)
    {
        if (value < 1)
        {
            throw new CliException($"{flag} must be at least 1, got {value}");
        }
    }

    private static string ReadText(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (FileNotFoundException)
        {
            throw new CliException($"{path}: text file not found");
        }
        catch (DirectoryNotFoundException)
        {
            throw new CliException($"{path}: text file not found");
        }

        if (text.Length < 2)
        {
            throw new CliException($"{path}: the text is empty (needs at least 2 chars)");
        }

        return text;
    }
}

internal sealed record TrainSettings(
    string TextPath, string Cell, int Hidden, int Layers, int Embedding, int Epochs, int SeqLen, int Batch, double Clip, string Optimizer,
    double LearningRate, ulong Seed, string CheckpointPath, int Threads = 1, double Dropout = 0);
