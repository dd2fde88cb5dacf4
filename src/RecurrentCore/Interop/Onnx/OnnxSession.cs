using System.Globalization;
using RecurrentCore.Kernels;
using RecurrentCore.Layers;
using RecurrentCore.Reference;

namespace RecurrentCore.Interop.Onnx;

/// <summary>Options of <see cref="OnnxModel.Load(string, OnnxSessionOptions?)"/>.</summary>
public sealed record OnnxSessionOptions
{
    /// <summary>
    /// Whether recurrent nodes run on the float32 fast kernels: <see cref="RecurrentLayer"/> where the attributes are
    /// PyTorch's, the general ONNX cells for the rest (clip, input_forget, peepholes, any activations with α/β). False
    /// runs every node on <see cref="RecurrentOperatorReference"/> (double).
    /// </summary>
    public bool FastPath { get; init; } = true;

    /// <summary>The kernel variant of the fast path (null: <see cref="KernelCatalog.Active"/>).</summary>
    public KernelVariant? Variant { get; init; }
}

/// <summary>One node of a loaded graph.</summary>
/// <param name="Name">NodeProto.name (may be empty).</param>
/// <param name="OpType">The op type.</param>
/// <param name="Inputs">Input value names ("" for an absent optional input).</param>
/// <param name="Outputs">Output value names.</param>
public sealed record OnnxNodeSummary(string Name, string OpType, IReadOnlyList<string> Inputs, IReadOnlyList<string> Outputs);

/// <summary>One recurrent node of a loaded graph and the path it runs on.</summary>
/// <param name="Name">NodeProto.name, or "#index" when empty.</param>
/// <param name="OpType">RNN, LSTM or GRU.</param>
/// <param name="Spec">Its attributes (null when hidden_size is absent and R is a run-time input: read at run time).</param>
/// <param name="Path">"fast" (PyTorch's cells), "fast (general cell: why)", "reference (fast path off)", or "decided at
/// run time" (weights fed at run time).</param>
public sealed record OnnxSessionNode(string Name, string OpType, RecurrentOperatorSpec? Spec, string Path);

/// <summary>
/// A loaded ONNX graph that runs end to end: RNN / LSTM / GRU nodes with every attribute of the spec (opsets 7–22), the
/// shape nodes exporters write around them (Transpose, Reshape, Squeeze, Unsqueeze, Flatten, Slice, Gather, Concat,
/// Shape, ConstantOfShape, Expand, Cast, Constant, Identity) and Linear heads (MatMul, Gemm, Add, Sub, Mul, Div, Relu,
/// Tanh, Sigmoid, Softmax, LogSoftmax). Any other node is refused at load with one line naming it and its op type.
/// Everything but the fast recurrent nodes is computed in double precision. Thread-safe: Run may be called concurrently.
/// </summary>
public sealed class OnnxSession
{
    private readonly string _source;
    private readonly long _opset;
    private readonly OnnxSessionOptions _options;
    private readonly Dictionary<string, OnnxTensor> _static = new(StringComparer.Ordinal);
    private readonly Dictionary<string, OnnxTensor> _defaults = new(StringComparer.Ordinal);
    private readonly List<(OnnxNodeProto Node, string Label)> _nodes = [];
    private readonly Dictionary<OnnxNodeProto, (OnnxTensor W, OnnxTensor R, OnnxTensor? B, OnnxTensor? P, OnnxFastRecurrent Layer)> _fast = [];
    private readonly List<string> _outputs;

    internal OnnxSession(OnnxModelProto model, string source, OnnxSessionOptions options)
    {
        _source = source;
        _options = options;
        var g = model.Graph ?? throw InteropFormatException.Create(source, "model has no graph (ModelProto.graph is missing)");
        _opset = model.OpsetImports.Where(o => o.Domain is "" or "ai.onnx").Select(o => o.Version).DefaultIfEmpty(-1).Max();
        if (_opset < 7)
        {
            throw InteropFormatException.Create(source, _opset < 0 ? "model imports no default-domain (ai.onnx) opset" : $"default-domain opset {_opset} is older than 7, the first with today's RNN, LSTM and GRU");
        }

        if (g.SparseInitializerCount > 0)
        {
            throw InteropFormatException.Create(source, "graph has sparse initializers, which are not supported");
        }

        var inputNames = new HashSet<string>(g.Inputs.Select(v => v.Name), StringComparer.Ordinal);
        foreach (var t in g.Initializers)
        {
            var value = OnnxGraphOps.FromProto(t, source, $"initializer '{t.Name}'");
            if (!(inputNames.Contains(t.Name) ? _defaults : _static).TryAdd(t.Name, value))
            {
                throw InteropFormatException.Create(source, $"initializer '{t.Name}' appears twice");
            }
        }

        Inputs = [.. g.Inputs.Where(v => !_static.ContainsKey(v.Name)).Select(OnnxImporter.Describe)];
        Outputs = [.. g.Outputs.Select(OnnxImporter.Describe)];
        _outputs = [.. g.Outputs.Select(v => v.Name)];
        var recurrent = new List<OnnxSessionNode>();
        for (int index = 0; index < g.Nodes.Count; index++)
        {
            var n = g.Nodes[index];
            string label = Label(n, index);
            if (n.Domain is not ("" or "ai.onnx"))
            {
                throw InteropFormatException.Create(source, $"{label} is in domain '{n.Domain}'; only the default ONNX domain is supported");
            }

            bool isRecurrent = OnnxRecurrentAttributes.IsRecurrent(n);
            if (!isRecurrent && !OnnxGraphOps.Supported.Contains(n.OpType))
            {
                throw InteropFormatException.Create(source, $"{label} is not supported: RecurrentCore runs RNN, LSTM and GRU nodes, shape nodes around them and Linear heads (see docs/onnx.md)");
            }

            var fail = Fail(label);
            if (isRecurrent)
            {
                recurrent.Add(Describe(n, label, fail));
            }
            else if (n.Inputs.Where(i => i.Length > 0).All(_static.ContainsKey))
            {
                // Constant folding: nodes fed only by constants (Constant, Identity of an initializer, shape
                // arithmetic on them) run once here, so weights they produce count as constant for the fast path.
                Store(_static, n, OnnxGraphOps.Run(n, Gather(n, _static, fail), _opset, fail));
                continue;
            }

            _nodes.Add((n, label));
        }

        RecurrentNodes = recurrent;
        Nodes = [.. g.Nodes.Select(n => new OnnxNodeSummary(n.Name, n.OpType, [.. n.Inputs], [.. n.Outputs]))];
        Initializers = [.. g.Initializers.Select(t => (t.Name, _static.TryGetValue(t.Name, out var v) ? v : _defaults[t.Name]))];
        IrVersion = model.IrVersion;
        Opset = _opset;
        ProducerName = model.ProducerName;
        var known = new HashSet<string>(_static.Keys.Concat(_defaults.Keys).Concat(inputNames).Concat(_nodes.SelectMany(n => n.Node.Outputs)), StringComparer.Ordinal);
        foreach (string o in _outputs.Where(o => !known.Contains(o)))
        {
            throw InteropFormatException.Create(source, $"graph output '{o}' is not computed by any node");
        }
    }

    /// <summary>Graph inputs to feed (initializers listed as inputs are optional: their value is the default).</summary>
    public IReadOnlyList<OnnxValueDescription> Inputs { get; }

    /// <summary>Graph outputs, in order.</summary>
    public IReadOnlyList<OnnxValueDescription> Outputs { get; }

    /// <summary>Every node, in graph order.</summary>
    public IReadOnlyList<OnnxNodeSummary> Nodes { get; }

    /// <summary>The initializers with their values.</summary>
    public IReadOnlyList<(string Name, OnnxTensor Value)> Initializers { get; }

    /// <summary>ModelProto.ir_version.</summary>
    public long IrVersion { get; }

    /// <summary>The default-domain opset.</summary>
    public long Opset { get; }

    /// <summary>ModelProto.producer_name.</summary>
    public string ProducerName { get; }

    /// <summary>The recurrent nodes in graph order, with their attributes and the path each runs on.</summary>
    public IReadOnlyList<OnnxSessionNode> RecurrentNodes { get; }

    internal string Source => _source;

    internal OnnxSessionOptions Options => _options;

    /// <summary>Constants: initializers that are not inputs, and what folding computed from them at load.</summary>
    internal IReadOnlyDictionary<string, OnnxTensor> Constants => _static;

    /// <summary>The nodes left to run after folding, in graph order, with their labels.</summary>
    internal IReadOnlyList<(OnnxNodeProto Node, string Label)> RunNodes => _nodes;

    internal IReadOnlyList<string> OutputNames => _outputs;

    /// <summary>
    /// Plans the graph once for fixed input shapes and returns a runner whose <see cref="OnnxRunner.Run"/> takes caller
    /// buffers and allocates nothing on the fast path: every intermediate value and kernel workspace is sized here.
    /// Create one runner per distinct input shape (a new sequence length or batch is a new plan) and per thread.
    /// </summary>
    /// <param name="inputShapes">The shape of every graph input to feed; an input left out takes its initializer's value
    /// (and is required when it has none).</param>
    /// <exception cref="InteropFormatException">A shape does not match the graph's declaration, a required input is
    /// missing, a node cannot run on those shapes, or a value the runner needs constant (recurrent weights, shapes, axes,
    /// indices) is computed at run time; the one-line message names the input or node.</exception>
    public OnnxRunner CreateRunner(IReadOnlyDictionary<string, int[]> inputShapes)
    {
        ArgumentNullException.ThrowIfNull(inputShapes);
        return new OnnxRunner(this, inputShapes);
    }

    /// <summary>Runs the graph once.</summary>
    /// <param name="inputs">A value for every graph input that has no initializer; W / R / B / states may be among them.</param>
    /// <returns>Every graph output by name.</returns>
    /// <exception cref="InteropFormatException">An input is missing, unknown or of the wrong type or shape, or a node
    /// cannot run on the values it gets; the one-line message names the source and the node or input.</exception>
    public IReadOnlyDictionary<string, OnnxTensor> Run(IReadOnlyDictionary<string, OnnxTensor> inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var values = new Dictionary<string, OnnxTensor>(_static, StringComparer.Ordinal);
        foreach (var (name, value) in inputs)
        {
            var declared = Inputs.FirstOrDefault(v => v.Name == name) ?? throw NotAnInput(name);
            CheckFeed(declared, value);
            values[name] = value;
        }

        foreach (var v in Inputs.Where(v => !values.ContainsKey(v.Name)))
        {
            values[v.Name] = DefaultOf(v);
        }

        foreach (var (n, label) in _nodes)
        {
            var fail = Fail(label);
            var args = Gather(n, values, fail);
            Store(values, n, OnnxRecurrentAttributes.IsRecurrent(n) ? RunRecurrent(n, args, fail) : OnnxGraphOps.Run(n, args, _opset, fail));
        }

        return _outputs.ToDictionary(o => o, o => values[o], StringComparer.Ordinal);
    }

    internal Func<string, InteropFormatException> Fail(string label) => p => InteropFormatException.Create(_source, $"{label}: {p}");

    private static string Label(OnnxNodeProto n, int index) => n.Name.Length > 0 ? $"node '{n.Name}' ({n.OpType})" : $"node #{index} ({n.OpType})";

    /// <summary>The error for a fed name that is not a graph input.</summary>
    internal InteropFormatException NotAnInput(string name) =>
        InteropFormatException.Create(_source, $"input '{name}' is not a graph input (inputs: {string.Join(", ", Inputs.Select(v => v.Name))})");

    /// <summary>The value of an input nobody fed: its default (an initializer of the same name), else an error.</summary>
    internal OnnxTensor DefaultOf(OnnxValueDescription v) =>
        _defaults.TryGetValue(v.Name, out var d) ? d : throw InteropFormatException.Create(_source, $"input '{v.Name}' ({v.ElementType} ({string.Join(", ", v.Shape)})) is required");

    /// <summary>A node's arguments by input name (null for an omitted optional input).</summary>
    internal static OnnxTensor?[] Gather(OnnxNodeProto n, Dictionary<string, OnnxTensor> values, Func<string, InteropFormatException> fail) =>
        [.. n.Inputs.Select(i => i.Length == 0 ? null : values.TryGetValue(i, out var v) ? v : throw fail($"input '{i}' has no value (not a graph input, initializer or output of an earlier node)"))];

    /// <summary>A node's results under its output names (adding them to <paramref name="dynamic"/> when given).</summary>
    internal static void Store(Dictionary<string, OnnxTensor> values, OnnxNodeProto n, OnnxTensor[] results, HashSet<string>? dynamic = null)
    {
        for (int i = 0; i < n.Outputs.Count && i < results.Length; i++)
        {
            if (n.Outputs[i].Length > 0)
            {
                values[n.Outputs[i]] = results[i];
                dynamic?.Add(n.Outputs[i]);
            }
        }
    }

    internal void CheckFeed(OnnxValueDescription declared, OnnxTensor value)
    {
        string what = $"input '{declared.Name}'";
        if (declared.ElementType != "unknown" && declared.ElementType != OnnxTensorData.TypeName((int)value.ElementType))
        {
            throw InteropFormatException.Create(_source, $"{what} is {value}, but the graph declares {declared.ElementType}");
        }

        if (declared.Shape.Count > 0 || value.Rank == 0)
        {
            bool ok = declared.Shape.Count == value.Rank;
            for (int i = 0; ok && i < value.Rank; i++)
            {
                ok = !long.TryParse(declared.Shape[i], NumberStyles.Integer, CultureInfo.InvariantCulture, out long dim) || dim == value.Shape[i];
            }

            if (!ok && declared.Shape.Count > 0)
            {
                throw InteropFormatException.Create(_source, $"{what} has shape ({string.Join(", ", value.Shape)}), but the graph declares ({string.Join(", ", declared.Shape)})");
            }
        }
    }

    private OnnxSessionNode Describe(OnnxNodeProto n, string label, Func<string, InteropFormatException> fail)
    {
        int maxInputs = n.OpType == "LSTM" ? 8 : 6;
        if (n.Inputs.Count > maxInputs || n.Inputs.Count < 3 || n.Inputs.Take(3).Any(s => s.Length == 0))
        {
            throw fail($"takes X, W, R and at most {maxInputs - 3} optional inputs, has [{string.Join(", ", n.Inputs.Select(s => $"'{s}'"))}]");
        }

        int? hidden = _static.TryGetValue(n.Inputs[2], out var r) && r.Rank == 3 ? r.Shape[2] : null;
        bool hasAttr = n.Attributes.Any(a => a.Name == "hidden_size");
        var spec = hidden is null && !hasAttr ? null : OnnxRecurrentAttributes.Read(n, hidden, fail);
        string name = n.Name.Length > 0 ? n.Name : label;
        bool constantWeights = n.Inputs.Skip(1).Take(2).All(_static.ContainsKey) && (Optional(n, 3) is not { } b || _static.ContainsKey(b)) && (Optional(n, 7) is not { } p || _static.ContainsKey(p));
        if (spec is null || !constantWeights)
        {
            return new OnnxSessionNode(name, n.OpType, spec, "decided at run time");
        }

        string? why = OnnxFastRecurrent.GeneralCellReason(spec, Optional(n, 7) is { } pn && n.OpType == "LSTM" ? _static[pn].Data : null);
        return new OnnxSessionNode(name, n.OpType, spec, !_options.FastPath ? "reference (fast path off)" : why is null ? "fast" : $"fast (general cell: {why})");
    }

    private static string? Optional(OnnxNodeProto n, int i) => i < n.Inputs.Count && n.Inputs[i].Length > 0 ? n.Inputs[i] : null;

    /// <summary>A recurrent node's attributes and sizes, checked against the values it gets.</summary>
    internal sealed record RecurrentShapes(RecurrentOperatorSpec Spec, int T, int B, int I, int[] StateShape, int[] YShape);

    /// <summary>Checks a recurrent node's inputs (<paramref name="args"/> by position, null when absent) and reads its attributes.</summary>
    internal static RecurrentShapes CheckRecurrent(OnnxNodeProto n, OnnxTensor?[] args, Func<string, InteropFormatException> fail)
    {
        OnnxTensor? Arg(int i) => i < args.Length ? args[i] : null;
        var x = Arg(0)!;
        var w = Arg(1)!;
        var r = Arg(2)!;
        if (r.Rank != 3)
        {
            throw fail($"input 'R' has shape ({string.Join(", ", r.Shape)}), expected (D, G·H, H)");
        }

        var spec = OnnxRecurrentAttributes.Read(n, r.Shape[2], fail);
        int d = spec.Directions, g = spec.Gates, h = spec.HiddenSize;
        if (x.Rank != 3)
        {
            throw fail($"input 'X' is {x}, expected rank 3 ({(spec.Layout == 0 ? "T, B, I" : "B, T, I")})");
        }

        int t = spec.Layout == 0 ? x.Shape[0] : x.Shape[1], b = spec.Layout == 0 ? x.Shape[1] : x.Shape[0], i = x.Shape[2];
        if (t < 1 || b < 1 || i < 1)
        {
            throw fail($"input 'X' is {x}: sequence length, batch and input size must be at least 1");
        }

        void Expect(OnnxTensor? v, string name, params int[] shape)
        {
            if (v is not null && !v.Shape.SequenceEqual(shape))
            {
                throw fail($"input '{name}' has shape ({string.Join(", ", v.Shape)}), expected ({string.Join(", ", shape)})");
            }
        }

        Expect(r, "R", d, g * h, h);
        Expect(w, "W", d, g * h, i);
        Expect(Arg(3), "B", d, 2 * g * h);
        Expect(Arg(4), "sequence_lens", b);
        int[] stateShape = spec.Layout == 0 ? [d, b, h] : [b, d, h];
        Expect(Arg(5), "initial_h", stateShape);
        Expect(Arg(6), "initial_c", stateShape);
        Expect(Arg(7), "P", d, 3 * h);
        if (Arg(4) is { IsInteger: false } sl)
        {
            throw fail($"input 'sequence_lens' is {sl}, expected int32");
        }

        return new RecurrentShapes(spec, t, b, i, stateShape, spec.Layout == 0 ? [t, d, b, h] : [b, t, d, h]);
    }

    /// <summary>sequence_lens into <paramref name="lens"/>, each checked to lie in 0..<paramref name="t"/>.</summary>
    internal static void ReadLengths(ReadOnlySpan<double> sequenceLens, Span<int> lens, int t, Func<string, InteropFormatException> fail)
    {
        for (int j = 0; j < lens.Length; j++)
        {
            double len = sequenceLens[j];
            lens[j] = len >= 0 && len <= t ? (int)len : throw fail($"input 'sequence_lens'[{j}] = {len.ToString(CultureInfo.InvariantCulture)} is outside 0..{t}");
        }
    }

    private OnnxTensor[] RunRecurrent(OnnxNodeProto n, OnnxTensor?[] args, Func<string, InteropFormatException> fail)
    {
        OnnxTensor? Arg(int i) => i < args.Length ? args[i] : null;
        var (spec, t, b, i, stateShape, yShape) = CheckRecurrent(n, args, fail);
        var x = Arg(0)!;
        int d = spec.Directions, h = spec.HiddenSize;
        bool lstm = spec.Kind == RecurrentOperatorKind.Lstm;
        int[]? lens = null;
        if (Arg(4) is { } sl)
        {
            lens = new int[b];
            ReadLengths(sl.Data, lens, t, fail);
        }

        var p = lstm ? Arg(7)?.Data : null;
        RecurrentOperatorOutputs result;
        if (_options.FastPath)
        {
            var fast = FastLayer(n, spec, i, Arg(1)!, Arg(2)!, Arg(3), lstm ? Arg(7) : null);
            double[] xs = spec.Layout == 0 ? x.Data : Swap01(x.Data, b, t, i);
            double[]? h0 = Arg(5) is { } ih ? (spec.Layout == 0 ? ih.Data : Swap01(ih.Data, b, d, h)) : null;
            double[]? c0 = lstm && Arg(6) is { } ic ? (spec.Layout == 0 ? ic.Data : Swap01(ic.Data, b, d, h)) : null;
            result = fast.Run(t, b, xs, lens, h0, c0);
            if (spec.Layout == 1)
            {
                var y = new double[result.Y.Length];
                FromTimeMajor(result.Y, y, t, d, b, h);
                result = new RecurrentOperatorOutputs(y, Swap01(result.YH, d, b, h), result.YC is null ? null : Swap01(result.YC, d, b, h));
            }
        }
        else
        {
            result = Reference(spec, t, b, i, args, lens, fail);
        }

        var type = x.ElementType;
        OnnxTensor[] outputs = [new(type, yShape, result.Y), new(type, stateShape, result.YH)];
        return lstm ? [.. outputs, new(type, stateShape, result.YC!)] : outputs;
    }

    /// <summary>The node on <see cref="RecurrentOperatorReference"/> (double).</summary>
    internal static RecurrentOperatorOutputs Reference(RecurrentOperatorSpec spec, int t, int b, int i, OnnxTensor?[] args, int[]? lens, Func<string, InteropFormatException> fail)
    {
        OnnxTensor? Arg(int k) => k < args.Length ? args[k] : null;
        bool lstm = spec.Kind == RecurrentOperatorKind.Lstm;
        try
        {
            return RecurrentOperatorReference.Forward(spec, new RecurrentOperatorInputs(
                t, b, i, Arg(0)!.Data, Arg(1)!.Data, Arg(2)!.Data, Arg(3)?.Data, lens, Arg(5)?.Data, lstm ? Arg(6)?.Data : null, lstm ? Arg(7)?.Data : null));
        }
        catch (ArgumentException e)
        {
            throw fail(e.Message);
        }
    }

    /// <summary>Y (T, D, B, H) → (B, T, D, H), layout 1's order.</summary>
    internal static void FromTimeMajor(ReadOnlySpan<double> y, Span<double> dst, int t, int d, int b, int h)
    {
        for (int ti = 0; ti < t; ti++)
        {
            for (int di = 0; di < d; di++)
            {
                for (int bi = 0; bi < b; bi++)
                {
                    y.Slice((((ti * d) + di) * b + bi) * h, h).CopyTo(dst.Slice((((bi * t) + ti) * d + di) * h, h));
                }
            }
        }
    }

    internal OnnxFastRecurrent FastLayer(OnnxNodeProto n, RecurrentOperatorSpec spec, int inputSize, OnnxTensor w, OnnxTensor r, OnnxTensor? b, OnnxTensor? p)
    {
        lock (_fast)
        {
            // Constant weights are the same objects every run, so the packed layer is reused; fed weights repack.
            if (_fast.TryGetValue(n, out var cached) && ReferenceEquals(cached.W, w) && ReferenceEquals(cached.R, r) && ReferenceEquals(cached.B, b)
                && ReferenceEquals(cached.P, p))
            {
                return cached.Layer;
            }

            var layer = OnnxFastRecurrent.Create(spec, inputSize, w.Data, r.Data, b?.Data, p?.Data, _options.Variant);
            _fast[n] = (w, r, b, p, layer);
            return layer;
        }
    }

    /// <summary>(A, B, F) → (B, A, F).</summary>
    private static double[] Swap01(double[] data, int a, int b, int f)
    {
        var result = new double[data.Length];
        Swap01(data, result, a, b, f);
        return result;
    }

    /// <summary>(A, B, F) → (B, A, F) into <paramref name="dst"/>.</summary>
    internal static void Swap01(ReadOnlySpan<double> data, Span<double> dst, int a, int b, int f)
    {
        for (int i = 0; i < a; i++)
        {
            for (int j = 0; j < b; j++)
            {
                data.Slice(((i * b) + j) * f, f).CopyTo(dst.Slice(((j * a) + i) * f, f));
            }
        }
    }
}
