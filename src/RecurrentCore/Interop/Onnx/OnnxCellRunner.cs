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

    /// <summary>Buffers for runs of <paramref name="t"/> steps of <paramref name="b"/> rows, made once and reused.</summary>
    public Scratch CreateScratch(int t, int b) => new(this, t, b);

    /// <summary>
    /// Runs on time-major data, X (T, B, I) and states (D, B, H), into caller buffers Y (T, D, B, H), Y_h and Y_c
    /// (D, B, H), allocating nothing: an empty <paramref name="lengths"/>, <paramref name="h0"/> or <paramref name="c0"/> is absent (full length, zeros).
    /// </summary>
    public void Run(Scratch s, ReadOnlySpan<double> x, ReadOnlySpan<int> lengths, ReadOnlySpan<double> h0, ReadOnlySpan<double> c0, Span<double> y, Span<double> yh, Span<double> yc)
    {
        int t = s.T, b = s.B, h = Spec.HiddenSize, d = Spec.Directions, gh = _cells[0].GateRows;
        bool lstm = _cells[0].HasCellState;
        bool hasLengths = !lengths.IsEmpty;
        var xf = s.X;
        for (int j = 0; j < xf.Length; j++)
        {
            xf[j] = (float)x[j];
        }

        bool uniform = true;
        int steps = hasLengths ? 0 : t;
        for (int bi = 0; bi < lengths.Length; bi++)
        {
            uniform &= lengths[bi] == t;
            steps = Math.Max(steps, lengths[bi]);
        }

        var proj = s.Projection;
        var stepGates = s.StepGates;
        y.Clear();
        yh.Clear();
        yc.Clear();
        for (int dir = 0; dir < d; dir++)
        {
            var cell = _cells[dir];
            bool reverse = Spec.Direction == RecurrentDirection.Reverse || dir == 1;
            float[] hs = s.H0, hn = s.H1, cs = s.C0, cn = s.C1;
            cell.Project(xf, t * b, proj);
            Load(h0, dir * b * h, hs);
            Load(c0, dir * b * h, cs);
            for (int st = 0; st < steps; st++)
            {
                Span<float> gates;
                if (uniform)
                {
                    int ti = reverse ? t - 1 - st : st;
                    gates = proj.AsSpan(ti * b * gh, b * gh);
                }
                else
                {
                    gates = stepGates;
                    for (int bi = 0; bi < b; bi++)
                    {
                        int len = lengths[bi];
                        var row = stepGates.AsSpan(bi * gh, gh);
                        if (st < len)
                        {
                            int ti = reverse ? len - 1 - st : st;
                            proj.AsSpan(((ti * b) + bi) * gh, gh).CopyTo(row);
                        }
                        else
                        {
                            row.Clear(); // computed and discarded: the row keeps its state
                        }
                    }
                }

                cell.Step(b, gates, hs, hn, cs, cn, s.CellScratch);
                for (int bi = 0; bi < b; bi++)
                {
                    int len = hasLengths ? lengths[bi] : t;
                    if (st < len)
                    {
                        int ti = reverse ? len - 1 - st : st;
                        var dst = y.Slice(((((ti * d) + dir) * b) + bi) * h, h);
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
                if (hasLengths && lengths[bi] == 0)
                {
                    continue; // ONNX Runtime: zero states for an empty sequence
                }

                int o = ((dir * b) + bi) * h;
                for (int j = 0; j < h; j++)
                {
                    yh[o + j] = hs[(bi * h) + j];
                    if (lstm)
                    {
                        yc[o + j] = cs[(bi * h) + j];
                    }
                }
            }
        }
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

    private static void Load(ReadOnlySpan<double> source, int offset, float[] dst)
    {
        for (int j = 0; j < dst.Length; j++)
        {
            dst[j] = source.IsEmpty ? 0f : (float)source[offset + j];
        }
    }

    /// <summary>The float32 buffers of runs of T steps of B rows.</summary>
    internal sealed class Scratch
    {
        public Scratch(OnnxCellRunner owner, int t, int b)
        {
            var cell = owner._cells[0];
            int h = owner.Spec.HiddenSize, gh = cell.GateRows;
            T = t;
            B = b;
            X = new float[t * b * cell.Spec.InputSize];
            Projection = new float[t * b * gh];
            StepGates = new float[b * gh];
            CellScratch = new float[Math.Max(1, b * cell.ScratchPerRow)];
            H0 = new float[b * h];
            H1 = new float[b * h];
            C0 = new float[cell.HasCellState ? b * h : 0];
            C1 = new float[C0.Length];
        }

        public int T { get; }

        public int B { get; }

        public float[] X { get; }

        public float[] Projection { get; }

        public float[] StepGates { get; }

        public float[] CellScratch { get; }

        public float[] H0 { get; }

        public float[] H1 { get; }

        public float[] C0 { get; }

        public float[] C1 { get; }
    }
}
