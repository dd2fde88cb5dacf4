using RecurrentCore.Interop.Onnx;
using RecurrentCore.Reference;
using RecurrentCore.Tests.Reference;
using Xunit;

namespace RecurrentCore.Tests.Interop.Onnx;

/// <summary>
/// Export with a Linear head: ONNX Runtime and <see cref="OnnxSession"/> against the reference layer stack followed by
/// the head computed here in plain loops.
/// </summary>
public class OnnxHeadExportTests
{
    [Theory]
    [InlineData("lstm", false, false, OnnxHeadInput.EveryStep, OnnxHeadActivation.None)]
    [InlineData("gru", true, true, OnnxHeadInput.EveryStep, OnnxHeadActivation.Sigmoid)]
    [InlineData("rnn-tanh", false, true, OnnxHeadInput.FinalState, OnnxHeadActivation.Softmax)]
    [InlineData("lstm", true, false, OnnxHeadInput.FinalState, OnnxHeadActivation.Tanh)]
    [InlineData("gru", false, true, OnnxHeadInput.FinalState, OnnxHeadActivation.Relu)]
    public void Exported_head_runs_in_onnx_runtime_and_our_session(string cell, bool batchFirst, bool bidirectional, OnnxHeadInput input, OnnxHeadActivation activation)
    {
        var cfg = new RecurrentConfig(CellKinds.Parse(cell), 3, 4, numLayers: 2, batchFirst: batchFirst, bidirectional: bidirectional);
        var rng = new Random(11);
        var p = RandomData.Parameters(cfg, rng, 0.5);
        int t = 5, b = 3, f = 3, k = cfg.OutputSize;
        var head = new OnnxLinearHead(Close.ToFloat(RandomData.Normal(rng, f * k, 0.5)), Close.ToFloat(RandomData.Normal(rng, f, 0.2)), f, input, activation);
        byte[] model = OnnxModel.Export(p, new OnnxExportOptions { Head = head, SequenceLens = true });
        var x = Close.ToFloat(RandomData.Normal(rng, t * b * cfg.InputSize));
        int[] lengths = [5, 2, 4];

        // Expected: the reference stack on the float32-rounded weights, then the head here.
        var rounded = new RecurrentParameters(cfg);
        foreach (var (name, _, data) in p.Named())
        {
            Close.ToFloat(data).CopyTo(rounded.Named().Single(e => e.Name == name).Data, 0);
        }

        var r = ReferenceRnn.Forward(rounded, new SequenceInputs(t, b, x, Lengths: lengths));
        double[] features;
        int rows;
        if (input == OnnxHeadInput.EveryStep)
        {
            features = r.Output;
            rows = t * b;
        }
        else
        {
            // Last layer's h_n rows (D, B, H) → (B, D·H).
            int d = cfg.NumDirections, h = cfg.HiddenSize, last = (cfg.NumLayers - 1) * d;
            features = new double[b * d * h];
            for (int bi = 0; bi < b; bi++)
            {
                for (int di = 0; di < d; di++)
                {
                    Array.Copy(r.HN, ((((last + di) * b) + bi) * h), features, ((bi * d) + di) * h, h);
                }
            }

            rows = b;
        }

        var expected = new double[rows * f];
        for (int row = 0; row < rows; row++)
        {
            for (int j = 0; j < f; j++)
            {
                double sum = head.Bias![j];
                for (int q = 0; q < k; q++)
                {
                    sum += head.Weight[(j * k) + q] * features[(row * k) + q];
                }

                expected[(row * f) + j] = activation switch
                {
                    OnnxHeadActivation.Relu => Math.Max(0, sum),
                    OnnxHeadActivation.Tanh => Math.Tanh(sum),
                    OnnxHeadActivation.Sigmoid => 1 / (1 + Math.Exp(-sum)),
                    _ => sum,
                };
            }

            if (activation == OnnxHeadActivation.Softmax)
            {
                var seg = expected.AsSpan(row * f, f);
                double max = seg.ToArray().Max(), total = seg.ToArray().Sum(v => Math.Exp(v - max));
                for (int j = 0; j < f; j++)
                {
                    seg[j] = Math.Exp(seg[j] - max) / total;
                }
            }
        }

        int[] xShape = batchFirst ? [b, t, cfg.InputSize] : [t, b, cfg.InputSize];
        var feeds = new Dictionary<string, OnnxTensor>
        {
            [OnnxModel.Names.Input] = OnnxTensor.FromFloats(x, xShape),
            [OnnxModel.Names.SequenceLens] = OnnxTensor.FromInt32s(lengths, b),
        };
        var ort = OrtRunner.Run(model, feeds.ToDictionary(e => e.Key, e => OnnxOperatorOrtTests.ToOrt(e.Value)));
        Close.Assert("ORT head", expected, ort[OnnxModel.Names.Head].Values(), 2e-5);
        Close.Assert("reference session head", expected, OnnxModel.Load(model, "m", new OnnxSessionOptions { FastPath = false }).Run(feeds)[OnnxModel.Names.Head].Data, 1e-9);
        Close.Assert("fast session head", expected, OnnxModel.Load(model, "m").Run(feeds)[OnnxModel.Names.Head].Data, 2e-5);
        var e = Assert.Throws<RecurrentCore.InteropFormatException>(() => OnnxModel.Import(model, "m"));
        Assert.Contains("is not part of a recurrent layer stack", e.Message, StringComparison.Ordinal);
    }
}
