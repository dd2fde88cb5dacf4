using RecurrentCore.Training;
using Xunit;

namespace RecurrentCore.Tests.Training;

/// <summary>
/// The vectorised Adam step gives the bits of PyTorch's per-element float32 formula evaluated one element at a time
/// (written out here), for lengths around the vector width; the vectorised global norm agrees with a double loop.
/// Runs again under reduced instruction sets in CI (Category=Kernels), where the scalar loop alone runs.
/// </summary>
[Trait("Category", "Kernels")]
public sealed class OptimizerKernelTests
{
    [Theory]
    [InlineData(1, false, 0.0)]
    [InlineData(15, true, 0.0)]
    [InlineData(16, false, 0.01)]
    [InlineData(1031, true, 0.05)]
    public void Adam_step_gives_the_bits_of_the_per_element_formula(int length, bool amsgrad, double weightDecay)
    {
        var rng = new SeededRandom((ulong)length);
        float[] theta = HeadTests.Random(length, rng), expected = (float[])theta.Clone();
        var p = new Parameter("w", [length], theta, new float[length]);
        var options = new AdamOptions { LearningRate = 3e-3, WeightDecay = weightDecay, AmsGrad = amsgrad };
        var adam = new Adam(new ParameterSet([p]), options);
        float[] m = new float[length], v = new float[length], vMax = new float[length];
        for (int step = 1; step <= 4; step++)
        {
            float[] grad = HeadTests.Random(length, rng, step == 3 ? 1e-20 : 1.0);
            grad.CopyTo(p.Grad);
            adam.Step();

            double bc1 = 1 - Math.Pow(options.Beta1, step), bc2 = 1 - Math.Pow(options.Beta2, step);
            float negStep = (float)-(options.LearningRate / bc1), bc2Sqrt = (float)Math.Sqrt(bc2);
            float b1 = (float)options.Beta1, b2 = (float)options.Beta2, c1 = (float)(1 - options.Beta1), c2 = (float)(1 - options.Beta2);
            float eps = (float)options.Epsilon, wd = (float)weightDecay;
            for (int k = 0; k < length; k++)
            {
                float g = wd != 0 ? grad[k] + (wd * expected[k]) : grad[k];
                m[k] = (m[k] * b1) + (c1 * g);
                v[k] = (v[k] * b2) + (c2 * g * g);
                float second = v[k];
                if (amsgrad)
                {
                    second = vMax[k] = MathF.Max(vMax[k], second);
                }

                expected[k] += negStep * (m[k] / ((MathF.Sqrt(second) / bc2Sqrt) + eps));
            }

            Assert.Equal(expected, theta);
        }
    }

    [Fact]
    public void Global_norm_matches_a_double_loop_and_scales_by_the_float_coefficient()
    {
        var rng = new SeededRandom(3);
        var a = TrainingFixtures.Param("a", [1037], HeadTests.Random(1037, rng));
        var b = TrainingFixtures.Param("b", [3], HeadTests.Random(3, rng));
        HeadTests.Random(1037, rng, 10).CopyTo(a.Grad);
        HeadTests.Random(3, rng, 10).CopyTo(b.Grad);
        float[] before = [.. a.Grad.ToArray(), .. b.Grad.ToArray()];
        double sum = before.Sum(g => (double)g * g);
        double norm = GradientClipping.ClipByGlobalNorm(new ParameterSet([a, b]), 1.0);
        Assert.True(Math.Abs(norm - Math.Sqrt(sum)) <= 1e-13 * norm, $"{norm:R} vs {Math.Sqrt(sum):R}");
        float c = (float)(1.0 / (norm + 1e-6));
        float[] after = [.. a.Grad.ToArray(), .. b.Grad.ToArray()];
        Assert.Equal(before.Select(g => g * c).ToArray(), after);
    }
}
