using RecurrentCore.Models;
using RecurrentCore.Training;

namespace RecurrentCore.Cli.Demo;

/// <summary>
/// Classical baselines beside an LSTM, each fitted on the first 80 % of a generated sequence and scored on the rest:
/// a noisy periodic series (one-step MSE: AR(τ) least squares vs an LSTM forecaster) and a symbolic sequence with a
/// second-order rule (cross-entropy: order-1 Markov chain vs an LSTM language model).
/// </summary>
internal static class Baselines
{
    public const double SeriesNoise = 0.1;
    public const int Symbols = 5;
    public const double RuleProbability = 0.9;

    /// <summary>x_t = sin(2πt/20) + 0.5·sin(2πt/7) + 0.3·[t mod 13 = 0] + N(0, 0.1²).</summary>
    public static float[] Series(int length, SeededRandom random)
    {
        var x = new float[length];
        for (int t = 0; t < length; t++)
        {
            x[t] = (float)(Math.Sin(2 * Math.PI * t / 20) + (0.5 * Math.Sin(2 * Math.PI * t / 7)) + (t % 13 == 0 ? 0.3 : 0) + (SeriesNoise * random.NextNormal()));
        }

        return x;
    }

    /// <summary>With probability 0.9, x_t = (x_{t−1} + x_{t−2}) mod 5; otherwise uniform. An order-1 chain cannot see x_{t−2}.</summary>
    public static int[] Symbolic(int length, SeededRandom random)
    {
        var x = new int[length];
        x[0] = random.NextInt(Symbols);
        x[1] = random.NextInt(Symbols);
        for (int t = 2; t < length; t++)
        {
            x[t] = random.NextDouble() < RuleProbability ? (x[t - 1] + x[t - 2]) % Symbols : random.NextInt(Symbols);
        }

        return x;
    }

    /// <summary>The entropy rate of <see cref="Symbolic"/> in nats: the best any model can do.</summary>
    public static double SymbolicEntropy()
    {
        double right = RuleProbability + ((1 - RuleProbability) / Symbols), wrong = (1 - RuleProbability) / Symbols;
        return -((right * Math.Log(right)) + ((Symbols - 1) * wrong * Math.Log(wrong)));
    }

    public static double ArTestMse(float[] series, int split, int order)
    {
        var train = series[..split].Select(v => (double)v).ToArray();
        var all = series.Select(v => (double)v).ToArray();
        var ar = ArModel.FitLeastSquares(train, order);
        double sum = 0;
        for (int t = split; t < all.Length; t++)
        {
            double d = ar.Predict(all.AsSpan(t - order, order)) - all[t];
            sum += d * d;
        }

        return sum / (all.Length - split);
    }

    public static double LastValueMse(float[] series, int split)
    {
        double sum = 0;
        for (int t = split; t < series.Length; t++)
        {
            double d = series[t] - series[t - 1];
            sum += d * d;
        }

        return sum / (series.Length - split);
    }

    /// <summary>Trains an LSTM forecaster (targets x_{t+1}) on B contiguous pieces of the training part; returns the test MSE.</summary>
    public static double LstmTestMse(float[] series, int split, DemoSettings s, ulong seed, ProgressBar bar)
    {
        const int batch = 8, chunk = 32;
        var model = new RecurrentRegressor(CellKind.Lstm, 1, s.Hidden, 1, 1, new SeededRandom(seed));
        var opt = new Adam(model.Parameters, new AdamOptions { LearningRate = 5e-3 });
        var trainer = model.CreateTrainer(chunk, batch);
        int n = (split - 1) / batch;
        var x = new float[chunk * batch];
        var y = new float[chunk * batch];
        int chunks = (n + chunk - 1) / chunk;
        for (int epoch = 0; epoch < s.SeriesEpochs; epoch++)
        {
            trainer.Bptt.ResetState();
            for (int c = 0; c < chunks; c++)
            {
                int start = c * chunk, steps = Math.Min(chunk, n - start);
                for (int t = 0; t < steps; t++)
                {
                    for (int b = 0; b < batch; b++)
                    {
                        int at = (b * n) + start + t;
                        x[(t * batch) + b] = series[at];
                        y[(t * batch) + b] = series[at + 1];
                    }
                }

                float loss = trainer.Step(x.AsSpan(0, steps * batch), y.AsSpan(0, steps * batch), steps, opt, s.Clip);
                bar.Update(((long)epoch * chunks) + c + 1, $"loss {loss:0.0000}");
            }
        }

        // One stream over the whole series; only predictions of test values count.
        var eval = model.CreateTrainer(chunk, 1);
        var mask = new bool[chunk];
        double sum = 0;
        int count = 0;
        for (int start = 0; start + 1 < series.Length; start += chunk)
        {
            int steps = Math.Min(chunk, series.Length - 1 - start);
            for (int t = 0; t < steps; t++)
            {
                x[t] = series[start + t];
                y[t] = series[start + t + 1];
                mask[t] = start + t + 1 >= split;
            }

            int counted = mask.AsSpan(0, steps).Count(true);
            float loss = eval.Evaluate(x.AsSpan(0, steps), y.AsSpan(0, steps), steps, mask.AsSpan(0, steps));
            if (counted > 0)
            {
                sum += (double)loss * counted;
                count += counted;
            }
        }

        return sum / count;
    }

    public static double MarkovTestCrossEntropy(int[] sequence, int split)
    {
        var chain = MarkovChain.Fit(sequence.AsSpan(0, split), Symbols);
        return chain.CrossEntropy(sequence.AsSpan(split - 1));
    }

    /// <summary>Trains an LSTM language model on the training part; returns its test cross-entropy (nats/symbol).</summary>
    public static double LstmTestCrossEntropy(int[] sequence, int split, DemoSettings s, ulong seed, ProgressBar bar)
    {
        const int batch = 8, chunk = 32;
        var model = new RecurrentLanguageModel(Symbols, 8, CellKind.Lstm, s.Hidden, 1, new SeededRandom(seed));
        var opt = new Adam(model.Parameters, new AdamOptions { LearningRate = 1e-2 });
        var trainer = model.CreateTrainer(chunk, batch);
        int n = (split - 1) / batch;
        var x = new int[chunk * batch];
        var y = new int[chunk * batch];
        int chunks = (n + chunk - 1) / chunk;
        for (int epoch = 0; epoch < s.SymbolEpochs; epoch++)
        {
            trainer.Bptt.ResetState();
            for (int c = 0; c < chunks; c++)
            {
                int start = c * chunk, steps = Math.Min(chunk, n - start);
                for (int t = 0; t < steps; t++)
                {
                    for (int b = 0; b < batch; b++)
                    {
                        int at = (b * n) + start + t;
                        x[(t * batch) + b] = sequence[at];
                        y[(t * batch) + b] = sequence[at + 1];
                    }
                }

                float loss = trainer.Step(x.AsSpan(0, steps * batch), y.AsSpan(0, steps * batch), steps, opt, s.Clip);
                bar.Update(((long)epoch * chunks) + c + 1, $"loss {loss:0.000}");
            }
        }

        var eval = model.CreateTrainer(chunk, 1);
        double sum = 0;
        int count = 0;
        for (int start = 0; start + 1 < sequence.Length; start += chunk)
        {
            int steps = Math.Min(chunk, sequence.Length - 1 - start);
            int counted = 0;
            for (int t = 0; t < steps; t++)
            {
                x[t] = sequence[start + t];
                bool test = start + t + 1 >= split;
                y[t] = test ? sequence[start + t + 1] : CrossEntropy.DefaultIgnoreIndex;
                counted += test ? 1 : 0;
            }

            float loss = eval.Evaluate(x.AsSpan(0, steps), y.AsSpan(0, steps), steps);
            if (counted > 0)
            {
                sum += (double)loss * counted;
                count += counted;
            }
        }

        return sum / count;
    }

    public static int Chunks(int split) => (((split - 1) / 8) + 31) / 32;
}
