using RecurrentCore.Threading;
using RecurrentCore.Training;
using Xunit;

namespace RecurrentCore.Tests.Training;

/// <summary>
/// The heads and losses on the fast kernels against plain double loops written here (the executable spec), with
/// per-element bounds from the float32 error analysis in docs/training.md, and against double-precision central
/// finite differences of the whole head + loss. Odd shapes, one-row batches and reductions past one GEMM depth
/// block (256) are covered; the class runs again under reduced instruction sets in CI (Category=Kernels).
/// </summary>
[Trait("Category", "Kernels")]
public sealed class HeadTests
{
    private const double U = 1.0 / (1 << 24);

    // (rows, in, out): one-row and sub-GEMM batches, odd sizes, and reductions longer than a depth block
    // (in = 300 for y, rows = 300 for dW, out = 300 for dx).
    public static TheoryData<int, int, int> Shapes => new()
    {
        { 1, 1, 1 }, { 1, 7, 5 }, { 2, 3, 65 }, { 3, 17, 1 }, { 4, 33, 65 }, { 7, 130, 9 }, { 64, 128, 65 }, { 300, 31, 129 }, { 33, 300, 17 }, { 5, 19, 300 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Linear_matches_the_double_reference_within_the_float_bound(int rows, int inF, int outF)
    {
        var rng = new SeededRandom((ulong)((rows * 1000) + (inF * 10) + outF));
        var linear = RandomLinear(inF, outF, rng);
        float[] x = Random(rows * inF, rng);
        float[] dy = Random(rows * outF, rng);
        float[] dw0 = Random(outF * inF, rng), db0 = Random(outF, rng);
        dw0.CopyTo(linear.Weight.Grad);
        db0.CopyTo(linear.Bias!.Grad);
        float[] y = new float[rows * outF];
        float[] dx = Fill(rows * inF, float.NaN);
        linear.Forward(x, y, rows);
        linear.Backward(x, dy, dx, rows);

        float[] w = linear.Weight.Value.ToArray(), b = linear.Bias.Value.ToArray();
        for (int r = 0; r < rows; r++)
        {
            for (int o = 0; o < outF; o++)
            {
                double s = b[o], mag = Math.Abs(b[o]);
                for (int i = 0; i < inF; i++)
                {
                    s += (double)x[(r * inF) + i] * w[(o * inF) + i];
                    mag += Math.Abs((double)x[(r * inF) + i] * w[(o * inF) + i]);
                }

                Within(s, y[(r * outF) + o], Bound(inF, mag), $"y[{r},{o}]");
            }
        }

        for (int o = 0; o < outF; o++)
        {
            for (int i = 0; i < inF; i++)
            {
                double s = dw0[(o * inF) + i], mag = Math.Abs(s);
                for (int r = 0; r < rows; r++)
                {
                    s += (double)dy[(r * outF) + o] * x[(r * inF) + i];
                    mag += Math.Abs((double)dy[(r * outF) + o] * x[(r * inF) + i]);
                }

                Within(s, linear.Weight.Grad.Span[(o * inF) + i], Bound(rows, mag), $"dW[{o},{i}]");
            }

            double sb = db0[o], magb = Math.Abs(sb);
            for (int r = 0; r < rows; r++)
            {
                sb += dy[(r * outF) + o];
                magb += Math.Abs(dy[(r * outF) + o]);
            }

            Within(sb, linear.Bias.Grad.Span[o], Bound(rows, magb), $"db[{o}]");
        }

        for (int r = 0; r < rows; r++)
        {
            for (int i = 0; i < inF; i++)
            {
                double s = 0, mag = 0;
                for (int o = 0; o < outF; o++)
                {
                    s += (double)dy[(r * outF) + o] * w[(o * inF) + i];
                    mag += Math.Abs((double)dy[(r * outF) + o] * w[(o * inF) + i]);
                }

                Within(s, dx[(r * inF) + i], Bound(outF, mag), $"dx[{r},{i}]");
            }
        }
    }

    [Theory]
    [InlineData(1, 5, 3)]
    [InlineData(4, 8, 5)]
    [InlineData(9, 13, 70)]
    [InlineData(70, 6, 33)]
    public void Linear_then_cross_entropy_gradients_match_finite_differences(int rows, int inF, int classes)
    {
        var rng = new SeededRandom((ulong)((rows * 7) + classes));
        var linear = RandomLinear(inF, classes, rng, scale: 2.0);
        float[] x = Random(rows * inF, rng);
        int[] t = Enumerable.Range(0, rows).Select(r => r % 5 == 3 ? CrossEntropy.DefaultIgnoreIndex : rng.NextInt(classes)).ToArray();
        bool[] mask = Enumerable.Range(0, rows).Select(r => rows == 1 || r % 7 != 1).ToArray();
        float[] z = new float[rows * classes], dz = new float[rows * classes], dx = new float[rows * inF];
        linear.Forward(x, z, rows);
        float loss = CrossEntropy.Compute(z, t, dz, classes, mask);
        linear.Backward(x, dz, dx, rows);

        double[] xd = x.Select(v => (double)v).ToArray(), wd = ToDouble(linear.Weight.Value.Span), bd = ToDouble(linear.Bias!.Value.Span);
        double Objective() => ReferenceCrossEntropy(ReferenceLinear(xd, wd, bd, rows, inF, classes), t, mask, classes, null);
        Within(Objective(), loss, 1e-6 * Math.Abs(Objective()) + 1e-7, "loss");
        CheckFiniteDifferences(wd, linear.Weight.Grad.Span, Objective, "dW");
        CheckFiniteDifferences(bd, linear.Bias.Grad.Span, Objective, "db");
        CheckFiniteDifferences(xd, dx, Objective, "dx");
    }

    [Theory]
    [InlineData(1, 4, 1)]
    [InlineData(6, 9, 3)]
    [InlineData(65, 3, 2)]
    public void Linear_then_mse_gradients_match_finite_differences(int rows, int inF, int outF)
    {
        var rng = new SeededRandom((ulong)((rows * 11) + outF));
        var linear = RandomLinear(inF, outF, rng);
        float[] x = Random(rows * inF, rng), target = Random(rows * outF, rng);
        bool[] mask = Enumerable.Range(0, rows).Select(r => rows == 1 || r % 4 != 2).ToArray();
        float[] p = new float[rows * outF], dp = new float[rows * outF], dx = new float[rows * inF];
        linear.Forward(x, p, rows);
        float loss = MeanSquaredError.Compute(p, target, dp, rows, mask);
        linear.Backward(x, dp, dx, rows);

        double[] xd = ToDouble(x), wd = ToDouble(linear.Weight.Value.Span), bd = ToDouble(linear.Bias!.Value.Span);
        double Objective()
        {
            double[] pd = ReferenceLinear(xd, wd, bd, rows, inF, outF);
            double s = 0;
            int counted = 0;
            for (int r = 0; r < rows; r++)
            {
                if (!mask[r])
                {
                    continue;
                }

                counted++;
                for (int j = 0; j < outF; j++)
                {
                    double d = pd[(r * outF) + j] - target[(r * outF) + j];
                    s += d * d;
                }
            }

            return s / ((double)counted * outF);
        }

        Within(Objective(), loss, 1e-6 * Math.Abs(Objective()) + 1e-7, "loss");
        CheckFiniteDifferences(wd, linear.Weight.Grad.Span, Objective, "dW");
        CheckFiniteDifferences(bd, linear.Bias.Grad.Span, Objective, "db");
        CheckFiniteDifferences(xd, dx, Objective, "dx");
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(7, 2)]
    [InlineData(64, 65)]
    [InlineData(300, 129)]
    [InlineData(5, 1000)]
    public void Cross_entropy_matches_the_double_reference_within_the_float_bound(int rows, int classes)
    {
        var rng = new SeededRandom((ulong)((rows * 13) + classes));
        float[] z = Random(rows * classes, rng, scale: 8.0);
        int[] t = Enumerable.Range(0, rows).Select(r => r % 6 == 5 ? CrossEntropy.DefaultIgnoreIndex : rng.NextInt(classes)).ToArray();
        if (t.All(v => v < 0))
        {
            t[0] = 0;
        }

        // A confident row (p_t ≈ 1 − 1e-6): the target's gradient must not cancel.
        z[t[0]] += 40;
        float[] g = Fill(rows * classes, float.NaN);
        float loss = CrossEntropy.Compute(z, t, g, classes);
        double[] expected = new double[rows * classes];
        double reference = ReferenceCrossEntropy(ToDouble(z), t, null, classes, expected);
        int counted = t.Count(v => v >= 0);
        double lossBound = 0;
        for (int r = 0; r < rows; r++)
        {
            var zr = z.AsSpan(r * classes, classes);
            float max = zr[0], min = zr[0];
            foreach (float v in zr)
            {
                max = Math.Max(max, v);
                min = Math.Min(min, v);
            }

            for (int c = 0; c < classes; c++)
            {
                int at = (r * classes) + c;
                if (t[r] < 0)
                {
                    Assert.Equal(0f, g[at]);
                    continue;
                }

                // exp of a rounded z − max (|z − max|·u relative; the target's term sums all the others), the kernel's
                // exp, the row sum, the scale.
                double tol = ((max - min) + classes + 16) * U * Math.Abs(expected[at]);
                Within(expected[at], g[at], tol + 1e-30, $"grad[{r},{c}]");
            }

            if (t[r] >= 0)
            {
                lossBound += ((classes + 16) * U) + (U * (Math.Abs(max) + Math.Abs(zr[t[r]])));
            }
        }

        Within(reference, loss, (lossBound / counted) + (U * Math.Abs(reference)), "loss");
    }

    [Fact]
    public void Mse_matches_the_double_reference()
    {
        var rng = new SeededRandom(21);
        int rows = 37, f = 19;
        float[] p = Random(rows * f, rng), t = Random(rows * f, rng), g = new float[rows * f];
        bool[] mask = Enumerable.Range(0, rows).Select(r => r % 3 != 0).ToArray();
        float loss = MeanSquaredError.Compute(p, t, g, rows, mask);
        int counted = mask.Count(m => m);
        double s = 0;
        for (int r = 0; r < rows; r++)
        {
            for (int j = 0; j < f; j++)
            {
                int at = (r * f) + j;
                double d = (double)p[at] - t[at];
                double expected = mask[r] ? 2 * d / ((double)counted * f) : 0;
                s += mask[r] ? d * d : 0;
                Within(expected, g[at], 4 * U * Math.Abs(expected), $"grad[{r},{j}]");
            }
        }

        Within(s / ((double)counted * f), loss, 2 * U * s / ((double)counted * f), "loss");
    }

    [Fact]
    public void Embedding_gradient_matches_finite_differences_with_repeated_ids()
    {
        var rng = new SeededRandom(8);
        var embedding = new Embedding(11, 37);
        Random(11 * 37, rng).CopyTo(embedding.Weight.Value);
        int[] ids = [3, 0, 3, 10, 3, 7, 0];
        float[] y = new float[ids.Length * 37];
        float[] r = Random(y.Length, rng);
        embedding.Forward(ids, y);
        embedding.Backward(ids, r);
        double[] e = ToDouble(embedding.Weight.Value.Span);
        double Objective()
        {
            double s = 0;
            for (int i = 0; i < ids.Length; i++)
            {
                for (int j = 0; j < 37; j++)
                {
                    s += e[(ids[i] * 37) + j] * r[(i * 37) + j];
                }
            }

            return s;
        }

        for (int i = 0; i < ids.Length; i++)
        {
            Assert.Equal(embedding.Weight.Value.Span.Slice(ids[i] * 37, 37).ToArray(), y.AsSpan(i * 37, 37).ToArray());
        }

        CheckFiniteDifferences(e, embedding.Weight.Grad.Span, Objective, "dE");
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Linear_gives_the_same_bits_for_any_thread_count(int threads)
    {
        var rng = new SeededRandom(30);
        int rows = 300, inF = 70, outF = 129;
        var one = RandomLinear(inF, outF, rng);
        var many = new Linear(inF, outF);
        one.Weight.Value.CopyTo(many.Weight.Value);
        one.Bias!.Value.CopyTo(many.Bias!.Value);
        float[] x = Random(rows * inF, rng), dy = Random(rows * outF, rng);
        float[] y1 = new float[rows * outF], yN = new float[rows * outF], dx1 = new float[rows * inF], dxN = new float[rows * inF];
        using var pool = new WorkerPool(threads);
        for (int pass = 0; pass < 2; pass++)
        {
            one.Forward(x, y1, rows);
            many.Forward(x, yN, rows, pool);
            one.Backward(x, dy, dx1, rows);
            many.Backward(x, dy, dxN, rows, pool);
        }

        Assert.Equal(y1, yN);
        Assert.Equal(dx1, dxN);
        Assert.Equal(one.Weight.Grad.ToArray(), many.Weight.Grad.ToArray());
        Assert.Equal(one.Bias.Grad.ToArray(), many.Bias.Grad.ToArray());
    }

    internal static Linear RandomLinear(int inF, int outF, SeededRandom rng, double scale = 1.0)
    {
        var linear = new Linear(inF, outF);
        Random(outF * inF, rng, scale / Math.Sqrt(inF)).CopyTo(linear.Weight.Value);
        Random(outF, rng, scale).CopyTo(linear.Bias!.Value);
        return linear;
    }

    internal static float[] Random(int count, SeededRandom rng, double scale = 1.0)
    {
        var v = new float[count];
        for (int i = 0; i < count; i++)
        {
            v[i] = (float)(scale * rng.NextUniform(-1, 1));
        }

        return v;
    }

    private static float[] Fill(int count, float value) => Enumerable.Repeat(value, count).ToArray();

    private static double[] ToDouble(ReadOnlySpan<float> v)
    {
        var d = new double[v.Length];
        for (int i = 0; i < v.Length; i++)
        {
            d[i] = v[i];
        }

        return d;
    }

    /// <summary>The float32 bound for a reduction of length k in chains of 256, on the magnitude Σ|terms|.</summary>
    private static double Bound(int k, double magnitude) => ((Math.Min(k, 256) + (k / 256) + 2) * U * magnitude) + 1e-30;

    private static void Within(double expected, double actual, double tolerance, string what) =>
        Assert.True(Math.Abs(actual - expected) <= tolerance, $"{what}: expected {expected:R}, got {actual:R} (diff {actual - expected:E3}, bound {tolerance:E3})");

    private static double[] ReferenceLinear(double[] x, double[] w, double[] b, int rows, int inF, int outF)
    {
        var y = new double[rows * outF];
        for (int r = 0; r < rows; r++)
        {
            for (int o = 0; o < outF; o++)
            {
                double s = b[o];
                for (int i = 0; i < inF; i++)
                {
                    s += x[(r * inF) + i] * w[(o * inF) + i];
                }

                y[(r * outF) + o] = s;
            }
        }

        return y;
    }

    /// <summary>Mean over counted rows of logsumexp(z) − z_t; writes (softmax − onehot)/|M| into <paramref name="grad"/> if given.</summary>
    private static double ReferenceCrossEntropy(double[] z, int[] t, bool[]? mask, int classes, double[]? grad)
    {
        int counted = Enumerable.Range(0, t.Length).Count(r => t[r] >= 0 && (mask is null || mask[r]));
        double total = 0;
        for (int r = 0; r < t.Length; r++)
        {
            if (t[r] < 0 || (mask is not null && !mask[r]))
            {
                continue;
            }

            double max = double.NegativeInfinity;
            for (int c = 0; c < classes; c++)
            {
                max = Math.Max(max, z[(r * classes) + c]);
            }

            double sum = 0, others = 0;
            for (int c = 0; c < classes; c++)
            {
                double e = Math.Exp(z[(r * classes) + c] - max);
                sum += e;
                others += c == t[r] ? 0 : e;
            }

            total += max + Math.Log(sum) - z[(r * classes) + t[r]];
            if (grad is not null)
            {
                for (int c = 0; c < classes; c++)
                {
                    grad[(r * classes) + c] = (c == t[r] ? -others : Math.Exp(z[(r * classes) + c] - max)) / sum / counted;
                }
            }
        }

        return total / counted;
    }

    /// <summary>Central differences (h = 1e-4) of the double objective for every entry of <paramref name="at"/>.</summary>
    private static void CheckFiniteDifferences(double[] at, ReadOnlySpan<float> gradient, Func<double> objective, string what)
    {
        const double H = 1e-4;
        for (int i = 0; i < at.Length; i++)
        {
            double v = at[i];
            at[i] = v + H;
            double up = objective();
            at[i] = v - H;
            double down = objective();
            at[i] = v;
            double fd = (up - down) / (2 * H);
            Within(fd, gradient[i], (2e-5 * Math.Abs(fd)) + 5e-7, $"{what}[{i}]");
        }
    }
}
