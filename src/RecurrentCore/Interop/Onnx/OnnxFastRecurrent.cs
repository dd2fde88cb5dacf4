using RecurrentCore.Kernels;
using RecurrentCore.Layers;
using RecurrentCore.Reference;

namespace RecurrentCore.Interop.Onnx;

/// <summary>
/// Runs one ONNX recurrent node on the float32 fast kernels. When its attributes are PyTorch's (default activations or
/// RNN Relu the same in both directions, no clip, no input_forget, no or all-zero peepholes) it runs on
/// <see cref="RecurrentLayer"/> and PyTorch's fused cells; a reverse direction runs there as a forward layer over each
/// sequence reversed within its length, and a sequence length of 0 runs one step and is zeroed after. Every other node
/// runs on the general ONNX cells (<see cref="OnnxCellRunner"/>). Layout 1 is transposed around both by the session.
/// </summary>
internal sealed class OnnxFastRecurrent
{
    private readonly OnnxCellRunner? _general;

    private OnnxFastRecurrent(RecurrentLayer? layer, OnnxCellRunner? general, RecurrentOperatorSpec spec)
    {
        Layer = layer;
        _general = general;
        Spec = spec;
    }

    /// <summary>The PyTorch-cell layer, or null when the node runs on the general cells.</summary>
    public RecurrentLayer? Layer { get; }

    public RecurrentOperatorSpec Spec { get; }

    /// <summary>Null when PyTorch's cells run <paramref name="spec"/>, else the attribute that needs the general ONNX cell.</summary>
    public static string? GeneralCellReason(RecurrentOperatorSpec spec, double[]? peepholes) => OnnxRecurrentAttributes.PyTorchGap(spec, peepholes);

    /// <summary>
    /// Packs ONNX W (D, G·H, I), R (D, G·H, H), B (D, 2·G·H) and P (D, 3·H) into a one-layer <see cref="RecurrentLayer"/>
    /// when PyTorch's cells run the node, else into the general cells.
    /// </summary>
    public static OnnxFastRecurrent Create(RecurrentOperatorSpec spec, int inputSize, double[] w, double[] r, double[]? b, double[]? p, KernelVariant? variant)
    {
        if (GeneralCellReason(spec, p) is not null)
        {
            return new OnnxFastRecurrent(null, OnnxCellRunner.Create(spec, inputSize, w, r, b, p, Kernels.Operators.Variants.Resolve(variant)), spec);
        }

        var cell = OnnxRecurrentAttributes.PyTorchCell(spec) ?? throw new InvalidOperationException("not a PyTorch-cell spec");
        var cfg = new RecurrentConfig(cell, inputSize, spec.HiddenSize, 1, bias: b is not null, bidirectional: spec.Directions == 2)
        {
            LinearBeforeReset = cell != CellKind.Gru || spec.LinearBeforeReset,
        };
        var parameters = new RecurrentParameters(cfg);
        OnnxGateOrder.LayerFromOnnx(parameters, 0, w, r, b);
        return new OnnxFastRecurrent(RecurrentLayer.FromParameters(parameters, variant), null, spec);
    }

    /// <summary>Runs on time-major data: X (T, B, I), states (D, B, H); returns Y (T, D, B, H), Y_h, Y_c (D, B, H).</summary>
    public RecurrentOperatorOutputs Run(int t, int b, double[] x, int[]? lengths, double[]? h0, double[]? c0)
    {
        if (Layer is null)
        {
            return _general!.Run(t, b, x, lengths, h0, c0);
        }

        int i = Layer.Config.InputSize, h = Spec.HiddenSize, d = Spec.Directions;
        int[] lens = lengths is null ? [.. Enumerable.Repeat(t, b)] : [.. lengths.Select(l => Math.Max(l, 1))];
        bool reverse = Spec.Direction == RecurrentDirection.Reverse;
        var xf = new float[x.Length];
        for (int bi = 0; bi < b; bi++)
        {
            for (int ti = 0; ti < t; ti++)
            {
                int src = reverse && ti < lens[bi] ? lens[bi] - 1 - ti : ti;
                for (int j = 0; j < i; j++)
                {
                    xf[(((ti * b) + bi) * i) + j] = (float)x[(((src * b) + bi) * i) + j];
                }
            }
        }

        var output = new float[t * b * d * h];
        var hn = new float[d * b * h];
        bool lstm = Layer.Config.Cell == CellKind.Lstm;
        var cn = lstm ? new float[d * b * h] : [];
        float[] h0f = h0 is null ? [] : [.. h0.Select(v => (float)v)];
        float[] c0f = c0 is null || !lstm ? [] : [.. c0.Select(v => (float)v)];
        using (var ws = Layer.CreateWorkspace(t, b))
        {
            Layer.Forward(ws, xf, t, b, output, hn, cn, h0f, c0f, lens.All(l => l == t) ? default : lens);
        }

        var y = new double[t * d * b * h];
        for (int bi = 0; bi < b; bi++)
        {
            bool empty = lengths is not null && lengths[bi] == 0;
            for (int ti = 0; ti < t && !empty; ti++)
            {
                int dst = reverse && ti < lens[bi] ? lens[bi] - 1 - ti : ti;
                for (int di = 0; di < d; di++)
                {
                    for (int j = 0; j < h; j++)
                    {
                        y[((((dst * d) + di) * b) + bi) * h + j] = output[((((ti * b) + bi) * d) + di) * h + j];
                    }
                }
            }
        }

        var yh = new double[d * b * h];
        var yc = lstm ? new double[d * b * h] : null;
        for (int di = 0; di < d; di++)
        {
            for (int bi = 0; bi < b; bi++)
            {
                if (lengths is not null && lengths[bi] == 0)
                {
                    continue; // ONNX Runtime: zero states for an empty sequence
                }

                int o = ((di * b) + bi) * h;
                for (int j = 0; j < h; j++)
                {
                    yh[o + j] = hn[o + j];
                    if (yc is not null)
                    {
                        yc[o + j] = cn[o + j];
                    }
                }
            }
        }

        return new RecurrentOperatorOutputs(y, yh, yc);
    }
}
