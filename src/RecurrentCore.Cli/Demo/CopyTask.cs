using RecurrentCore.Models;
using RecurrentCore.Training;

namespace RecurrentCore.Cli.Demo;

/// <summary>
/// Copy-memory with one symbol: step 0 shows a signal symbol s ∈ {0..3}, steps 1..T−2 show random distractors
/// {4..7}, step T−1 shows the query symbol 8, and the model must output s there (cross-entropy on that step only;
/// chance is 25 % and ln 4 = 1.386 nats). Solving it means carrying s across T − 1 steps of noise.
/// </summary>
internal static class CopyTask
{
    public const int Signals = 4;
    public const int Distractors = 4;
    public const int Query = Signals + Distractors;
    public const int Vocabulary = Query + 1;
    public const int EmbeddingSize = 8;

    /// <summary>Fills time-major (T, B) inputs and targets (ignored except at the last step).</summary>
    public static void Fill(Span<int> inputs, Span<int> targets, int seqLen, int batch, SeededRandom random)
    {
        targets.Fill(CrossEntropy.DefaultIgnoreIndex);
        for (int b = 0; b < batch; b++)
        {
            int s = random.NextInt(Signals);
            inputs[b] = s;
            for (int t = 1; t < seqLen - 1; t++)
            {
                inputs[(t * batch) + b] = Signals + random.NextInt(Distractors);
            }

            inputs[((seqLen - 1) * batch) + b] = Query;
            targets[((seqLen - 1) * batch) + b] = s;
        }
    }

    public static RecurrentLanguageModel NewModel(CellKind cell, int hidden, ulong seed) =>
        new(Vocabulary, EmbeddingSize, cell, hidden, 1, new SeededRandom(seed));

    /// <summary>Trains with Adam on fresh batches for the set number of steps; returns the held-out loss and accuracy.</summary>
    public static (double Loss, double Accuracy) Train(RecurrentLanguageModel model, int seqLen, DemoSettings s, ulong seed, ProgressBar bar)
    {
        var opt = new Adam(model.Parameters, new AdamOptions { LearningRate = s.LearningRate });
        var trainer = model.CreateTrainer(seqLen, s.Batch);
        var inputs = new int[seqLen * s.Batch];
        var targets = new int[seqLen * s.Batch];
        var data = new SeededRandom(seed);
        double smoothed = double.NaN;
        for (int step = 0; step < s.Steps; step++)
        {
            Fill(inputs, targets, seqLen, s.Batch, data);
            trainer.Bptt.ResetState();
            float loss = trainer.Step(inputs, targets, seqLen, opt, s.Clip);
            smoothed = double.IsNaN(smoothed) ? loss : (0.9 * smoothed) + (0.1 * loss);
            bar.Update(step + 1, $"loss {smoothed:0.000}");
        }

        return Evaluate(model, seqLen, s.EvalBatch, new SeededRandom(seed ^ 0x5EED_E7A1UL));
    }

    public static (double Loss, double Accuracy) Evaluate(RecurrentLanguageModel model, int seqLen, int batch, SeededRandom data)
    {
        var trainer = model.CreateTrainer(seqLen, batch);
        var inputs = new int[seqLen * batch];
        var targets = new int[seqLen * batch];
        Fill(inputs, targets, seqLen, batch, data);
        double loss = trainer.Evaluate(inputs, targets, seqLen);
        var logits = trainer.Logits(seqLen);
        int v = model.VocabularySize, correct = 0;
        for (int b = 0; b < batch; b++)
        {
            int row = ((seqLen - 1) * batch) + b;
            var z = logits.Slice(row * v, v);
            int best = 0;
            for (int c = 1; c < v; c++)
            {
                best = z[c] > z[best] ? c : best;
            }

            correct += best == targets[row] ? 1 : 0;
        }

        return (loss, (double)correct / batch);
    }
}
