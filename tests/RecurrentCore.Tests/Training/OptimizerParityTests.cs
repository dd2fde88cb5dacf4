using System.Text.Json;
using RecurrentCore.Training;
using Xunit;
using static RecurrentCore.Tests.Training.TrainingFixtures;

namespace RecurrentCore.Tests.Training;

public class OptimizerParityTests
{
    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        foreach (var c in Json("optim.json").EnumerateObject())
        {
            data.Add(c.Name);
        }

        return data;
    }

    /// <summary>Builds our optimiser from the case's PyTorch arguments only, so unset arguments test our defaults.</summary>
    internal static Optimizer Create(JsonElement spec, ParameterSet set)
    {
        var args = spec.GetProperty("args");
        double Get(string key, double fallback) => args.TryGetProperty(key, out var v) ? v.GetDouble() : fallback;
        bool Flag(string key) => args.TryGetProperty(key, out var v) && v.GetBoolean();
        string kind = spec.GetProperty("optimizer").GetString()!;
        if (kind == "sgd")
        {
            return new Sgd(set, new SgdOptions
            {
                LearningRate = Get("lr", 1e-3),
                Momentum = Get("momentum", 0),
                Dampening = Get("dampening", 0),
                WeightDecay = Get("weight_decay", 0),
                Nesterov = Flag("nesterov"),
            });
        }

        var defaults = new AdamOptions();
        var options = new AdamOptions
        {
            LearningRate = Get("lr", defaults.LearningRate),
            Beta1 = args.TryGetProperty("betas", out var b) ? b[0].GetDouble() : defaults.Beta1,
            Beta2 = args.TryGetProperty("betas", out var b2) ? b2[1].GetDouble() : defaults.Beta2,
            Epsilon = Get("eps", defaults.Epsilon),
            WeightDecay = args.TryGetProperty("weight_decay", out var wd) ? wd.GetDouble() : null,
            AmsGrad = Flag("amsgrad"),
        };
        return kind == "adam" ? new Adam(set, options) : new AdamW(set, options);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void One_and_three_steps_match_PyTorch(string name)
    {
        const string F = "optim.safetensors";
        var weight = Param("weight", [3, 4], F32(F, $"{name}.weight.init"));
        var bias = Param("bias", [4], F32(F, $"{name}.bias.init"));
        var set = new ParameterSet([weight, bias]);
        var optimizer = Create(Json("optim.json").GetProperty(name), set);
        for (int k = 0; k < 3; k++)
        {
            optimizer.ZeroGrad();
            F32(F, $"{name}.weight.grad{k}").CopyTo(weight.Grad);
            F32(F, $"{name}.bias.grad{k}").CopyTo(bias.Grad);
            optimizer.Step();
            if (k is 0 or 2)
            {
                Close(F32(F, $"{name}.weight.step{k + 1}"), weight.Value.Span, $"{name} weight after {k + 1}");
                Close(F32(F, $"{name}.bias.step{k + 1}"), bias.Value.Span, $"{name} bias after {k + 1}");
            }
        }

        Assert.Equal(3, optimizer.StepCount);

        // Our state buffers are PyTorch's optimiser state, under its keys.
        string prefix = name + ".";
        var torchState = Tensors(F).Tensors.Select(t => t.Key).Where(k => k.StartsWith(prefix, StringComparison.Ordinal) && k.Contains(".state.", StringComparison.Ordinal));
        var ours = optimizer.StateBuffers().ToList();
        Assert.Equal(torchState.Order(StringComparer.Ordinal), ours.Select(b => prefix + b.Name.Replace(b.Owner.Name + ".", b.Owner.Name + ".state.", StringComparison.Ordinal)).Order(StringComparer.Ordinal));
        foreach (var (bufferName, owner, buffer) in ours)
        {
            string key = prefix + bufferName.Replace(owner.Name + ".", owner.Name + ".state.", StringComparison.Ordinal);
            Close(F32(F, key), buffer.Span, key);
        }
    }

    [Fact]
    public void Defaults_are_PyTorch_defaults()
    {
        var a = new AdamOptions();
        Assert.Equal((1e-3, 0.9, 0.999, 1e-8, false), (a.LearningRate, a.Beta1, a.Beta2, a.Epsilon, a.AmsGrad));
        var set = new ParameterSet([new Parameter("w", [2])]);
        Assert.Equal(0.01, new AdamW(set).WeightDecay);
        Assert.Equal(0.0, new Adam(set).Options.WeightDecay ?? 0);
        var s = new SgdOptions();
        Assert.Equal((0.0, 0.0, 0.0, false), (s.Momentum, s.Dampening, s.WeightDecay, s.Nesterov));
    }

    [Fact]
    public void Rejects_bad_hyper_parameters()
    {
        var set = new ParameterSet([new Parameter("w", [2])]);
        Assert.Throws<ArgumentException>(() => new Sgd(set, new SgdOptions { Nesterov = true }));
        Assert.Throws<ArgumentException>(() => new Sgd(set, new SgdOptions { Nesterov = true, Momentum = 0.9, Dampening = 0.1 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Sgd(set, new SgdOptions { LearningRate = -1 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Adam(set, new AdamOptions { Beta1 = 1 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new AdamW(set, new AdamOptions { Epsilon = double.NaN }));
    }

    [Fact]
    public void Steps_do_not_allocate()
    {
        var set = new ParameterSet([new Parameter("w", [64, 32]), new Parameter("b", [64])]);
        set[0].Grad.Span.Fill(0.5f);
        Optimizer[] optimizers =
        [
            new Sgd(set, new SgdOptions { LearningRate = 0.1, Momentum = 0.9, Nesterov = true, WeightDecay = 0.1 }),
            new Adam(set, new AdamOptions { AmsGrad = true, WeightDecay = 0.1 }),
            new AdamW(set, new AdamOptions { AmsGrad = true }),
        ];
        foreach (var optimizer in optimizers)
        {
            Assert.Equal(0, Allocated(() =>
            {
                optimizer.Step();
                optimizer.ZeroGrad();
            }));
        }
    }
}
