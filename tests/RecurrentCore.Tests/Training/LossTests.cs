using RecurrentCore.Training;
using Xunit;
using static RecurrentCore.Tests.Training.TrainingFixtures;

namespace RecurrentCore.Tests.Training;

public class LossTests
{
    private const string F = "losses.safetensors";

    private static bool[] Mask(string name) => F32(F, $"{name}.mask").Select(v => v != 0).ToArray();

    [Theory]
    [InlineData("mse")]
    [InlineData("mse_masked")]
    public void Mse_matches_PyTorch(string name)
    {
        float[] p = F32(F, $"{name}.input");
        float[] grad = new float[p.Length];
        float loss = MeanSquaredError.Compute(p, F32(F, $"{name}.target"), grad, rows: 6, Mask(name));
        Close(Json("losses.json").GetProperty(name).GetProperty("loss").GetDouble(), loss, "loss");
        Close(F32(F, $"{name}.grad"), grad, "grad");
    }

    [Theory]
    [InlineData("ce")]
    [InlineData("ce_large_ignore")]
    [InlineData("ce_masked")]
    public void Cross_entropy_matches_PyTorch(string name)
    {
        float[] z = F32(F, $"{name}.input");
        int[] t = Tensors(F)[$"{name}.target"].ToInt64().Select(v => (int)v).ToArray();
        float[] grad = new float[z.Length];
        float loss = CrossEntropy.Compute(z, t, grad, classes: 5, Mask(name));
        Close(Json("losses.json").GetProperty(name).GetProperty("loss").GetDouble(), loss, "loss");
        Close(F32(F, $"{name}.grad"), grad, "grad");
    }

    [Fact]
    public void Cross_entropy_is_stable_for_huge_logits()
    {
        float[] grad = new float[3];
        float loss = CrossEntropy.Compute([1e30f, 0, -1e30f], [0], grad, 3);
        Assert.Equal(0f, loss);
        Assert.All(grad, g => Assert.True(float.IsFinite(g)));
        loss = CrossEntropy.Compute([-1000f, 1000f, 0], [0], grad, 3);
        Assert.Equal(2000f, loss);
        Assert.Equal([-1f, 1f, 0f], grad);
    }

    [Fact]
    public void Nothing_counted_gives_NaN_and_zero_gradient_like_PyTorch()
    {
        float[] grad = [9, 9, 9, 9];
        Assert.True(float.IsNaN(CrossEntropy.Compute([1, 2, 3, 4], [-100, -100], grad, 2)));
        Assert.All(grad, g => Assert.Equal(0f, g));
        grad = [9, 9];
        Assert.True(float.IsNaN(MeanSquaredError.Compute([1, 2], [0, 0], grad, 2, [false, false])));
        Assert.All(grad, g => Assert.Equal(0f, g));
    }

    [Fact]
    public void Rejects_bad_targets_and_shapes()
    {
        float[] grad = new float[4];
        Assert.Throws<ArgumentOutOfRangeException>(() => CrossEntropy.Compute([1, 2, 3, 4], [0, 2], grad, 2));
        Assert.Throws<ArgumentException>(() => CrossEntropy.Compute([1, 2, 3], [0, 1], grad, 2));
        Assert.Throws<ArgumentException>(() => MeanSquaredError.Compute([1, 2, 3, 4], [1, 2, 3, 4], grad, 2, [true]));
    }

    [Fact]
    public void Losses_do_not_allocate()
    {
        float[] z = Enumerable.Range(0, 40).Select(i => (float)Math.Sin(i)).ToArray();
        float[] target = new float[40];
        int[] classes = [0, 1, 2, 3, 4, -100, 1, 2];
        bool[] mask = [true, true, false, true, true, true, true, true];
        float[] grad = new float[40];
        Assert.Equal(0, Allocated(() =>
        {
            CrossEntropy.Compute(z, classes, grad, 5, mask);
            MeanSquaredError.Compute(z, target, grad, 8, mask);
        }));
    }
}
