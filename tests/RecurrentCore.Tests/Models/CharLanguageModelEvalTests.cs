using RecurrentCore.Models;
using RecurrentCore.Training;
using Xunit;
using Xunit.Abstractions;

namespace RecurrentCore.Tests.Models;

/// <summary>
/// <see cref="CharLanguageModel.Evaluate"/> in each weight format against a plain double-precision evaluation written
/// here from the formats' definitions (docs/numerics.md), not from the library's code: float32 and bf16 on the exact
/// (rounded) weights, int8 with the per-row weight scales and the per-step, per-vector symmetric quantization of x and
/// h emulated in double with exact integer dot products.
/// </summary>
public class CharLanguageModelEvalTests(ITestOutputHelper log)
{
    private const string Train = "the quick brown fox jumps over the lazy dog. a lazy dog sleeps; the fox runs over it. ";
    private const string HeldOut = "over the dog the quick fox sleeps. the brown dog jumps; a fox runs. the lazy fox ";

    [Fact]
    public void Quantized_evaluation_agrees_with_float32_within_the_gap_of_the_double_references()
    {
        var model = TinyTrainedModel();
        double f32 = model.Evaluate(HeldOut, WeightFormat.Float32);
        double bf16 = model.Evaluate(HeldOut, WeightFormat.BFloat16);
        double int8 = model.Evaluate(HeldOut, WeightFormat.Int8);
        var ids = model.Encode(HeldOut);
        double refF32 = ReferenceLoss(model, ids, Product.Exact);
        double refBf16 = ReferenceLoss(model, ids, Product.BFloat16);
        double refInt8 = ReferenceLoss(model, ids, Product.Int8);
        log.WriteLine($"f32 {f32:R} (ref {refF32:R}); bf16 {bf16:R} (ref {refBf16:R}); int8 {int8:R} (ref {refInt8:R})");

        // float32 and bf16: the library differs from the double evaluation by float32 arithmetic only (about 1e-9 nats
        // measured, 8e-10 and 4e-9 on AVX-512); 1e-6 leaves three orders of margin.
        const double Float32Tol = 1e-6;
        // int8: the same, unless a float32 h lies on the other side of a rounding midpoint than the double h and
        // quantizes one level apart (~2e-5 of such steps here; one costs ~1e-6 nats at H = 16). Measured 1.4e-8. The
        // int8 − float32 gap is 7.8e-5, so an int8 path that skipped quantization would fail by 4x.
        const double Int8Tol = 2e-5;
        Assert.True(Math.Abs(f32 - refF32) <= Float32Tol, $"f32 {f32} vs reference {refF32}");
        Assert.True(Math.Abs(bf16 - refBf16) <= Float32Tol, $"bf16 {bf16} vs reference {refBf16}");
        Assert.True(Math.Abs(int8 - refInt8) <= Int8Tol, $"int8 {int8} vs reference {refInt8}");

        // Each format's cost against float32 is the one its double reference predicts, up to the same tolerances.
        Assert.True(Math.Abs(bf16 - f32) <= Math.Abs(refBf16 - refF32) + (2 * Float32Tol), $"bf16 − f32 = {bf16 - f32:E2}, reference gap {refBf16 - refF32:E2}");
        Assert.True(Math.Abs(int8 - f32) <= Math.Abs(refInt8 - refF32) + Float32Tol + Int8Tol, $"int8 − f32 = {int8 - f32:E2}, reference gap {refInt8 - refF32:E2}");

        // The model learned something, so the comparison is not between two uniform guesses.
        Assert.True(f32 < Math.Log(model.Vocabulary.Length) - 0.5, $"f32 loss {f32} is close to uniform");
    }

    [Fact]
    public void Evaluation_refuses_short_text_and_unknown_chars()
    {
        var model = new CharLanguageModel("ab", CellKind.Lstm, 4, 1, 2, new SeededRandom(1));
        Assert.Contains("at least 2", Assert.Throws<ArgumentException>(() => model.Evaluate("a", WeightFormat.Int8)).Message, StringComparison.Ordinal);
        Assert.Contains("'c'", Assert.Throws<ArgumentException>(() => model.Evaluate("abc")).Message, StringComparison.Ordinal);
    }

    private static CharLanguageModel TinyTrainedModel()
    {
        var model = new CharLanguageModel(CharLanguageModel.VocabularyOf(Train + HeldOut), CellKind.Lstm, 16, 1, 8, new SeededRandom(3));
        var lm = model.Model;
        var opt = new Adam(lm.Parameters, new AdamOptions { LearningRate = 2e-2 });
        int[] ids = model.Encode(Train);
        const int K = 16;
        using var trainer = lm.CreateTrainer(K, 1);
        for (int epoch = 0; epoch < 12; epoch++)
        {
            trainer.Bptt.ResetState();
            for (int start = 0; start + 1 < ids.Length; start += K)
            {
                int steps = Math.Min(K, ids.Length - 1 - start);
                trainer.Step(ids.AsSpan(start, steps), ids.AsSpan(start + 1, steps), steps, opt, 5);
            }
        }

        return model;
    }

    private enum Product
    {
        Exact,
        BFloat16,
        Int8,
    }

    /// <summary>Mean next-char cross-entropy in double: embedding row → LSTM step (PyTorch gates i, f, g, o) → head → log-softmax.</summary>
    private static double ReferenceLoss(CharLanguageModel model, int[] ids, Product product)
    {
        var p = model.Model.Parameters;
        float[] Get(string name) => p[name].Value.ToArray();
        float[] emb = Get("embed.weight"), wih = Get("rnn.weight_ih_l0"), whh = Get("rnn.weight_hh_l0");
        float[] bih = Get("rnn.bias_ih_l0"), bhh = Get("rnn.bias_hh_l0"), hw = Get("head.weight"), hb = Get("head.bias");
        int e = model.Model.Embedding.Dim, h = model.Model.Recurrent.Config.HiddenSize, v = model.Model.VocabularySize, g = 4 * h;
        var ih = new WeightRows(wih, g, e, product);
        var hh = new WeightRows(whh, g, h, product);
        var hs = new double[h];
        var cs = new double[h];
        double sum = 0;
        for (int t = 0; t + 1 < ids.Length; t++)
        {
            var x = new double[e];
            for (int k = 0; k < e; k++)
            {
                x[k] = emb[(ids[t] * e) + k];
            }

            // The library keeps h in float32 between steps; the int8 emulation quantizes that float32 value.
            var hPrev = product == Product.Int8 ? Array.ConvertAll(hs, d => (double)(float)d) : hs;
            var a = new double[g];
            ih.Multiply(x, a);
            hh.Multiply(hPrev, a);
            for (int r = 0; r < h; r++)
            {
                double i = Sigmoid(a[r] + bih[r] + bhh[r]);
                double f = Sigmoid(a[h + r] + bih[h + r] + bhh[h + r]);
                double gg = Math.Tanh(a[(2 * h) + r] + bih[(2 * h) + r] + bhh[(2 * h) + r]);
                double o = Sigmoid(a[(3 * h) + r] + bih[(3 * h) + r] + bhh[(3 * h) + r]);
                cs[r] = (f * cs[r]) + (i * gg);
                hs[r] = o * Math.Tanh(cs[r]);
            }

            var z = new double[v];
            for (int k = 0; k < v; k++)
            {
                z[k] = hb[k];
                for (int j = 0; j < h; j++)
                {
                    z[k] += hw[(k * h) + j] * hs[j];
                }
            }

            double max = z.Max();
            sum += max + Math.Log(z.Sum(d => Math.Exp(d - max))) - z[ids[t + 1]];
        }

        return sum / (ids.Length - 1);
    }

    private static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));

    /// <summary>W (N × K) as the format stores it; <see cref="Multiply"/> adds W·x to y.</summary>
    private sealed class WeightRows
    {
        private readonly double[] _w;
        private readonly int[] _q = [];
        private readonly double[] _scale = [];
        private readonly int _rows, _cols;
        private readonly Product _product;

        public WeightRows(float[] w, int rows, int cols, Product product)
        {
            _rows = rows;
            _cols = cols;
            _product = product;
            _w = new double[w.Length];
            for (int i = 0; i < w.Length; i++)
            {
                // bf16: round to nearest, ties to even, on the float32 bits (the upper 16 bits kept).
                _w[i] = product == Product.BFloat16 ? RoundBFloat16(w[i]) : w[i];
            }

            if (product == Product.Int8)
            {
                _q = new int[w.Length];
                _scale = new double[rows];
                for (int r = 0; r < rows; r++)
                {
                    float amax = 0;
                    for (int c = 0; c < cols; c++)
                    {
                        amax = Math.Max(amax, Math.Abs(w[(r * cols) + c]));
                    }

                    float s = amax / 127f;
                    _scale[r] = s;
                    for (int c = 0; c < cols; c++)
                    {
                        _q[(r * cols) + c] = s == 0 ? 0 : Math.Clamp((int)MathF.Round(w[(r * cols) + c] / s, MidpointRounding.ToEven), -127, 127);
                    }
                }
            }
        }

        public void Multiply(double[] x, double[] y)
        {
            if (_product != Product.Int8)
            {
                for (int r = 0; r < _rows; r++)
                {
                    for (int c = 0; c < _cols; c++)
                    {
                        y[r] += _w[(r * _cols) + c] * x[c];
                    }
                }

                return;
            }

            // The input vector quantized symmetrically: s_x = max|x| / 127 (in float32, as x is), q_x = round_even(x / s_x).
            float xmax = 0;
            foreach (double d in x)
            {
                xmax = Math.Max(xmax, Math.Abs((float)d));
            }

            float sx = xmax / 127f;
            var qx = new int[_cols];
            for (int c = 0; c < _cols; c++)
            {
                qx[c] = sx == 0 ? 0 : Math.Clamp((int)MathF.Round((float)x[c] / sx, MidpointRounding.ToEven), -127, 127);
            }

            for (int r = 0; r < _rows; r++)
            {
                long dot = 0;
                for (int c = 0; c < _cols; c++)
                {
                    dot += (long)_q[(r * _cols) + c] * qx[c];
                }

                y[r] += dot * _scale[r] * sx;
            }
        }

        private static double RoundBFloat16(float value)
        {
            uint bits = BitConverter.SingleToUInt32Bits(value);
            uint rounded = (bits + 0x7FFFu + ((bits >> 16) & 1)) & 0xFFFF0000u;
            return BitConverter.UInt32BitsToSingle(rounded);
        }
    }
}
