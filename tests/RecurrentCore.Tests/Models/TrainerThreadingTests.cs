using RecurrentCore.Models;
using RecurrentCore.Tests.Cli;
using RecurrentCore.Training;
using Xunit;

namespace RecurrentCore.Tests.Models;

/// <summary>
/// Trainers on several threads: the recurrent passes and the head split whole rows, so weights after a few steps are
/// bitwise those of one thread; the steady-state step allocates nothing on any thread; <c>recurrent train --threads</c>.
/// </summary>
public sealed class TrainerThreadingTests
{
    private const string Text = "the cat sat on the mat. the dog sat on the log. a quick brown fox jumps over the lazy dog! ";

    // k·B = 128 rows (row parts for the head and the projections), B = 8 (batch slices), V = 70 (dW parts).
    private const int Chunk = 16, Batch = 8, Vocabulary = 70;

    [Theory]
    [InlineData(CellKind.Lstm, 2)]
    [InlineData(CellKind.Gru, 2)]
    [InlineData(CellKind.Lstm, 3)]
    public void Language_model_weights_after_training_are_bitwise_those_of_one_thread(CellKind cell, int threads)
    {
        float[][] one = TrainLanguageModel(cell, 1);
        float[][] many = TrainLanguageModel(cell, threads);
        Assert.Equal(one.Length, many.Length);
        for (int i = 0; i < one.Length; i++)
        {
            Assert.Equal(one[i], many[i]);
        }
    }

    [Fact]
    public void Regressor_weights_after_training_are_bitwise_those_of_one_thread()
    {
        float[][] Train(int threads)
        {
            var model = new RecurrentRegressor(CellKind.Gru, 3, 24, 2, 70, new SeededRandom(4));
            var opt = new Adam(model.Parameters, new AdamOptions { LearningRate = 1e-2 });
            using var trainer = model.CreateTrainer(Chunk, Batch, threads);
            var rng = new SeededRandom(5);
            float[] x = HeadTestsData(Chunk * Batch * 3, rng), y = HeadTestsData(Chunk * Batch * 70, rng);
            for (int s = 0; s < 4; s++)
            {
                trainer.Step(x, y, Chunk, opt, 1.0);
            }

            return model.Parameters.Select(p => p.Value.ToArray()).ToArray();
        }

        float[][] one = Train(1), two = Train(2);
        for (int i = 0; i < one.Length; i++)
        {
            Assert.Equal(one[i], two[i]);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Char_language_model_training_step_allocates_nothing_once_warm(int threads)
    {
        var model = new CharLanguageModel(CharLanguageModel.VocabularyOf(Text), CellKind.Lstm, 32, 1, 16, new SeededRandom(2));
        var lm = model.Model;
        var opt = new Adam(lm.Parameters, new AdamOptions { LearningRate = 3e-3 });
        using var trainer = lm.CreateTrainer(Chunk, Batch, threads);
        int[] ids = model.Encode(Text);
        int[] inputs = new int[Chunk * Batch], targets = new int[Chunk * Batch];
        for (int i = 0; i < inputs.Length; i++)
        {
            inputs[i] = ids[i % (ids.Length - 1)];
            targets[i] = ids[(i % (ids.Length - 1)) + 1];
        }

        void Step() => trainer.Step(inputs, targets, Chunk, opt, 5.0);

        // Neither this thread nor the workers (in their parts) allocate once warm.
        AllocationAssert.Zero(Step, () => WorkerBytes(trainer), iterations: 8, warmup: 32);
        Assert.Equal(threads, trainer.Bptt.Threads);
    }

    [Fact]
    public void Train_command_with_two_threads_writes_the_checkpoint_of_one_thread()
    {
        using var cli = new CliHarness();
        string text = cli.Path("text.txt");
        File.WriteAllText(text, string.Concat(Enumerable.Repeat(Text, 8)));
        byte[] Run(int threads)
        {
            string ckpt = cli.Path($"t{threads}.safetensors");
            var (code, output, error) = cli.Run(
                "train", "--text", text, "--cell", "lstm", "--hidden", "24", "--epochs", "2", "--seq-len", "16", "--batch", "8",
                "--seed", "3", "--threads", threads.ToString(System.Globalization.CultureInfo.InvariantCulture), "--checkpoint", ckpt);
            Assert.True(code == 0, error);
            Assert.Contains($"threads {threads}", output, StringComparison.Ordinal);
            return File.ReadAllBytes(ckpt);
        }

        Assert.Equal(Run(1), Run(2));
        var bad = cli.Run("train", "--text", text, "--threads", "0", "--checkpoint", cli.Path("bad.safetensors"));
        Assert.Equal(2, bad.Code);
        Assert.Equal("recurrent: error: --threads must be at least 1, got 0", bad.Err.Trim());
        Assert.False(File.Exists(cli.Path("bad.safetensors")));
    }

    private static long WorkerBytes(LanguageModelTrainer trainer) => trainer.Bptt.Pool?.WorkerAllocatedBytes ?? 0;

    private static float[] HeadTestsData(int count, SeededRandom rng) => Training.HeadTests.Random(count, rng);

    private static float[][] TrainLanguageModel(CellKind cell, int threads)
    {
        var model = new RecurrentLanguageModel(Vocabulary, 12, cell, 40, 2, new SeededRandom(11));
        var opt = new AdamW(model.Parameters, new AdamOptions { LearningRate = 1e-2 });
        using var trainer = model.CreateTrainer(Chunk, Batch, threads);
        var rng = new SeededRandom(12);
        int[] ids = Enumerable.Range(0, (Chunk * Batch) + 1).Select(_ => rng.NextInt(Vocabulary)).ToArray();
        for (int s = 0; s < 4; s++)
        {
            trainer.Step(ids.AsSpan(0, Chunk * Batch), ids.AsSpan(1, Chunk * Batch), Chunk, opt, 0.5);
        }

        return model.Parameters.Select(p => p.Value.ToArray()).ToArray();
    }
}
