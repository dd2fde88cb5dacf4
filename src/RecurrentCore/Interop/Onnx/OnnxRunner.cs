using RecurrentCore.Reference;

namespace RecurrentCore.Interop.Onnx;

/// <summary>
/// An <see cref="OnnxSession"/> planned for fixed input shapes (<see cref="OnnxSession.CreateRunner"/>): every value
/// of the graph has a buffer sized once, shape arithmetic is folded, data movement (Transpose, Slice, Gather, Concat,
/// Expand) is a precomputed index map, views (Reshape, Squeeze, Unsqueeze, Flatten, Identity) share their input's
/// buffer, and each fast recurrent node keeps its float32 workspace. <see cref="Run"/> reads the caller's input buffers
/// and writes its output buffers, and on the fast path allocates nothing. Results are bitwise those of
/// <see cref="OnnxSession.Run"/> (read into float64 buffers; a float32 buffer gets them rounded to float32). Not
/// thread-safe: one runner per thread (runners of one session share its packed weights).
/// </summary>
public sealed class OnnxRunner : IDisposable
{
    private readonly OnnxTensor[] _inputs;
    private readonly OnnxTensor[] _outputs;
    private readonly Step[] _steps;
    private readonly List<IDisposable> _owned = [];

    internal OnnxRunner(OnnxSession session, IReadOnlyDictionary<string, int[]> inputShapes)
    {
        string source = session.Source;
        var values = new Dictionary<string, OnnxTensor>(session.Constants, StringComparer.Ordinal);
        var dynamic = new HashSet<string>(StringComparer.Ordinal);
        var fed = new List<OnnxRunnerValue>();
        var inputs = new List<OnnxTensor>();
        foreach (string name in inputShapes.Keys.Where(k => !session.Inputs.Any(v => v.Name == k)))
        {
            throw session.NotAnInput(name);
        }

        // Graph order, whatever the dictionary's: Run takes the buffers in this order.
        foreach (var declared in session.Inputs.Where(v => inputShapes.ContainsKey(v.Name)))
        {
            string name = declared.Name;
            var shape = inputShapes[name];
            ArgumentNullException.ThrowIfNull(shape, nameof(inputShapes));
            if (shape.Any(d => d < 0))
            {
                throw InteropFormatException.Create(source, $"input '{name}' has a negative dimension in ({string.Join(", ", shape)})");
            }

            var type = ElementType(declared.ElementType);
            long count = shape.Aggregate(1L, (a, d) => a * d);
            var value = count <= Array.MaxLength
                ? new OnnxTensor(type, (int[])shape.Clone(), new double[count])
                : throw InteropFormatException.Create(source, $"input '{name}' of shape ({string.Join(", ", shape)}) has more elements than fit in memory");
            session.CheckFeed(declared, value);
            values[name] = value;
            dynamic.Add(name);
            inputs.Add(value);
            fed.Add(new OnnxRunnerValue(name, type, value.Shape));
        }

        foreach (var v in session.Inputs.Where(v => !values.ContainsKey(v.Name)))
        {
            values[v.Name] = session.DefaultOf(v);
        }

        var steps = new List<Step>();
        foreach (var (n, label) in session.RunNodes)
        {
            var fail = session.Fail(label);
            var args = OnnxSession.Gather(n, values, fail);
            bool[] live = [.. n.Inputs.Select(i => i.Length > 0 && dynamic.Contains(i))];
            OnnxTensor[] results;
            if (OnnxRecurrentAttributes.IsRecurrent(n))
            {
                var step = RecurrentStep.Create(session, n, args, live, fail);
                _owned.Add(step);
                steps.Add(step);
                results = step.Outputs;
            }
            else if (!live.Any(l => l) || n.OpType == "Shape")
            {
                // Everything it reads is known now (constants, or only the shape of a run-time value): folded.
                results = OnnxGraphOps.Run(n, args, session.Opset, fail);
                OnnxSession.Store(values, n, results);
                continue;
            }
            else
            {
                (var step, results) = Plan(n, args, live, session.Opset, fail);
                if (step is not null)
                {
                    steps.Add(step);
                }
            }

            OnnxSession.Store(values, n, results, dynamic);
        }

        _inputs = [.. inputs];
        _outputs = [.. session.OutputNames.Select(o => values[o])];
        _steps = [.. steps];
        Inputs = fed;
        Outputs = [.. session.OutputNames.Select((o, k) => new OnnxRunnerValue(o, _outputs[k].ElementType, _outputs[k].Shape))];
    }

    /// <summary>The fed inputs in graph order (<see cref="OnnxSession.Inputs"/>'s), the order <see cref="Run"/> takes their buffers.</summary>
    public IReadOnlyList<OnnxRunnerValue> Inputs { get; }

    /// <summary>The graph outputs, in graph order (the order of <see cref="Run"/>'s output buffers).</summary>
    public IReadOnlyList<OnnxRunnerValue> Outputs { get; }

    /// <summary>
    /// Runs the graph on <paramref name="inputs"/> (one buffer per <see cref="Inputs"/> entry, in order) and writes
    /// <paramref name="outputs"/> (one per <see cref="Outputs"/> entry; a default <see cref="OnnxBuffer"/> skips that
    /// output). Any buffer kind may feed any input (values are read as double); outputs are rounded to float32 or
    /// truncated to integers as the buffer's kind asks. Allocates nothing on the fast path.
    /// </summary>
    /// <exception cref="ArgumentException">The number of buffers, or a buffer's length, does not match the plan.</exception>
    /// <exception cref="InteropFormatException">A value is out of range for its node (e.g. a sequence length above T).</exception>
    public void Run(ReadOnlySpan<OnnxBuffer> inputs, ReadOnlySpan<OnnxBuffer> outputs)
    {
        if (inputs.Length != _inputs.Length || outputs.Length != _outputs.Length)
        {
            throw new ArgumentException($"Run takes {_inputs.Length} input and {_outputs.Length} output buffers (Inputs, Outputs), got {inputs.Length} and {outputs.Length}");
        }

        for (int k = 0; k < inputs.Length; k++)
        {
            var data = _inputs[k].Data;
            if (inputs[k].Length != data.Length)
            {
                throw new ArgumentException($"input '{Inputs[k].Name}': the buffer has {inputs[k].Length} values, its shape ({string.Join(", ", Inputs[k].Shape)}) needs {data.Length}", nameof(inputs));
            }

            inputs[k].Read(data);
        }

        foreach (var step in _steps)
        {
            step.Run();
        }

        for (int k = 0; k < outputs.Length; k++)
        {
            if (outputs[k].Kind == OnnxBufferKind.None)
            {
                continue;
            }

            var data = _outputs[k].Data;
            if (outputs[k].Length != data.Length)
            {
                throw new ArgumentException($"output '{Outputs[k].Name}': the buffer has {outputs[k].Length} values, its shape ({string.Join(", ", Outputs[k].Shape)}) needs {data.Length}", nameof(outputs));
            }

            outputs[k].Write(data);
        }
    }

    /// <summary>Releases the recurrent nodes' workspaces.</summary>
    public void Dispose()
    {
        foreach (var o in _owned)
        {
            o.Dispose();
        }
    }

    private static OnnxElementType ElementType(string name) =>
        Enum.GetValues<OnnxElementType>().FirstOrDefault(t => OnnxTensorData.TypeName((int)t) == name, OnnxElementType.F32);

    private static OnnxTensor Fresh(OnnxElementType type, int[] shape) => new(type, shape, new double[shape.Aggregate(1, (a, d) => checked(a * d))]);

    /// <summary>A tensor of <paramref name="x"/>'s type and shape whose values are their own flat indices plus <paramref name="offset"/>.</summary>
    private static OnnxTensor Indices(OnnxTensor x, int offset) => new(x.ElementType, x.Shape, [.. Enumerable.Range(offset, x.Data.Length).Select(v => (double)v)]);

    private static (Step? Step, OnnxTensor[] Results) Plan(OnnxNodeProto n, OnnxTensor?[] args, bool[] live, long opset, Func<string, InteropFormatException> fail)
    {
        string op = n.OpType;
        var x = args[0] ?? throw fail("input 0 is required");
        if (OnnxGraphOps.Movement.Contains(op))
        {
            // Concat moves every input; the others move input 0 and read the rest (shape, axes, indices, starts) as constants.
            int dataInputs = op == "Concat" ? args.Length : 1;
            for (int k = dataInputs; k < args.Length; k++)
            {
                if (live[k])
                {
                    throw fail($"input {k} ('{n.Inputs[k]}') is computed from run-time data; OnnxRunner needs it constant (OnnxSession.Run takes it)");
                }
            }

            if (OnnxGraphOps.Views.Contains(op))
            {
                return (null, OnnxGraphOps.Run(n, args, opset, fail)); // shares input 0's buffer
            }

            var marked = (OnnxTensor?[])args.Clone();
            var sources = new double[dataInputs][];
            var offsets = new int[dataInputs + 1];
            for (int k = 0; k < dataInputs; k++)
            {
                var a = args[k] ?? throw fail($"input {k} is empty");
                sources[k] = a.Data;
                marked[k] = Indices(a, offsets[k]);
                offsets[k + 1] = offsets[k] + a.Data.Length;
            }

            var map = OnnxGraphOps.Run(n, marked, opset, fail)[0];
            var result = Fresh(map.ElementType, map.Shape);
            return (new MoveStep(sources, offsets, [.. map.Data.Select(v => (int)v)], result.Data), [result]);
        }

        switch (op)
        {
            case "Relu" or "Tanh" or "Sigmoid" or "Cast":
            {
                var type = op == "Cast" ? OnnxGraphOps.CastTo(n, fail) : x.ElementType;
                var f = op == "Cast" ? OnnxGraphOps.CastFunction(type, fail) : OnnxGraphOps.UnaryFunction(op);
                var result = Fresh(type, x.Shape);
                return (new UnaryStep(x.Data, result.Data, f), [result]);
            }

            case "Add" or "Sub" or "Mul" or "Div":
            {
                var b = args.Length > 1 && args[1] is { } bb ? bb : throw fail("input 1 is required");
                var ia = OnnxGraphOps.Broadcast(Indices(x, 0), Indices(b, 0), (p, _) => p, fail);
                var ib = OnnxGraphOps.Broadcast(Indices(x, 0), Indices(b, 0), (_, q) => q, fail);
                var result = Fresh(x.ElementType, ia.Shape);
                return (new BinaryStep(x.Data, b.Data, [.. ia.Data.Select(v => (int)v)], [.. ib.Data.Select(v => (int)v)], OnnxGraphOps.BinaryFunction(op, x.IsInteger), result.Data), [result]);
            }

            case "MatMul":
            {
                var b = args.Length > 1 && args[1] is { } bb ? bb : throw fail("input 1 is required");
                var plan = OnnxGraphOps.PlanMatMul(x, b, fail);
                var result = Fresh(x.ElementType, plan.Shape);
                return (new MatMulStep(plan, x.Data, b.Data, result.Data), [result]);
            }

            case "Gemm":
            {
                var b = args.Length > 1 && args[1] is { } bb ? bb : throw fail("input 1 is required");
                var c = args.Length > 2 ? args[2] : null;
                var plan = OnnxGraphOps.PlanGemm(n, x, b, fail);
                var result = Fresh(x.ElementType, [plan.M, plan.N]);
                int[]? cMap = null;
                if (c is not null)
                {
                    var map = OnnxGraphOps.Broadcast(Indices(result, 0), Indices(c, 0), (_, q) => q, fail);
                    cMap = map.Shape.SequenceEqual(result.Shape) ? [.. map.Data.Select(v => (int)v)] : throw fail($"C ({string.Join(", ", c.Shape)}) does not broadcast to ({plan.M}, {plan.N})");
                }

                return (new GemmStep(plan, x.Data, b.Data, c?.Data, cMap, result.Data), [result]);
            }

            case "Softmax" or "LogSoftmax":
            {
                var (axis, single) = OnnxGraphOps.SoftmaxAxis(n, opset);
                var (outer, len, inner) = OnnxGraphOps.PlanSoftmax(x, axis, single, fail);
                var result = Fresh(x.ElementType, x.Shape);
                return (new SoftmaxStep(x.Data, result.Data, outer, len, inner, op == "LogSoftmax"), [result]);
            }

            default:
                throw fail($"reads run-time data, which OnnxRunner does not plan for {op} (OnnxSession.Run runs it)");
        }
    }

    private abstract class Step
    {
        public abstract void Run();
    }

    /// <summary>Output element o is source (the input whose offsets range holds Map[o]) element Map[o] − offset.</summary>
    private sealed class MoveStep(double[][] sources, int[] offsets, int[] map, double[] result) : Step
    {
        public override void Run()
        {
            if (sources.Length == 1)
            {
                var src = sources[0];
                for (int o = 0; o < map.Length; o++)
                {
                    result[o] = src[map[o]];
                }

                return;
            }

            for (int o = 0; o < map.Length; o++)
            {
                int id = map[o], k = 0;
                while (id >= offsets[k + 1])
                {
                    k++;
                }

                result[o] = sources[k][id - offsets[k]];
            }
        }
    }

    private sealed class UnaryStep(double[] x, double[] result, Func<double, double> f) : Step
    {
        public override void Run()
        {
            for (int o = 0; o < result.Length; o++)
            {
                result[o] = f(x[o]);
            }
        }
    }

    private sealed class BinaryStep(double[] a, double[] b, int[] ia, int[] ib, Func<double, double, double> f, double[] result) : Step
    {
        public override void Run()
        {
            for (int o = 0; o < result.Length; o++)
            {
                result[o] = f(a[ia[o]], b[ib[o]]);
            }
        }
    }

    private sealed class MatMulStep(OnnxGraphOps.MatMulPlan plan, double[] a, double[] b, double[] result) : Step
    {
        public override void Run() => OnnxGraphOps.MatMul(plan, a, b, result);
    }

    private sealed class GemmStep(OnnxGraphOps.GemmPlan plan, double[] a, double[] b, double[]? c, int[]? cMap, double[] result) : Step
    {
        public override void Run()
        {
            OnnxGraphOps.Gemm(plan, a, b, result);
            if (c is null)
            {
                return;
            }

            // As OnnxSession.Run: β·C first, then the sum, so the rounding is the same.
            for (int o = 0; o < result.Length; o++)
            {
                double scaled = plan.Beta * c[cMap![o]];
                result[o] = result[o] + scaled;
            }
        }
    }

    private sealed class SoftmaxStep(double[] x, double[] result, int outer, int len, int inner, bool log) : Step
    {
        public override void Run() => OnnxGraphOps.Softmax(x, result, outer, len, inner, log);
    }

    /// <summary>An RNN / LSTM / GRU node: constant weights, run-time X, sequence_lens and states.</summary>
    private sealed class RecurrentStep : Step, IDisposable
    {
        private readonly OnnxSession.RecurrentShapes _shapes;
        private readonly OnnxTensor?[] _args;
        private readonly OnnxFastRecurrent? _fast;
        private readonly OnnxFastRecurrent.Scratch? _scratch;
        private readonly Func<string, InteropFormatException> _fail;
        private readonly int[] _lengths;
        private readonly double[] _x, _h0, _c0, _y, _yh, _yc;

        private RecurrentStep(OnnxSession.RecurrentShapes shapes, OnnxTensor?[] args, OnnxFastRecurrent? fast, Func<string, InteropFormatException> fail)
        {
            _shapes = shapes;
            _args = args;
            _fast = fast;
            _fail = fail;
            var (spec, t, b, i, stateShape, yShape) = shapes;
            bool lstm = spec.Kind == RecurrentOperatorKind.Lstm;
            var type = args[0]!.ElementType;
            Outputs = lstm ? [Fresh(type, yShape), Fresh(type, stateShape), Fresh(type, stateShape)] : [Fresh(type, yShape), Fresh(type, stateShape)];
            _lengths = new int[b];
            _scratch = fast?.CreateScratch(t, b);

            // Layout 1 (batch-major) is transposed to and from the time-major kernels' order in these.
            bool swap = fast is not null && spec.Layout == 1;
            int state = spec.Directions * b * spec.HiddenSize;
            _x = swap ? new double[t * b * i] : [];
            _h0 = swap ? new double[state] : [];
            _c0 = swap && lstm ? new double[state] : [];
            _y = swap ? new double[t * state] : [];
            _yh = swap ? new double[state] : [];
            _yc = swap && lstm ? new double[state] : [];
        }

        public OnnxTensor[] Outputs { get; }

        public static RecurrentStep Create(OnnxSession session, OnnxNodeProto n, OnnxTensor?[] args, bool[] live, Func<string, InteropFormatException> fail)
        {
            var shapes = OnnxSession.CheckRecurrent(n, args, fail);
            foreach (int k in (int[])[1, 2, 3, 7])
            {
                if (k < live.Length && live[k])
                {
                    throw fail($"input '{n.Inputs[k]}' (W, R, B or P) is fed at run time; OnnxRunner needs constant weights (OnnxSession.Run repacks fed weights per call)");
                }
            }

            bool lstm = shapes.Spec.Kind == RecurrentOperatorKind.Lstm;
            OnnxTensor? Arg(int k) => k < args.Length ? args[k] : null;
            var fast = session.Options.FastPath ? session.FastLayer(n, shapes.Spec, shapes.I, Arg(1)!, Arg(2)!, Arg(3), lstm ? Arg(7) : null) : null;
            return new RecurrentStep(shapes, args, fast, fail);
        }

        public override void Run()
        {
            var (spec, t, b, i, _, _) = _shapes;
            int d = spec.Directions, h = spec.HiddenSize;
            bool lstm = spec.Kind == RecurrentOperatorKind.Lstm;
            OnnxTensor? Arg(int k) => k < _args.Length ? _args[k] : null;
            Span<int> lengths = default;
            if (Arg(4) is { } sl)
            {
                OnnxSession.ReadLengths(sl.Data, _lengths, t, _fail);
                lengths = _lengths;
            }

            var y = Outputs[0].Data;
            var yh = Outputs[1].Data;
            var yc = lstm ? Outputs[2].Data : [];
            if (_fast is null)
            {
                var r = OnnxSession.Reference(spec, t, b, i, _args, Arg(4) is null ? null : _lengths, _fail);
                r.Y.CopyTo(y, 0);
                r.YH.CopyTo(yh, 0);
                r.YC?.CopyTo(yc, 0);
                return;
            }

            ReadOnlySpan<double> x = Arg(0)!.Data;
            ReadOnlySpan<double> h0 = Arg(5) is { } ih ? ih.Data : default;
            ReadOnlySpan<double> c0 = lstm && Arg(6) is { } ic ? ic.Data : default;
            if (spec.Layout == 0)
            {
                _fast.Run(_scratch!, x, lengths, h0, c0, y, yh, yc);
                return;
            }

            OnnxSession.Swap01(x, _x, b, t, i);
            if (!h0.IsEmpty)
            {
                OnnxSession.Swap01(h0, _h0, b, d, h);
                h0 = _h0;
            }

            if (!c0.IsEmpty)
            {
                OnnxSession.Swap01(c0, _c0, b, d, h);
                c0 = _c0;
            }

            _fast.Run(_scratch!, _x, lengths, h0, c0, _y, _yh, _yc);
            OnnxSession.FromTimeMajor(_y, y, t, d, b, h);
            OnnxSession.Swap01(_yh, yh, d, b, h);
            if (lstm)
            {
                OnnxSession.Swap01(_yc, yc, d, b, h);
            }
        }

        public void Dispose() => _scratch?.Dispose();
    }
}
