using RecurrentCore.Cells;
using RecurrentCore.Kernels;
using RecurrentCore.Kernels.Operators;
using RecurrentCore.Reference;

namespace RecurrentCore.Interop.Onnx;

/// <summary>
/// Runs one ONNX recurrent node whose attributes PyTorch's cells lack (activations, α/β, clip, input_forget,
/// peepholes) on the general cells (<see cref="CellCatalog.ForOnnx"/>, one per direction, float32 fast kernels):
/// per direction one GEMM projects the whole sequence, then each step runs the cell on all B rows. Rows past their
/// length keep their state and output 0; the reverse direction visits t = len−1..0; Y_h / Y_c are zero for a sequence
/// of length 0 (as ONNX Runtime). Single-threaded, so results are the same run to run for a given variant.
/// </summary>
internal sealed class OnnxCellRunner
{
    private readonly OnnxCell[] _cells;

    private OnnxCellRunner(RecurrentOperatorSpec spec, OnnxCell[] cells)
    {
        Spec = spec;
        _cells = cells;
    }

    public RecurrentOperatorSpec Spec { get; }

    /// <summary>Builds the cells from ONNX W (D, G·H, I), R (D, G·H, H), B (D, 2·G·H) and P (D, 3·H).</summary>
    public static OnnxCellRunner Create(RecurrentOperatorSpec spec, int inputSize, double[] w, double[] r, double[]? b, double[]? p, KernelVariant variant)
    {
        int h = spec.HiddenSize, gh = spec.Gates * h, k = spec.ActivationsPerDirection;
        var kind = spec.Kind switch { RecurrentOperatorKind.Lstm => OnnxCellKind.Lstm, RecurrentOperatorKind.Gru => OnnxCellKind.Gru, _ => OnnxCellKind.Rnn };
        float clip = spec.Clip is double c ? (float)c : float.PositiveInfinity;
        var cells = new OnnxCell[spec.Directions];
        for (int d = 0; d < cells.Length; d++)
        {
            var acts = new GateActivation[k];
            for (int j = 0; j < k; j++)
            {
                var a = spec.Activations[(d * k) + j];
                acts[j] = new GateActivation(ToKernel(a.Function), (float)a.Alpha, (float)a.Beta);
            }

            var cellSpec = new OnnxCellSpec(kind, inputSize, h, acts, clip, spec.InputForget, spec.LinearBeforeReset);
            cells[d] = CellCatalog.ForOnnx(
                cellSpec,
                Slice(w, d * gh * inputSize, gh * inputSize)!,
                Slice(r, d * gh * h, gh * h)!,
                Slice(b, d * 2 * gh, gh),
                Slice(b, (d * 2 * gh) + gh, gh),
                spec.Kind == RecurrentOperatorKind.Lstm ? Slice(p, d * 3 * h, 3 * h) : null,
                variant);
        }

        return new OnnxCellRunner(spec, cells);
    }

    /// <summary>Runs on time-major data: X (T, B, I), states (D, B, H); returns Y (T, D, B, H), Y_h, Y_c (D, B, H).</summary>
    public RecurrentOperatorOutputs Run(int t, int b, double[] x, int[]? lengths, double[]? h0, double[]? c0)
    {
        int h = Spec.HiddenSize, d = Spec.Directions, gh = _cells[0].GateRows;
        bool lstm = _cells[0].HasCellState;
        var xf = new float[x.Length];
        for (int j = 0; j < x.Length; j++)
        {
            xf[j] = (float)x[j];
        }

        bool uniform = lengths is null || lengths.All(l => l == t);
        int steps = lengths is null ? t : lengths.Max();
        var proj = new float[t * b * gh];
        var stepGates = uniform ? [] : new float[b * gh];
        var scratch = new float[Math.Max(1, b * _cells[0].ScratchPerRow)];
        var hs = new float[b * h];
        var hn = new float[b * h];
        var cs = new float[lstm ? b * h : 0];
        var cn = new float[cs.Length];
        var y = new double[t * d * b * h];
        var yh = new double[d * b * h];
        var yc = lstm ? new double[d * b * h] : null;
        for (int dir = 0; dir < d; dir++)
        {
            var cell = _cells[dir];
            bool reverse = Spec.Direction == RecurrentDirection.Reverse || dir == 1;
            cell.Project(xf, t * b, proj);
            Load(h0, dir * b * h, hs);
            Load(c0, dir * b * h, cs);
            for (int s = 0; s < steps; s++)
            {
                Span<float> gates;
                if (uniform)
                {
                    int ti = reverse ? t - 1 - s : s;
                    gates = proj.AsSpan(ti * b * gh, b * gh);
                }
                else
                {
                    gates = stepGates;
                    for (int bi = 0; bi < b; bi++)
                    {
                        int len = lengths![bi];
                        var row = stepGates.AsSpan(bi * gh, gh);
                        if (s < len)
                        {
                            int ti = reverse ? len - 1 - s : s;
                            proj.AsSpan(((ti * b) + bi) * gh, gh).CopyTo(row);
                        }
                        else
                        {
                            row.Clear(); // computed and discarded: the row keeps its state
                        }
                    }
                }

                cell.Step(b, gates, hs, hn, cs, cn, scratch);
                for (int bi = 0; bi < b; bi++)
                {
                    int len = lengths?[bi] ?? t;
                    if (s < len)
                    {
                        int ti = reverse ? len - 1 - s : s;
                        var dst = y.AsSpan(((((ti * d) + dir) * b) + bi) * h, h);
                        var src = hn.AsSpan(bi * h, h);
                        for (int j = 0; j < h; j++)
                        {
                            dst[j] = src[j];
                        }
                    }
                    else
                    {
                        hs.AsSpan(bi * h, h).CopyTo(hn.AsSpan(bi * h, h));
                        if (lstm)
                        {
                            cs.AsSpan(bi * h, h).CopyTo(cn.AsSpan(bi * h, h));
                        }
                    }
                }

                (hs, hn) = (hn, hs);
                (cs, cn) = (cn, cs);
            }

            for (int bi = 0; bi < b; bi++)
            {
                if (lengths is not null && lengths[bi] == 0)
                {
                    continue; // ONNX Runtime: zero states for an empty sequence
                }

                int o = ((dir * b) + bi) * h;
                for (int j = 0; j < h; j++)
                {
                    yh[o + j] = hs[(bi * h) + j];
                    if (yc is not null)
                    {
                        yc[o + j] = cs[(bi * h) + j];
                    }
                }
            }
        }

        return new RecurrentOperatorOutputs(y, yh, yc);
    }

    private static GateFunction ToKernel(ActivationFunction f) => f switch
    {
        ActivationFunction.Relu => GateFunction.Relu,
        ActivationFunction.Tanh => GateFunction.Tanh,
        ActivationFunction.Sigmoid => GateFunction.Sigmoid,
        ActivationFunction.Affine => GateFunction.Affine,
        ActivationFunction.LeakyRelu => GateFunction.LeakyRelu,
        ActivationFunction.ThresholdedRelu => GateFunction.ThresholdedRelu,
        ActivationFunction.ScaledTanh => GateFunction.ScaledTanh,
        ActivationFunction.HardSigmoid => GateFunction.HardSigmoid,
        ActivationFunction.Elu => GateFunction.Elu,
        ActivationFunction.Softsign => GateFunction.Softsign,
        ActivationFunction.Softplus => GateFunction.Softplus,
        _ => throw new ArgumentOutOfRangeException(nameof(f), f, "unknown activation function"),
    };

    private static float[]? Slice(double[]? source, int offset, int count)
    {
        if (source is null)
        {
            return null;
        }

        var result = new float[count];
        for (int j = 0; j < count; j++)
        {
            result[j] = (float)source[offset + j];
        }

        return result;
    }

    private static void Load(double[]? source, int offset, float[] dst)
    {
        for (int j = 0; j < dst.Length; j++)
        {
            dst[j] = source is null ? 0f : (float)source[offset + j];
        }
    }
}
