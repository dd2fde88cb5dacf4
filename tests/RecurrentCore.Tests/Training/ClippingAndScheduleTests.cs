using RecurrentCore.Training;
using Xunit;
using static RecurrentCore.Tests.Training.TrainingFixtures;

namespace RecurrentCore.Tests.Training;

public class ClippingAndScheduleTests
{
    [Theory]
    [InlineData("norm_clips")]
    [InlineData("norm_no_clip")]
    [InlineData("value")]
    public void Clipping_matches_PyTorch(string name)
    {
        const string F = "clip.safetensors";
        var spec = Json("clip.json").GetProperty(name);
        var a = new Parameter("a", [3, 4]);
        var b = new Parameter("b", [5]);
        F32(F, $"{name}.a.grad").CopyTo(a.Grad);
        F32(F, $"{name}.b.grad").CopyTo(b.Grad);
        var set = new ParameterSet([a, b]);
        if (spec.GetProperty("kind").GetString() == "norm")
        {
            double norm = GradientClipping.ClipByGlobalNorm(set, spec.GetProperty("max_norm").GetDouble());
            Close(spec.GetProperty("norm").GetDouble(), norm, "pre-clip norm");
        }
        else
        {
            GradientClipping.ClipByValue(set, (float)spec.GetProperty("clip_value").GetDouble());
        }

        Close(F32(F, $"{name}.a.clipped"), a.Grad.Span, "a");
        Close(F32(F, $"{name}.b.clipped"), b.Grad.Span, "b");
    }

    [Fact]
    public void Clipping_does_not_allocate()
    {
        var set = new ParameterSet([new Parameter("w", [16, 16])]);
        set[0].Grad.Span.Fill(3);
        Assert.Equal(0, Allocated(() =>
        {
            GradientClipping.ClipByGlobalNorm(set, 1.0);
            GradientClipping.ClipByValue(set, 0.01f);
        }));
    }

    [Theory]
    [InlineData("step_3_half")]
    [InlineData("step_default_gamma")]
    [InlineData("cosine_7_min")]
    [InlineData("cosine_5")]
    public void Schedules_match_PyTorch(string name)
    {
        var spec = Json("lr.json").GetProperty(name);
        var args = spec.GetProperty("args");
        LearningRateSchedule schedule = spec.GetProperty("class").GetString() == "StepLR"
            ? args.TryGetProperty("gamma", out var g)
                ? new StepLR(args.GetProperty("step_size").GetInt32(), g.GetDouble())
                : new StepLR(args.GetProperty("step_size").GetInt32())
            : new CosineAnnealingLR(args.GetProperty("T_max").GetInt32(), args.TryGetProperty("eta_min", out var m) ? m.GetDouble() : 0);
        var optimizer = new Sgd(new ParameterSet([new Parameter("w", [1])]), new SgdOptions { LearningRate = spec.GetProperty("base_lr").GetDouble() });
        int epoch = 0;
        foreach (var lr in spec.GetProperty("lr").EnumerateArray())
        {
            schedule.Apply(optimizer, epoch);
            Close(lr.GetDouble(), optimizer.LearningRate, $"{name} epoch {epoch}", 1e-9, 1e-15);
            epoch++;
        }
    }
}
