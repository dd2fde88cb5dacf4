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

    /// <summary>Whether the node has a cell state (LSTM).</summary>
    public bool HasCellState => Spec.Kind == RecurrentOperatorKind.Lstm;

    /// <summary>Buffers (and the layer's workspace) for runs of <paramref name="t"/> steps of <paramref name="b"/> rows, made once and reused.</summary>
    public Scratch CreateScratch(int t, int b) => new(this, t, b);

    /// <summary>Runs on time-major data: X (T, B, I), states (D, B, H); returns Y (T, D, B, H), Y_h, Y_c (D, B, H).</summary>
    public RecurrentOperatorOutputs Run(int t, int b, double[] x, int[]? lengths, double[]? h0, double[]? c0)
    {
        int n = Spec.Directions * b * Spec.HiddenSize;
        var y = new double[t * n];
        var yh = new double[n];
        var yc = HasCellState ? new double[n] : null;
        using (var s = CreateScratch(t, b))
        {
            Run(s, x, lengths, h0, c0, y, yh, yc ?? []);
        }

        return new RecurrentOperatorOutputs(y, yh, yc);
    }

    /// <summary>
    /// As <see cref="Run(int, int, double[], int[], double[], double[])"/> into caller buffers, allocating nothing: an
    /// empty <paramref name="lengths"/>, <paramref name="h0"/> or <paramref name="c0"/> is absent (full length, zeros).
    /// </summary>
    public void Run(Scratch s, ReadOnlySpan<double> x, ReadOnlySpan<int> lengths, ReadOnlySpan<double> h0, ReadOnlySpan<double> c0, Span<double> y, Span<double> yh, Span<double> yc)
    {
        if (Layer is null)
        {
            _general!.Run(s.General!, x, lengths, h0, c0, y, yh, yc);
            return;
        }

        int t = s.T, b = s.B, i = Layer.Config.InputSize, h = Spec.HiddenSize, d = Spec.Directions;
        bool hasLengths = !lengths.IsEmpty;
        var lens = s.Lengths;
        bool full = true;
        for (int bi = 0; bi < b; bi++)
        {
            lens[bi] = hasLengths ? Math.Max(lengths[bi], 1) : t;
            full &= lens[bi] == t;
        }

        bool reverse = Spec.Direction == RecurrentDirection.Reverse;
        var xf = s.X;
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

        var output = s.Output;
        var hn = s.HN;
        bool lstm = HasCellState;
        var cn = s.CN;
        Span<float> h0f = h0.IsEmpty ? default : s.H0;
        Span<float> c0f = c0.IsEmpty || !lstm ? default : s.C0;
        for (int j = 0; j < h0f.Length; j++)
        {
            h0f[j] = (float)h0[j];
        }

        for (int j = 0; j < c0f.Length; j++)
        {
            c0f[j] = (float)c0[j];
        }

        Layer.Forward(s.Workspace!, xf, t, b, output, hn, cn, h0f, c0f, full ? default : lens);
        y.Clear();
        for (int bi = 0; bi < b; bi++)
        {
            bool empty = hasLengths && lengths[bi] == 0;
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

        yh.Clear();
        yc.Clear();
        for (int di = 0; di < d; di++)
        {
            for (int bi = 0; bi < b; bi++)
            {
                if (hasLengths && lengths[bi] == 0)
                {
                    continue; // ONNX Runtime: zero states for an empty sequence
                }

                int o = ((di * b) + bi) * h;
                for (int j = 0; j < h; j++)
                {
                    yh[o + j] = hn[o + j];
                    if (lstm)
                    {
                        yc[o + j] = cn[o + j];
                    }
                }
            }
        }
    }

    /// <summary>The float32 buffers and workspace of runs of T steps of B rows.</summary>
    internal sealed class Scratch : IDisposable
    {
        public Scratch(OnnxFastRecurrent owner, int t, int b)
        {
            T = t;
            B = b;
            if (owner.Layer is not { } layer)
            {
                General = owner._general!.CreateScratch(t, b);
                return;
            }

            int n = owner.Spec.Directions * b * owner.Spec.HiddenSize;
            bool lstm = owner.HasCellState;
            X = new float[t * b * layer.Config.InputSize];
            Output = new float[t * n];
            HN = new float[n];
            CN = lstm ? new float[n] : [];
            H0 = new float[n];
            C0 = lstm ? new float[n] : [];
            Lengths = new int[b];
            Workspace = layer.CreateWorkspace(t, b);
        }

        public int T { get; }

        public int B { get; }

        public OnnxCellRunner.Scratch? General { get; }

        public RecurrentWorkspace? Workspace { get; }

        public float[] X { get; } = [];

        public float[] Output { get; } = [];

        public float[] HN { get; } = [];

        public float[] CN { get; } = [];

        public float[] H0 { get; } = [];

        public float[] C0 { get; } = [];

        public int[] Lengths { get; } = [];

        public void Dispose() => Workspace?.Dispose();
    }
}
