using RecurrentCore.Layers;
using RecurrentCore.Models;
using RecurrentCore.Training;

namespace RecurrentCore.Cli.Demo;

/// <summary>
/// ‖∂L/∂h_t‖ against the distance d = T−1−t from the loss, exactly: L is the copy task's cross-entropy at the last
/// step. The states (h_t, c_t) after every step come from one streaming pass; for each t the suffix x_{t+1..T−1} is
/// run again from (h_t, c_t) with a training workspace and back-propagated, and the layer's ∂L/∂h0 (∂L/∂c0) of
/// that run is ∂L/∂h_t (∂L/∂c_t) of the whole sequence, because the suffix computation is the same function of the
/// state. Each norm is per sequence (the batch mean's 1/B undone), averaged over the batch.
/// </summary>
internal static class GradientProbe
{
    public static (double[] Hidden, double[] Cell) Measure(RecurrentLanguageModel model, int seqLen, int batch, SeededRandom data)
    {
        var layer = model.Recurrent.Layer;
        var cfg = layer.Config;
        int h = cfg.HiddenSize, e = cfg.InputSize, v = model.VocabularySize, bh = batch * h;
        bool lstm = cfg.Cell.HasCellState();
        var inputs = new int[seqLen * batch];
        var targets = new int[seqLen * batch];
        CopyTask.Fill(inputs, targets, seqLen, batch, data);
        var x = new float[seqLen * batch * e];
        model.Embedding.Forward(inputs, x);

        var hs = new float[seqLen * bh];
        var cs = new float[lstm ? seqLen * bh : 0];
        var stream = layer.CreateStream(batch);
        var y = new float[bh];
        for (int t = 0; t < seqLen; t++)
        {
            stream.Step(x.AsSpan(t * batch * e, batch * e), y);
            stream.HiddenState.CopyTo(hs.AsSpan(t * bh, bh));
            if (lstm)
            {
                stream.CellState.CopyTo(cs.AsSpan(t * bh, bh));
            }
        }

        var lastTargets = targets.AsSpan((seqLen - 1) * batch, batch);
        var logits = new float[batch * v];
        var dLogits = new float[batch * v];
        var dhLast = new float[bh];
        var hidden = new double[seqLen];
        var cell = new double[seqLen];

        // d = 0: ∂L/∂h_{T−1} straight from the head.
        model.Head.Forward(hs.AsSpan((seqLen - 1) * bh, bh), logits, batch);
        CrossEntropy.Compute(logits, lastTargets, dLogits, v);
        model.Head.Backward(hs.AsSpan((seqLen - 1) * bh, bh), dLogits, dhLast, batch);
        hidden[0] = MeanNorm(dhLast, batch, h);

        var ws = layer.CreateWorkspace(seqLen, batch, training: true);
        var output = new float[seqLen * bh];
        var gradOutput = new float[seqLen * bh];
        var dh0 = new float[bh];
        var dc0 = new float[lstm ? bh : 0];
        var grads = new RecurrentGradients(cfg);
        for (int d = 1; d < seqLen; d++)
        {
            int t = seqLen - 1 - d;
            var suffix = x.AsSpan((t + 1) * batch * e, d * batch * e);
            layer.Forward(ws, suffix, d, batch, output.AsSpan(0, d * bh), default, default, hs.AsSpan(t * bh, bh), lstm ? cs.AsSpan(t * bh, bh) : default);
            var top = output.AsSpan((d - 1) * bh, bh);
            model.Head.Forward(top, logits, batch);
            CrossEntropy.Compute(logits, lastTargets, dLogits, v);
            var g = gradOutput.AsSpan(0, d * bh);
            g.Clear();
            model.Head.Backward(top, dLogits, g.Slice((d - 1) * bh, bh), batch);
            layer.Backward(ws, g, default, default, grads, default, dh0, dc0);
            hidden[d] = MeanNorm(dh0, batch, h);
            cell[d] = lstm ? MeanNorm(dc0, batch, h) : 0;
        }

        model.Parameters.ZeroGrad();
        return (hidden, cell);
    }

    private static double MeanNorm(ReadOnlySpan<float> g, int batch, int h)
    {
        double sum = 0;
        for (int b = 0; b < batch; b++)
        {
            double s = 0;
            foreach (float value in g.Slice(b * h, h))
            {
                s += (double)value * value;
            }

            sum += Math.Sqrt(s) * batch;
        }

        return sum / batch;
    }
}
