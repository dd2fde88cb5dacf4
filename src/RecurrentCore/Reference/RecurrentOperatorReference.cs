namespace RecurrentCore.Reference;

/// <summary>The ONNX recurrent operator a <see cref="RecurrentOperatorSpec"/> describes.</summary>
public enum RecurrentOperatorKind
{
    /// <summary>ONNX RNN: one gate, activation f.</summary>
    Rnn,

    /// <summary>ONNX LSTM: gates i, o, f, c; activations f, g, h; optional peepholes.</summary>
    Lstm,

    /// <summary>ONNX GRU: gates z, r, h; activations f, g.</summary>
    Gru,
}

/// <summary>The ONNX direction attribute.</summary>
public enum RecurrentDirection
{
    /// <summary>t = 0..len−1.</summary>
    Forward,

    /// <summary>t = len−1..0.</summary>
    Reverse,

    /// <summary>Both, forward first.</summary>
    Bidirectional,
}

/// <summary>
/// Every attribute of one ONNX RNN, LSTM or GRU node (opsets 7–22), as <see cref="RecurrentOperatorReference"/> runs it.
/// </summary>
public sealed record RecurrentOperatorSpec
{
    /// <summary>Creates a spec with ONNX's default activations, no clip, layout 0 and (GRU) linear_before_reset 0.</summary>
    public RecurrentOperatorSpec(RecurrentOperatorKind kind, int hiddenSize, RecurrentDirection direction = RecurrentDirection.Forward)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(hiddenSize, 1);
        Kind = kind;
        HiddenSize = hiddenSize;
        Direction = direction;
        Activations = DefaultActivations(kind, Directions);
    }

    /// <summary>RNN, LSTM or GRU.</summary>
    public RecurrentOperatorKind Kind { get; init; }

    /// <summary>H.</summary>
    public int HiddenSize { get; init; }

    /// <summary>Forward, reverse or bidirectional.</summary>
    public RecurrentDirection Direction { get; init; }

    /// <summary>0: X (T, B, I), Y (T, D, B, H), states (D, B, H); 1: X (B, T, I), Y (B, T, D, H), states (B, D, H).</summary>
    public int Layout { get; init; }

    /// <summary>GRU: whether r multiplies (R_h h + Rb_h) (1, PyTorch) rather than h before R_h (0, ONNX's default).</summary>
    public bool LinearBeforeReset { get; init; }

    /// <summary>Per direction, the cell's activations in order (RNN: f; LSTM: f, g, h; GRU: f, g): D·k entries.</summary>
    public IReadOnlyList<RecurrentActivation> Activations { get; init; }

    /// <summary>When set, every activation input is clamped to [−clip, clip] first.</summary>
    public double? Clip { get; init; }

    /// <summary>LSTM: couple the forget gate to the input gate, f = 1 − i.</summary>
    public bool InputForget { get; init; }

    /// <summary>D: 2 when bidirectional, else 1.</summary>
    public int Directions => Direction == RecurrentDirection.Bidirectional ? 2 : 1;

    /// <summary>G: 4 for LSTM, 3 for GRU, 1 for RNN.</summary>
    public int Gates => Kind switch { RecurrentOperatorKind.Lstm => 4, RecurrentOperatorKind.Gru => 3, _ => 1 };

    /// <summary>Activations per direction k: 3 for LSTM, 2 for GRU, 1 for RNN.</summary>
    public int ActivationsPerDirection => ActivationCount(Kind);

    /// <summary>k for <paramref name="kind"/>.</summary>
    public static int ActivationCount(RecurrentOperatorKind kind) => kind switch { RecurrentOperatorKind.Lstm => 3, RecurrentOperatorKind.Gru => 2, _ => 1 };

    /// <summary>ONNX's defaults repeated per direction: RNN Tanh; LSTM Sigmoid, Tanh, Tanh; GRU Sigmoid, Tanh.</summary>
    public static IReadOnlyList<RecurrentActivation> DefaultActivations(RecurrentOperatorKind kind, int directions)
    {
        RecurrentActivation[] one = kind switch
        {
            RecurrentOperatorKind.Lstm => [RecurrentActivation.Sigmoid, RecurrentActivation.Tanh, RecurrentActivation.Tanh],
            RecurrentOperatorKind.Gru => [RecurrentActivation.Sigmoid, RecurrentActivation.Tanh],
            _ => [RecurrentActivation.Tanh],
        };
        return [.. Enumerable.Range(0, directions).SelectMany(_ => one)];
    }
}

/// <summary>
/// The inputs of one ONNX recurrent node in double precision, in ONNX layout and gate order (LSTM i, o, f, c; GRU z, r, h):
/// X (T, B, I) or (B, T, I) for layout 1; W (D, G·H, I); R (D, G·H, H); B (D, 2·G·H) = [Wb | Rb] or null (zeros);
/// sequence_lens (B), each in 0..T, or null (all T); initial_h / initial_c (D, B, H) or (B, D, H) for layout 1, or null
/// (zeros); P (D, 3·H) peepholes in order i, o, f, or null (zeros).
/// </summary>
public sealed record RecurrentOperatorInputs(
    int SeqLen, int Batch, int InputSize, double[] X, double[] W, double[] R, double[]? B = null, int[]? SequenceLens = null,
    double[]? InitialH = null, double[]? InitialC = null, double[]? P = null);

/// <summary>Y (T, D, B, H) or (B, T, D, H) for layout 1, zero past each sequence's length; Y_h and Y_c (D, B, H) or (B, D, H) (Y_c: LSTM only).</summary>
public sealed record RecurrentOperatorOutputs(double[] Y, double[] YH, double[]? YC);

/// <summary>
/// The ONNX RNN, LSTM and GRU operators (opsets 7–22) in double precision with plain loops: every attribute and input
/// of the spec, forward only.
/// <code>
/// RNN:  H' = f(W x + R H + Wb + Rb)
/// LSTM: i = f(W_i x + R_i H + P_i⊙C + b_i)   f_t = f(W_f x + R_f H + P_f⊙C + b_f)  (1 − i with input_forget)
///       c̃ = g(W_c x + R_c H + b_c)   C' = f_t⊙C + i⊙c̃   o = f(W_o x + R_o H + P_o⊙C' + b_o)   H' = o⊙h(C')
/// GRU:  z = f(W_z x + R_z H + b_z)   r = f(W_r x + R_r H + b_r)
///       h̃ = g(W_h x + R_h(r⊙H) + Rb_h + Wb_h)  (linear_before_reset 0)   g(W_h x + Wb_h + r⊙(R_h H + Rb_h))  (1)
///       H' = (1 − z)⊙h̃ + z⊙H
/// </code>
/// b = Wb + Rb. With clip, each activation's input is clamped to [−clip, clip]. The forward direction visits
/// t = 0..len−1 and the reverse t = len−1..0 from the initial state; Y is zero past len; Y_h / Y_c are the states after
/// the last visited step, and zero when len = 0 (as ONNX Runtime).
/// </summary>
public static class RecurrentOperatorReference
{
    /// <summary>Runs the node.</summary>
    /// <exception cref="ArgumentException">An array's length, a sequence length or the activation count does not fit.</exception>
    public static RecurrentOperatorOutputs Forward(RecurrentOperatorSpec spec, RecurrentOperatorInputs inputs)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(inputs);
        int t = inputs.SeqLen, b = inputs.Batch, i = inputs.InputSize, h = spec.HiddenSize, d = spec.Directions, g = spec.Gates, k = spec.ActivationsPerDirection;
        ArgumentOutOfRangeException.ThrowIfLessThan(t, 1, nameof(inputs));
        ArgumentOutOfRangeException.ThrowIfLessThan(b, 1, nameof(inputs));
        ArgumentOutOfRangeException.ThrowIfLessThan(i, 1, nameof(inputs));
        bool lstm = spec.Kind == RecurrentOperatorKind.Lstm;
        if (spec.Activations.Count != d * k)
        {
            throw new ArgumentException($"activations has {spec.Activations.Count} entries, expected D·{k} = {d * k}", nameof(spec));
        }

        Check(inputs.X, (long)t * b * i, "X");
        Check(inputs.W, (long)d * g * h * i, "W");
        Check(inputs.R, (long)d * g * h * h, "R");
        CheckOptional(inputs.B, (long)d * 2 * g * h, "B");
        CheckOptional(inputs.InitialH, (long)d * b * h, "initial_h");
        CheckOptional(inputs.InitialC, (long)d * b * h, "initial_c");
        CheckOptional(inputs.P, (long)d * 3 * h, "P");
        if (!lstm && (inputs.InitialC is not null || inputs.P is not null))
        {
            throw new ArgumentException("initial_c and P belong to LSTM only", nameof(inputs));
        }

        if (inputs.SequenceLens is { } lens)
        {
            if (lens.Length != b)
            {
                throw new ArgumentException($"sequence_lens has {lens.Length} entries, expected batch {b}", nameof(inputs));
            }

            for (int bi = 0; bi < b; bi++)
            {
                if (lens[bi] < 0 || lens[bi] > t)
                {
                    throw new ArgumentException($"sequence_lens[{bi}] = {lens[bi]} is outside 0..{t}", nameof(inputs));
                }
            }
        }

        bool batchMajor = spec.Layout == 1;
        var y = new double[t * d * b * h];
        var yh = new double[d * b * h];
        var yc = lstm ? new double[d * b * h] : null;
        var state = new double[h];
        var cell = new double[h];
        var next = new double[h];
        var nextCell = new double[h];
        var a = new double[g * h];
        var rec = new double[g * h];
        var scratch = new double[h];
        for (int dir = 0; dir < d; dir++)
        {
            bool reverse = spec.Direction == RecurrentDirection.Reverse || dir == 1;
            var acts = new RecurrentActivation[k];
            for (int j = 0; j < k; j++)
            {
                acts[j] = spec.Activations[(dir * k) + j];
            }

            var w = new Weights(inputs, dir, g, h, i);
            for (int bi = 0; bi < b; bi++)
            {
                int len = inputs.SequenceLens?[bi] ?? t;
                int s0 = batchMajor ? ((bi * d) + dir) * h : ((dir * b) + bi) * h;
                if (len == 0)
                {
                    continue; // Y, Y_h and Y_c stay zero
                }

                Load(inputs.InitialH, s0, state);
                Load(inputs.InitialC, s0, cell);
                for (int s = 0; s < len; s++)
                {
                    int ti = reverse ? len - 1 - s : s;
                    var x = inputs.X.AsSpan(batchMajor ? ((bi * t) + ti) * i : ((ti * b) + bi) * i, i);
                    switch (spec.Kind)
                    {
                        case RecurrentOperatorKind.Lstm:
                            LstmStep(spec, w, acts, x, state, cell, a, rec, next, nextCell);
                            (cell, nextCell) = (nextCell, cell);
                            break;
                        case RecurrentOperatorKind.Gru:
                            GruStep(spec, w, acts, x, state, a, rec, scratch, next);
                            break;
                        default:
                            MatVec(w.W, 0, i, x, a.AsSpan(0, h));
                            MatVec(w.R, 0, h, state, rec.AsSpan(0, h));
                            for (int j = 0; j < h; j++)
                            {
                                next[j] = acts[0].Apply(Clip(spec, a[j] + rec[j] + w.Wb(j) + w.Rb(j)));
                            }

                            break;
                    }

                    (state, next) = (next, state);
                    state.CopyTo(y.AsSpan(batchMajor ? ((((bi * t) + ti) * d) + dir) * h : ((((ti * d) + dir) * b) + bi) * h, h));
                }

                state.CopyTo(yh.AsSpan(s0, h));
                if (yc is not null)
                {
                    cell.CopyTo(yc.AsSpan(s0, h));
                }
            }
        }

        return new RecurrentOperatorOutputs(y, yh, yc);
    }

    private static void LstmStep(
        RecurrentOperatorSpec spec, in Weights w, RecurrentActivation[] acts, ReadOnlySpan<double> x, double[] state, double[] cell,
        double[] a, double[] rec, double[] next, double[] nextCell)
    {
        int h = spec.HiddenSize;
        MatVec(w.W, 0, w.InputSize, x, a);
        MatVec(w.R, 0, h, state, rec);
        for (int j = 0; j < h; j++)
        {
            // ONNX block order i, o, f, c; peepholes i, o, f.
            double iPre = a[j] + rec[j] + w.Wb(j) + w.Rb(j) + (w.P(j) * cell[j]);
            double fPre = a[(2 * h) + j] + rec[(2 * h) + j] + w.Wb((2 * h) + j) + w.Rb((2 * h) + j) + (w.P((2 * h) + j) * cell[j]);
            double cPre = a[(3 * h) + j] + rec[(3 * h) + j] + w.Wb((3 * h) + j) + w.Rb((3 * h) + j);
            double ig = acts[0].Apply(Clip(spec, iPre));
            double fg = spec.InputForget ? 1.0 - ig : acts[0].Apply(Clip(spec, fPre));
            double cg = acts[1].Apply(Clip(spec, cPre));
            double c = (fg * cell[j]) + (ig * cg);
            double oPre = a[h + j] + rec[h + j] + w.Wb(h + j) + w.Rb(h + j) + (w.P(h + j) * c);
            double og = acts[0].Apply(Clip(spec, oPre));
            nextCell[j] = c;
            next[j] = og * acts[2].Apply(c);
        }
    }

    private static void GruStep(
        RecurrentOperatorSpec spec, in Weights w, RecurrentActivation[] acts, ReadOnlySpan<double> x, double[] state,
        double[] a, double[] rec, double[] scratch, double[] next)
    {
        int h = spec.HiddenSize;
        MatVec(w.W, 0, w.InputSize, x, a);
        MatVec(w.R, 0, h, state, rec.AsSpan(0, 2 * h));
        var z = next; // next is written only after z is consumed per element
        var r = scratch;
        for (int j = 0; j < h; j++)
        {
            // ONNX block order z, r, h.
            z[j] = acts[0].Apply(Clip(spec, a[j] + rec[j] + w.Wb(j) + w.Rb(j)));
            r[j] = acts[0].Apply(Clip(spec, a[h + j] + rec[h + j] + w.Wb(h + j) + w.Rb(h + j)));
        }

        var hidden = rec.AsSpan(2 * h, h);
        if (spec.LinearBeforeReset)
        {
            MatVec(w.R, 2 * h, h, state, hidden);
            for (int j = 0; j < h; j++)
            {
                hidden[j] = r[j] * (hidden[j] + w.Rb((2 * h) + j));
            }
        }
        else
        {
            var rh = new double[h];
            for (int j = 0; j < h; j++)
            {
                rh[j] = r[j] * state[j];
            }

            MatVec(w.R, 2 * h, h, rh, hidden);
            for (int j = 0; j < h; j++)
            {
                hidden[j] += w.Rb((2 * h) + j);
            }
        }

        for (int j = 0; j < h; j++)
        {
            double cand = acts[1].Apply(Clip(spec, a[(2 * h) + j] + w.Wb((2 * h) + j) + hidden[j]));
            double zj = z[j];
            next[j] = ((1 - zj) * cand) + (zj * state[j]);
        }
    }

    private static double Clip(RecurrentOperatorSpec spec, double x) => spec.Clip is double c ? Math.Clamp(x, -c, c) : x;

    private static void Load(double[]? source, int offset, double[] dst)
    {
        if (source is null)
        {
            Array.Clear(dst);
        }
        else
        {
            source.AsSpan(offset, dst.Length).CopyTo(dst);
        }
    }

    /// <summary>y[r] = Σ_k M[rowOffset + r, k]·x[k].</summary>
    private static void MatVec(ReadOnlySpan<double> m, int rowOffset, int cols, ReadOnlySpan<double> x, Span<double> y)
    {
        for (int r = 0; r < y.Length; r++)
        {
            double sum = 0;
            var row = m.Slice((rowOffset + r) * cols, cols);
            for (int c = 0; c < cols; c++)
            {
                sum += row[c] * x[c];
            }

            y[r] = sum;
        }
    }

    private static void Check(double[] array, long expected, string name)
    {
        ArgumentNullException.ThrowIfNull(array, name);
        if (array.Length != expected)
        {
            throw new ArgumentException($"{name} has {array.Length} values, expected {expected}", name);
        }
    }

    private static void CheckOptional(double[]? array, long expected, string name)
    {
        if (array is not null)
        {
            Check(array, expected, name);
        }
    }

    /// <summary>One direction's slices of W, R, B and P.</summary>
    private readonly ref struct Weights
    {
        private readonly ReadOnlySpan<double> _b;
        private readonly ReadOnlySpan<double> _p;
        private readonly int _gh;

        public Weights(RecurrentOperatorInputs inputs, int dir, int g, int h, int i)
        {
            _gh = g * h;
            InputSize = i;
            W = inputs.W.AsSpan(dir * _gh * i, _gh * i);
            R = inputs.R.AsSpan(dir * _gh * h, _gh * h);
            _b = inputs.B is null ? default : inputs.B.AsSpan(dir * 2 * _gh, 2 * _gh);
            _p = inputs.P is null ? default : inputs.P.AsSpan(dir * 3 * h, 3 * h);
        }

        public ReadOnlySpan<double> W { get; }

        public ReadOnlySpan<double> R { get; }

        public int InputSize { get; }

        public double Wb(int j) => _b.IsEmpty ? 0.0 : _b[j];

        public double Rb(int j) => _b.IsEmpty ? 0.0 : _b[_gh + j];

        public double P(int j) => _p.IsEmpty ? 0.0 : _p[j];
    }
}
