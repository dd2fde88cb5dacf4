using System.Text.Json;
using RecurrentCore.Interop;
using RecurrentCore.Models;
using RecurrentCore.Training;
using Xunit;

namespace RecurrentCore.Tests.Training;

/// <summary>
/// The first training steps match PyTorch (as llm.c checks its first steps): the same initial weights (loaded from a
/// safetensors state_dict under PyTorch names), the same data, truncated BPTT with the state carried and detached
/// between chunks, clipping inside the loop, SGD/Adam/AdamW; the loss and the pre-clip gradient norm of every step
/// and the final weights agree to ~1e-5 relative. Fixtures: tests/fixtures/gen_train_steps.py.
/// </summary>
public sealed class TrainStepsTorchParityTests
{
    private const double LossTolerance = 1e-5;
    private const double WeightTolerance = 2e-5;

    public static TheoryData<string> Cases => new() { "lstm_adam_clip_tbptt", "lstm2_sgd_momentum_full", "gru_lm_adamw_clip_tbptt", "rnn_tanh_lm_sgd_clip" };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Losses_norms_and_final_weights_match_pytorch(string name)
    {
        string dir = Path.Combine(AppContext.BaseDirectory, "fixtures", "train_steps");
        using var doc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(dir, name + ".json")));
        var meta = doc.RootElement;
        var cell = CellKinds.Parse(meta.GetProperty("cell").GetString()!);
        int input = meta.GetProperty("input").GetInt32(), hidden = meta.GetProperty("hidden").GetInt32(), layers = meta.GetProperty("layers").GetInt32();
        int output = meta.GetProperty("output").GetInt32(), t = meta.GetProperty("T").GetInt32(), b = meta.GetProperty("B").GetInt32();
        int k = meta.GetProperty("chunk").GetInt32(), steps = meta.GetProperty("steps").GetInt32();
        double clip = meta.GetProperty("clip").GetDouble();
        bool lm = meta.GetProperty("language_model").GetBoolean();
        var losses = meta.GetProperty("losses").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        var norms = meta.GetProperty("norms").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        var data = SafeTensors.ReadFile(Path.Combine(dir, name + ".data.safetensors"));

        ParameterSet parameters;
        Func<int, float> step;
        Func<double> norm;
        Action reset;
        if (lm)
        {
            var model = new RecurrentLanguageModel(output, input, cell, hidden, layers, new SeededRandom(1));
            parameters = model.Parameters;
            Checkpoint.Load(Path.Combine(dir, name + ".init.safetensors"), parameters);
            model.RefreshWeights();
            var x = data["x"].ToInt64().Select(v => (int)v).ToArray();
            var y = data["y"].ToInt64().Select(v => (int)v).ToArray();
            var opt = MakeOptimizer(meta, parameters);
            var trainer = model.CreateTrainer(k, b);
            step = i => trainer.Step(x.AsSpan(i * k * b, k * b), y.AsSpan(i * k * b, k * b), k, opt, clip);
            norm = () => trainer.LastGradientNorm;
            reset = trainer.Bptt.ResetState;
        }
        else
        {
            var model = new RecurrentRegressor(cell, input, hidden, layers, output, new SeededRandom(1));
            parameters = model.Parameters;
            Checkpoint.Load(Path.Combine(dir, name + ".init.safetensors"), parameters);
            model.RefreshWeights();
            var x = data["x"].ToSingle();
            var y = data["y"].ToSingle();
            var opt = MakeOptimizer(meta, parameters);
            var trainer = model.CreateTrainer(k, b);
            step = i => trainer.Step(x.AsSpan(i * k * b * input, k * b * input), y.AsSpan(i * k * b * output, k * b * output), k, opt, clip);
            norm = () => trainer.LastGradientNorm;
            reset = trainer.Bptt.ResetState;
        }

        int chunks = t / k;
        for (int s = 0; s < steps; s++)
        {
            int i = s % chunks;
            if (i == 0)
            {
                reset();
            }

            float loss = step(i);
            TrainingFixtures.Close(losses[s], loss, $"{name} loss of step {s + 1}", LossTolerance, 1e-7);
            if (clip > 0)
            {
                TrainingFixtures.Close(norms[s], norm(), $"{name} gradient norm of step {s + 1}", LossTolerance, 1e-7);
            }
        }

        foreach (var p in parameters)
        {
            TrainingFixtures.Close(data["final." + p.Name].ToSingle(), p.Value.Span, $"{name} final {p.Name}", WeightTolerance, 1e-6);
        }
    }

    private static Optimizer MakeOptimizer(JsonElement meta, ParameterSet parameters)
    {
        var o = meta.GetProperty("options");
        double lr = o.GetProperty("lr").GetDouble();
        double Get(string key, double fallback) => o.TryGetProperty(key, out var v) ? v.GetDouble() : fallback;
        return meta.GetProperty("optimizer").GetString() switch
        {
            "sgd" => new Sgd(parameters, new SgdOptions { LearningRate = lr, Momentum = Get("momentum", 0) }),
            "adam" => new Adam(parameters, new AdamOptions { LearningRate = lr }),
            "adamw" => new AdamW(parameters, new AdamOptions { LearningRate = lr, WeightDecay = Get("weight_decay", 0.01) }),
            var other => throw new InvalidOperationException(other),
        };
    }
}
