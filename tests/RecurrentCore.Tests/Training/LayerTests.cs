using RecurrentCore.Training;
using Xunit;
using static RecurrentCore.Tests.Training.TrainingFixtures;

namespace RecurrentCore.Tests.Training;

public class LayerTests
{
    private const string F = "linear.safetensors";

    private static Linear FixtureLinear()
    {
        var linear = new Linear(4, 3);
        F32(F, "weight").CopyTo(linear.Weight.Value);
        F32(F, "bias").CopyTo(linear.Bias!.Value);
        return linear;
    }

    [Fact]
    public void Linear_forward_and_backward_match_PyTorch()
    {
        var linear = FixtureLinear();
        float[] x = F32(F, "x");
        float[] y = new float[15];
        float[] dx = new float[20];
        linear.Forward(x, y, rows: 5);
        Close(F32(F, "y"), y, "y");
        linear.Backward(x, F32(F, "dy"), dx, rows: 5);
        Close(F32(F, "dweight"), linear.Weight.Grad.Span, "dW");
        Close(F32(F, "dbias"), linear.Bias!.Grad.Span, "db");
        Close(F32(F, "dx"), dx, "dx");
    }

    [Fact]
    public void Linear_backward_accumulates_and_zeroing_is_explicit()
    {
        var linear = FixtureLinear();
        float[] x = F32(F, "x");
        float[] dy = F32(F, "dy");
        linear.Backward(x, dy, default, rows: 5);
        linear.Backward(x, dy, default, rows: 5);
        float[] twice = F32(F, "dweight").Select(v => 2 * v).ToArray();
        Close(twice, linear.Weight.Grad.Span, "2·dW", 2e-6);
        linear.Parameters.ZeroGrad();
        Assert.All(linear.Weight.Grad.ToArray().Concat(linear.Bias!.Grad.ToArray()), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void Linear_without_bias_and_shape_errors()
    {
        var linear = new Linear(2, 2, bias: false);
        Assert.Null(linear.Bias);
        Assert.Equal(["weight"], linear.Parameters.Select(p => p.Name));
        new float[] { 1, 2, 3, 4 }.CopyTo(linear.Weight.Value);
        float[] y = new float[2];
        linear.Forward([1, 1], y, 1);
        Assert.Equal([3f, 7f], y);
        Assert.Throws<ArgumentException>(() => linear.Forward(new float[3], y, 1));
        Assert.Throws<ArgumentException>(() => linear.Backward(new float[2], new float[2], new float[3], 1));
    }

    [Fact]
    public void Linear_and_embedding_do_not_allocate()
    {
        var linear = new Linear(8, 5);
        var embedding = new Embedding(10, 8);
        int[] ids = [1, 3, 3, 9];
        float[] e = new float[32];
        float[] y = new float[20];
        float[] dx = new float[32];
        Assert.Equal(0, Allocated(() =>
        {
            embedding.Forward(ids, e);
            linear.Forward(e, y, 4);
            linear.Backward(e, y, dx, 4);
            embedding.Backward(ids, dx);
        }));
    }

    [Fact]
    public void Embedding_gathers_rows_and_scatter_adds_repeated_ids()
    {
        var embedding = new Embedding(3, 2);
        new float[] { 0, 1, 10, 11, 20, 21 }.CopyTo(embedding.Weight.Value);
        int[] ids = [2, 0, 2];
        float[] y = new float[6];
        embedding.Forward(ids, y);
        Assert.Equal([20f, 21, 0, 1, 20, 21], y);
        embedding.Backward(ids, [1, 2, 3, 4, 5, 6]);
        Assert.Equal([3f, 4, 0, 0, 6, 8], embedding.Weight.Grad.ToArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => embedding.Forward([3], new float[2]));
        Assert.Throws<ArgumentOutOfRangeException>(() => embedding.Backward([-1], new float[2]));
    }
}
