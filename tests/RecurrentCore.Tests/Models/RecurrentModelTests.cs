using RecurrentCore.Models;
using RecurrentCore.Tests.Training;
using RecurrentCore.Training;
using Xunit;

namespace RecurrentCore.Tests.Models;

/// <summary>Trainable wrapper, truncated BPTT, generation and sampling around the fast layers.</summary>
public sealed class RecurrentModelTests
{
    [Fact]
    public void Trainable_parameters_share_the_layer_storage_and_the_gradient_arrays()
    {
        var rnn = TrainableRecurrent.Create(new RecurrentConfig(CellKind.Lstm, 3, 4, 2), new SeededRandom(5));
        Assert.Equal(["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0", "weight_ih_l1", "weight_hh_l1", "bias_ih_l1", "bias_hh_l1"], rnn.Parameters.Select(p => p.Name));
        Assert.True(rnn.Parameters["weight_hh_l1"].Value.Span.Overlaps(rnn.Layer.ParameterStorage(1, 0, ParameterKind.WeightHh)));
        Assert.True(rnn.Parameters["bias_ih_l0"].Grad.Span.Overlaps(rnn.Gradients[0, 0, ParameterKind.BiasIh]));
        var model = new RecurrentLanguageModel(5, 3, CellKind.Gru, 4, 1, new SeededRandom(1));
        Assert.Equal(["embed.weight", "rnn.weight_ih_l0", "rnn.weight_hh_l0", "rnn.bias_ih_l0", "rnn.bias_hh_l0", "head.weight", "head.bias"], model.Parameters.Select(p => p.Name));
    }

    [Fact]
    public void Carried_state_equals_one_forward_over_the_whole_sequence()
    {
        // Chunks of 3 with the state carried give the same outputs as one forward over 9 steps.
        var model = new RecurrentLanguageModel(6, 4, CellKind.Lstm, 5, 2, new SeededRandom(2));
        var rng = new SeededRandom(3);
        var ids = Enumerable.Range(0, 9 * 2).Select(_ => rng.NextInt(6)).ToArray();
        var whole = model.CreateTrainer(9, 2);
        whole.Evaluate(ids, ids, 9);
        var expected = whole.Logits(9).ToArray();
        var chunked = model.CreateTrainer(3, 2);
        var actual = new List<float>();
        for (int c = 0; c < 3; c++)
        {
            chunked.Evaluate(ids.AsSpan(c * 6, 6), ids.AsSpan(c * 6, 6), 3);
            actual.AddRange(chunked.Logits(3).ToArray());
        }

        TrainingFixtures.Close(expected, actual.ToArray(), "chunked logits", 1e-5, 1e-6);
    }

    [Fact]
    public void Generator_logits_match_the_sequence_forward()
    {
        foreach (var cell in new[] { CellKind.Lstm, CellKind.Gru, CellKind.RnnTanh })
        {
            var model = new RecurrentLanguageModel(7, 3, cell, 6, 2, new SeededRandom(4));
            var ids = new[] { 1, 5, 0, 3, 3, 6, 2 };
            var trainer = model.CreateTrainer(ids.Length, 1);
            trainer.Evaluate(ids, ids, ids.Length);
            var logits = trainer.Logits(ids.Length);
            var generator = model.CreateGenerator();
            for (int t = 0; t < ids.Length; t++)
            {
                generator.Feed(ids[t]);
                TrainingFixtures.Close(logits.Slice(t * 7, 7), generator.Logits, $"{cell} logits at {t}", 1e-5, 1e-6);
            }
        }
    }

    [Fact]
    public void Training_and_generation_steps_allocate_nothing()
    {
        var model = new RecurrentLanguageModel(8, 4, CellKind.Lstm, 8, 1, new SeededRandom(6));
        var opt = new Adam(model.Parameters, new AdamOptions { LearningRate = 1e-2 });
        var trainer = model.CreateTrainer(5, 3);
        var ids = Enumerable.Range(0, 15).Select(i => i % 8).ToArray();
        Assert.Equal(0, TrainingFixtures.Allocated(() => trainer.Step(ids, ids, 5, opt, 1.0)));
        var generator = model.CreateGenerator();
        var random = new SeededRandom(1);
        Assert.Equal(0, TrainingFixtures.Allocated(() => generator.Feed(generator.Sample(0.8, 3, random))));
        var regressor = new RecurrentRegressor(CellKind.Gru, 2, 4, 1, 2, new SeededRandom(7));
        var ropt = new Sgd(regressor.Parameters, new SgdOptions { LearningRate = 0.1 });
        var rt = regressor.CreateTrainer(4, 2);
        var x = new float[16];
        Assert.Equal(0, TrainingFixtures.Allocated(() => rt.Step(x, x, 4, ropt, 0.5)));
    }

    [Fact]
    public void Sampler_temperature_zero_is_argmax_and_top_k_keeps_k()
    {
        float[] z = [0.1f, 2.0f, -1f, 1.5f, 0.3f];
        var scratch = new float[z.Length];
        var rng = new SeededRandom(9);
        Assert.Equal(1, TokenSampler.Sample(z, 0, 0, rng, scratch));
        var seen = new HashSet<int>();
        for (int i = 0; i < 400; i++)
        {
            seen.Add(TokenSampler.Sample(z, 5.0, 2, rng, scratch));
        }

        Assert.Equal([1, 3], seen.Order());
        var counts = new int[5];
        for (int i = 0; i < 20000; i++)
        {
            counts[TokenSampler.Sample(z, 1.0, 0, rng, scratch)]++;
        }

        double total = z.Sum(v => Math.Exp(v));
        for (int c = 0; c < 5; c++)
        {
            Assert.InRange(counts[c] / 20000.0, (Math.Exp(z[c]) / total) - 0.015, (Math.Exp(z[c]) / total) + 0.015);
        }
    }

    [Fact]
    public void Char_model_checkpoint_round_trips_with_its_vocabulary()
    {
        string path = Path.Combine(Path.GetTempPath(), $"charlm-{Guid.NewGuid():N}.safetensors");
        try
        {
            var model = new CharLanguageModel("ab\"\n é", CellKind.Gru, 6, 2, 3, new SeededRandom(3));
            model.Save(path);
            var loaded = CharLanguageModel.Load(path);
            Assert.Equal(model.Vocabulary, loaded.Vocabulary);
            Assert.Equal(model.Generate("ab", 30, 1.0, 0, new SeededRandom(5)), loaded.Generate("ab", 30, 1.0, 0, new SeededRandom(5)));
            Assert.Empty(Directory.GetFiles(Path.GetTempPath(), $".{Path.GetFileName(path)}*"));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Forecaster_learns_a_sine_with_truncated_bptt()
    {
        var model = new RecurrentRegressor(CellKind.Lstm, 1, 12, 1, 1, new SeededRandom(11));
        var opt = new Adam(model.Parameters, new AdamOptions { LearningRate = 2e-2 });
        var series = Enumerable.Range(0, 401).Select(t => (float)Math.Sin(2 * Math.PI * t / 16)).ToArray();
        var trainer = model.CreateTrainer(20, 1);
        float first = 0, last = 0;
        for (int epoch = 0; epoch < 15; epoch++)
        {
            trainer.Bptt.ResetState();
            for (int c = 0; c < 20; c++)
            {
                float loss = trainer.Step(series.AsSpan(c * 20, 20), series.AsSpan((c * 20) + 1, 20), 20, opt, 1.0);
                first = epoch == 0 && c == 0 ? loss : first;
                last = loss;
            }
        }

        Assert.True(last < first / 20, $"loss {first} -> {last}");
        var forecast = new float[4];
        model.Forecast(series.AsSpan(0, 380), forecast);
        for (int i = 0; i < 4; i++)
        {
            Assert.InRange(forecast[i], series[380 + i] - 0.15f, series[380 + i] + 0.15f);
        }
    }

    [Fact]
    public void Save_load_and_continue_is_bit_identical_to_training_straight_through()
    {
        var rng = new SeededRandom(21);
        var ids = Enumerable.Range(0, 4 * 6 * 2).Select(_ => rng.NextInt(5)).ToArray();
        float[] Run(bool viaCheckpoint)
        {
            var model = new RecurrentLanguageModel(5, 3, CellKind.Lstm, 6, 2, new SeededRandom(8));
            var opt = new Adam(model.Parameters, new AdamOptions { LearningRate = 1e-2, AmsGrad = true });
            var trainer = model.CreateTrainer(6, 2);
            var losses = new List<float>();
            for (int s = 0; s < 4; s++)
            {
                if (viaCheckpoint && s == 2)
                {
                    string path = Path.Combine(Path.GetTempPath(), $"resume-{Guid.NewGuid():N}.safetensors");
                    try
                    {
                        Checkpoint.Save(path, model.Parameters, opt);
                        model = new RecurrentLanguageModel(5, 3, CellKind.Lstm, 6, 2, new SeededRandom(99));
                        opt = new Adam(model.Parameters, new AdamOptions { LearningRate = 1e-2, AmsGrad = true });
                        Checkpoint.Load(path, model.Parameters, opt);
                        model.RefreshWeights();
                        trainer = model.CreateTrainer(6, 2);
                    }
                    finally
                    {
                        File.Delete(path);
                    }
                }

                trainer.Bptt.ResetState();
                losses.Add(trainer.Step(ids.AsSpan(s * 12, 12), ids.AsSpan(s * 12, 12), 6, opt, 0.5));
            }

            return [.. losses, .. model.Parameters.SelectMany(p => p.Value.ToArray())];
        }

        Assert.Equal(Run(false), Run(true));
    }
}
