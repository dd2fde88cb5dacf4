using System.Globalization;

namespace RecurrentCore.Interop.Onnx;

/// <summary>
/// The non-recurrent operators <see cref="OnnxSession"/> runs, in double precision with numpy broadcasting: what
/// exporters write around recurrent nodes (shape plumbing) and a Linear head (MatMul + Add or Gemm, then an activation).
/// </summary>
internal static class OnnxGraphOps
{
    /// <summary>Every supported op type (default domain).</summary>
    public static readonly HashSet<string> Supported = new(StringComparer.Ordinal)
    {
        "Identity", "Transpose", "Reshape", "Squeeze", "Unsqueeze", "Flatten", "Slice", "Gather", "Concat", "Shape",
        "ConstantOfShape", "Expand", "Cast", "Constant", "MatMul", "Gemm", "Add", "Sub", "Mul", "Div", "Relu", "Tanh",
        "Sigmoid", "Softmax", "LogSoftmax",
    };

    /// <summary>Runs one node. <paramref name="inputs"/> has null for absent optional inputs.</summary>
    public static OnnxTensor[] Run(OnnxNodeProto n, OnnxTensor?[] inputs, long opset, Func<string, InteropFormatException> fail)
    {
        OnnxTensor In(int i) => i < inputs.Length && inputs[i] is { } t ? t : throw fail($"input {i} is required");
        OnnxTensor? Opt(int i) => i < inputs.Length ? inputs[i] : null;
        return n.OpType switch
        {
            "Identity" => [In(0)],
            "Transpose" => [Transpose(In(0), Ints(n, "perm") ?? [.. Enumerable.Range(0, In(0).Rank).Reverse().Select(i => (long)i)], fail)],
            "Reshape" => [Reshape(In(0), In(1), Int(n, "allowzero", 0) == 1, fail)],
            "Squeeze" => [Squeeze(In(0), opset >= 13 ? Opt(1)?.Indices() : Ints(n, "axes"), fail)],
            "Unsqueeze" => [Unsqueeze(In(0), (opset >= 13 ? In(1).Indices() : Ints(n, "axes")) ?? throw fail("'axes' is required"), fail)],
            "Flatten" => [Flatten(In(0), Int(n, "axis", 1), fail)],
            "Slice" => [opset >= 10
                ? Slice(In(0), In(1).Indices(), In(2).Indices(), Opt(3)?.Indices(), Opt(4)?.Indices(), fail)
                : Slice(In(0), Ints(n, "starts") ?? throw fail("'starts' is required"), Ints(n, "ends") ?? throw fail("'ends' is required"), Ints(n, "axes"), null, fail)],
            "Gather" => [Gather(In(0), In(1), Int(n, "axis", 0), fail)],
            "Concat" => [Concat([.. inputs.Select((t, i) => t ?? throw fail($"input {i} is empty"))], Int(n, "axis", null) ?? throw fail("attribute 'axis' is required"), fail)],
            "Shape" => [ShapeOf(In(0), Int(n, "start", 0), Int(n, "end", null))],
            "ConstantOfShape" => [ConstantOfShape(In(0), n.Attributes.FirstOrDefault(a => a.Name == "value")?.T, fail)],
            "Expand" => [Expand(In(0), In(1), fail)],
            "Cast" => [Map(In(0), CastTo(n, fail), CastFunction(CastTo(n, fail), fail))],
            "Constant" => [Constant(n, fail)],
            "MatMul" => [MatMul(In(0), In(1), fail)],
            "Gemm" => [Gemm(n, In(0), In(1), Opt(2), fail)],
            "Add" or "Sub" or "Mul" or "Div" => [Broadcast(In(0), In(1), BinaryFunction(n.OpType, In(0).IsInteger), fail)],
            "Relu" or "Tanh" or "Sigmoid" => [Map(In(0), In(0).ElementType, UnaryFunction(n.OpType))],
            "Softmax" or "LogSoftmax" => [Softmax(In(0), SoftmaxAxis(n, opset).Axis, SoftmaxAxis(n, opset).SingleAxis, log: n.OpType == "LogSoftmax", fail)],
            _ => throw fail("is not supported"),
        };
    }

    public static OnnxTensor FromProto(OnnxTensorProto t, string source, string what)
    {
        int[] shape = Shape(t.Dims, source, what);
        var type = (OnnxDataType)t.DataType;
        return type switch
        {
            OnnxDataType.Float => new OnnxTensor(OnnxElementType.F32, shape, OnnxTensorData.ToDoubles(t, source, what)),
            OnnxDataType.Double => new OnnxTensor(OnnxElementType.F64, shape, OnnxTensorData.ToDoubles(t, source, what)),
            OnnxDataType.Float16 => new OnnxTensor(OnnxElementType.F16, shape, OnnxTensorData.ToDoubles(t, source, what)),
            OnnxDataType.Int64 => new OnnxTensor(OnnxElementType.I64, shape, [.. OnnxTensorData.ToInt64s(t, source, what).Select(v => (double)v)]),
            OnnxDataType.Int32 => new OnnxTensor(OnnxElementType.I32, shape, [.. OnnxTensorData.ToInt64s(t, source, what).Select(v => (double)v)]),
            (OnnxDataType)9 => new OnnxTensor(OnnxElementType.Bool, shape, [.. OnnxTensorData.ToBools(t, source, what).Select(v => v ? 1.0 : 0.0)]),
            _ => throw InteropFormatException.Create(source, $"{what} has data_type {OnnxTensorData.TypeName(t.DataType)}; expected float, double, float16, int32, int64 or bool"),
        };
    }

    private static int[] Shape(IReadOnlyList<long> dims, string source, string what)
    {
        OnnxTensorData.ElementCount(dims, source, what);
        return [.. dims.Select(d => (int)d)];
    }

    private static long? Int(OnnxNodeProto n, string name, long? fallback) => n.Attributes.FirstOrDefault(a => a.Name == name) is { } a ? a.I : fallback;

    private static long Int(OnnxNodeProto n, string name, long fallback) => n.Attributes.FirstOrDefault(a => a.Name == name) is { } a ? a.I : fallback;

    private static long[]? Ints(OnnxNodeProto n, string name) => n.Attributes.FirstOrDefault(a => a.Name == name) is { } a ? [.. a.Ints] : null;

    private static float Float(OnnxNodeProto n, string name, float fallback) => n.Attributes.FirstOrDefault(a => a.Name == name) is { } a ? a.F : fallback;

    private static int Axis(long axis, int rank, Func<string, InteropFormatException> fail)
    {
        long a = axis < 0 ? axis + rank : axis;
        return a >= 0 && a < rank ? (int)a : throw fail($"axis {axis} is out of range for rank {rank}");
    }

    private static int[] Strides(int[] shape)
    {
        var s = new int[shape.Length];
        int acc = 1;
        for (int i = shape.Length - 1; i >= 0; i--)
        {
            s[i] = acc;
            acc *= shape[i];
        }

        return s;
    }

    private static int Product(IEnumerable<int> dims) => dims.Aggregate(1, (a, b) => checked(a * b));

    private static string Dims(IEnumerable<int> d) => "(" + string.Join(", ", d) + ")";

    private static OnnxTensor Map(OnnxTensor x, OnnxElementType type, Func<double, double> f) => new(type, x.Shape, [.. x.Data.Select(f)]);

    /// <summary>Ops whose every output element is one input element: the runner plans them as index maps.</summary>
    public static readonly HashSet<string> Movement = new(StringComparer.Ordinal)
    {
        "Identity", "Transpose", "Reshape", "Squeeze", "Unsqueeze", "Flatten", "Slice", "Gather", "Concat", "Expand",
    };

    /// <summary>Movement ops that keep the data in order (only the shape changes), so the output may share the input's buffer.</summary>
    public static readonly HashSet<string> Views = new(StringComparer.Ordinal) { "Identity", "Reshape", "Squeeze", "Unsqueeze", "Flatten" };

    private static readonly Func<double, double> ReluF = x => Math.Max(x, 0.0);
    private static readonly Func<double, double> TanhF = Math.Tanh;
    private static readonly Func<double, double> SigmoidF = x => 1.0 / (1.0 + Math.Exp(-x));
    private static readonly Func<double, double, double> AddF = (a, b) => a + b;
    private static readonly Func<double, double, double> SubF = (a, b) => a - b;
    private static readonly Func<double, double, double> MulF = (a, b) => a * b;
    private static readonly Func<double, double, double> DivF = (a, b) => a / b;
    private static readonly Func<double, double, double> IntDivF = (a, b) => Math.Truncate(a / b);

    /// <summary>Relu, Tanh or Sigmoid, element by element.</summary>
    public static Func<double, double> UnaryFunction(string op) => op switch
    {
        "Relu" => ReluF,
        "Tanh" => TanhF,
        "Sigmoid" => SigmoidF,
        _ => throw new ArgumentOutOfRangeException(nameof(op), op, "not an elementwise unary op"),
    };

    /// <summary>Add, Sub, Mul or Div (truncating for an integer left operand), element by element.</summary>
    public static Func<double, double, double> BinaryFunction(string op, bool integer) => op switch
    {
        "Add" => AddF,
        "Sub" => SubF,
        "Mul" => MulF,
        "Div" => integer ? IntDivF : DivF,
        _ => throw new ArgumentOutOfRangeException(nameof(op), op, "not an elementwise binary op"),
    };

    /// <summary>Cast's target type.</summary>
    public static OnnxElementType CastTo(OnnxNodeProto n, Func<string, InteropFormatException> fail) =>
        (OnnxElementType)(Int(n, "to", null) ?? throw fail("attribute 'to' is required"));

    /// <summary>Cast to <paramref name="type"/>, element by element.</summary>
    public static Func<double, double> CastFunction(OnnxElementType type, Func<string, InteropFormatException> fail) => type switch
    {
        OnnxElementType.F32 => v => (float)v,
        OnnxElementType.F64 => v => v,
        OnnxElementType.F16 => v => (double)(Half)v,
        OnnxElementType.I32 or OnnxElementType.I64 => Math.Truncate,
        OnnxElementType.Bool => v => v != 0 ? 1.0 : 0.0,
        _ => throw fail($"cannot cast to {OnnxTensorData.TypeName((int)type)}"),
    };

    public static OnnxTensor Transpose(OnnxTensor x, long[] perm, Func<string, InteropFormatException> fail)
    {
        int r = x.Rank;
        if (perm.Length != r || perm.Distinct().Count() != r || perm.Any(p => p < 0 || p >= r))
        {
            throw fail($"attribute 'perm' [{string.Join(", ", perm)}] is not a permutation of rank {r}");
        }

        var shape = perm.Select(p => x.Shape[p]).ToArray();
        var inStrides = Strides(x.Shape);
        var result = new double[x.Data.Length];
        var idx = new int[r];
        for (int o = 0; o < result.Length; o++)
        {
            int src = 0;
            for (int k = 0; k < r; k++)
            {
                src += idx[k] * inStrides[perm[k]];
            }

            result[o] = x.Data[src];
            for (int k = r - 1; k >= 0 && ++idx[k] == shape[k]; k--)
            {
                idx[k] = 0;
            }
        }

        return new OnnxTensor(x.ElementType, shape, result);
    }

    private static OnnxTensor Reshape(OnnxTensor x, OnnxTensor shapeTensor, bool allowZero, Func<string, InteropFormatException> fail)
    {
        var req = shapeTensor.Indices();
        var shape = new int[req.Length];
        int infer = -1;
        long known = 1;
        for (int i = 0; i < req.Length; i++)
        {
            long v = req[i];
            if (v == -1)
            {
                if (infer >= 0)
                {
                    throw fail($"shape [{string.Join(", ", req)}] has more than one -1");
                }

                infer = i;
                continue;
            }

            if (v == 0 && !allowZero)
            {
                v = i < x.Rank ? x.Shape[i] : throw fail($"shape [{string.Join(", ", req)}] copies dimension {i} (0) but the input has rank {x.Rank}");
            }

            if (v < 0 || v > int.MaxValue)
            {
                throw fail($"shape [{string.Join(", ", req)}] has an invalid dimension {v}");
            }

            shape[i] = (int)v;
            known *= v;
        }

        if (infer >= 0)
        {
            if (known == 0 || x.Count % known != 0)
            {
                throw fail($"cannot reshape {Dims(x.Shape)} to [{string.Join(", ", req)}]");
            }

            shape[infer] = (int)(x.Count / known);
        }
        else if (known != x.Count)
        {
            throw fail($"cannot reshape {Dims(x.Shape)} ({x.Count} values) to [{string.Join(", ", req)}]");
        }

        return new OnnxTensor(x.ElementType, shape, x.Data);
    }

    private static OnnxTensor Squeeze(OnnxTensor x, long[]? axes, Func<string, InteropFormatException> fail)
    {
        var drop = axes is null ? [.. Enumerable.Range(0, x.Rank).Where(i => x.Shape[i] == 1)] : axes.Select(a => Axis(a, x.Rank, fail)).ToHashSet();
        foreach (int a in drop)
        {
            if (x.Shape[a] != 1)
            {
                throw fail($"cannot squeeze axis {a} of {Dims(x.Shape)}: its size is not 1");
            }
        }

        return new OnnxTensor(x.ElementType, [.. x.Shape.Where((_, i) => !drop.Contains(i))], x.Data);
    }

    private static OnnxTensor Unsqueeze(OnnxTensor x, long[] axes, Func<string, InteropFormatException> fail)
    {
        int rank = x.Rank + axes.Length;
        var add = axes.Select(a => Axis(a, rank, fail)).ToHashSet();
        if (add.Count != axes.Length)
        {
            throw fail($"'axes' [{string.Join(", ", axes)}] repeats an axis");
        }

        var shape = new int[rank];
        int src = 0;
        for (int i = 0; i < rank; i++)
        {
            shape[i] = add.Contains(i) ? 1 : x.Shape[src++];
        }

        return new OnnxTensor(x.ElementType, shape, x.Data);
    }

    private static OnnxTensor Flatten(OnnxTensor x, long axis, Func<string, InteropFormatException> fail)
    {
        int a = axis == x.Rank ? x.Rank : Axis(axis, x.Rank, fail);
        return new OnnxTensor(x.ElementType, [Product(x.Shape.Take(a)), Product(x.Shape.Skip(a))], x.Data);
    }

    private static OnnxTensor Slice(OnnxTensor x, long[] starts, long[] ends, long[]? axes, long[]? steps, Func<string, InteropFormatException> fail)
    {
        int r = x.Rank;
        axes ??= [.. Enumerable.Range(0, starts.Length).Select(i => (long)i)];
        steps ??= [.. Enumerable.Repeat(1L, starts.Length)];
        if (ends.Length != starts.Length || axes.Length != starts.Length || steps.Length != starts.Length)
        {
            throw fail("'starts', 'ends', 'axes' and 'steps' differ in length");
        }

        var start = new long[r];
        var step = Enumerable.Repeat(1L, r).ToArray();
        var shape = (int[])x.Shape.Clone();
        for (int j = 0; j < starts.Length; j++)
        {
            int a = Axis(axes[j], r, fail);
            long dim = x.Shape[a], s = starts[j], e = ends[j], st = steps[j];
            if (st == 0)
            {
                throw fail("a slice step is 0");
            }

            s = s < 0 ? s + dim : s;
            e = e < 0 ? e + dim : e;
            if (st > 0)
            {
                s = Math.Clamp(s, 0, dim);
                e = Math.Clamp(e, 0, dim);
            }
            else
            {
                s = Math.Clamp(s, 0, dim - 1);
                e = Math.Clamp(e, -1, dim - 1);
            }

            long count = st > 0 ? (e - s + st - 1) / st : (s - e + (-st) - 1) / (-st);
            shape[a] = (int)Math.Max(0, count);
            start[a] = s;
            step[a] = st;
        }

        var strides = Strides(x.Shape);
        int total = Product(shape);
        var result = new double[total];
        var idx = new int[r];
        for (int o = 0; o < total; o++)
        {
            long src = 0;
            for (int k = 0; k < r; k++)
            {
                src += (start[k] + (idx[k] * step[k])) * strides[k];
            }

            result[o] = x.Data[src];
            for (int k = r - 1; k >= 0 && ++idx[k] == shape[k]; k--)
            {
                idx[k] = 0;
            }
        }

        return new OnnxTensor(x.ElementType, shape, result);
    }

    private static OnnxTensor Gather(OnnxTensor x, OnnxTensor indices, long axis, Func<string, InteropFormatException> fail)
    {
        int a = Axis(axis, x.Rank, fail);
        int outer = Product(x.Shape.Take(a)), inner = Product(x.Shape.Skip(a + 1)), dim = x.Shape[a];
        var ids = indices.Indices();
        var result = new double[outer * ids.Length * inner];
        for (int j = 0; j < ids.Length; j++)
        {
            long id = ids[j] < 0 ? ids[j] + dim : ids[j];
            if (id < 0 || id >= dim)
            {
                throw fail($"index {ids[j]} is out of range for axis {a} of size {dim}");
            }

            for (int o = 0; o < outer; o++)
            {
                Array.Copy(x.Data, ((o * dim) + id) * inner, result, ((o * ids.Length) + j) * inner, inner);
            }
        }

        return new OnnxTensor(x.ElementType, [.. x.Shape.Take(a), .. indices.Shape, .. x.Shape.Skip(a + 1)], result);
    }

    private static OnnxTensor Concat(OnnxTensor[] xs, long axis, Func<string, InteropFormatException> fail)
    {
        if (xs.Length == 0)
        {
            throw fail("has no inputs");
        }

        int r = xs[0].Rank;
        int a = Axis(axis, r, fail);
        foreach (var x in xs)
        {
            if (x.Rank != r || Enumerable.Range(0, r).Any(i => i != a && x.Shape[i] != xs[0].Shape[i]))
            {
                throw fail($"cannot concatenate {string.Join(" and ", xs.Select(t => Dims(t.Shape)))} on axis {a}");
            }
        }

        int outer = Product(xs[0].Shape.Take(a)), inner = Product(xs[0].Shape.Skip(a + 1));
        int total = xs.Sum(x => x.Shape[a]);
        var result = new double[outer * total * inner];
        int offset = 0;
        foreach (var x in xs)
        {
            int block = x.Shape[a] * inner;
            for (int o = 0; o < outer; o++)
            {
                Array.Copy(x.Data, o * block, result, ((o * total) * inner) + offset, block);
            }

            offset += block;
        }

        var shape = (int[])xs[0].Shape.Clone();
        shape[a] = total;
        return new OnnxTensor(xs[0].ElementType, shape, result);
    }

    private static OnnxTensor ShapeOf(OnnxTensor x, long start, long? end)
    {
        int r = x.Rank;
        long s = Math.Clamp(start < 0 ? start + r : start, 0, r);
        long e = Math.Clamp(end is long v ? (v < 0 ? v + r : v) : r, 0, r);
        var dims = x.Shape.Skip((int)s).Take((int)Math.Max(0, e - s)).Select(d => (double)d).ToArray();
        return new OnnxTensor(OnnxElementType.I64, [dims.Length], dims);
    }

    private static OnnxTensor ConstantOfShape(OnnxTensor shape, OnnxTensorProto? value, Func<string, InteropFormatException> fail)
    {
        var dims = shape.Indices();
        if (dims.Any(d => d < 0 || d > int.MaxValue))
        {
            throw fail($"shape [{string.Join(", ", dims)}] has an invalid dimension");
        }

        var fill = value is null ? OnnxTensor.FromFloats([0.0]) : FromProto(value, "ConstantOfShape", "attribute 'value'");
        if (fill.Count != 1)
        {
            throw fail("attribute 'value' must hold one element");
        }

        int[] s = [.. dims.Select(d => (int)d)];
        var data = new double[Product(s)];
        Array.Fill(data, fill.Data[0]);
        return new OnnxTensor(fill.ElementType, s, data);
    }

    private static OnnxTensor Expand(OnnxTensor x, OnnxTensor shape, Func<string, InteropFormatException> fail)
    {
        var target = new OnnxTensor(x.ElementType, [.. shape.Indices().Select(d => (int)d)], new double[Product(shape.Indices().Select(d => (int)d))]);
        return Broadcast(x, target, (a, _) => a, fail);
    }

    private static OnnxTensor Constant(OnnxNodeProto n, Func<string, InteropFormatException> fail)
    {
        var a = n.Attributes.Count == 1 ? n.Attributes[0] : throw fail("must have exactly one attribute");
        return a.Name switch
        {
            "value" when a.T is { } t => FromProto(t, "Constant", "attribute 'value'"),
            "value_float" => OnnxTensor.FromFloats([a.F]),
            "value_floats" => OnnxTensor.FromFloats([.. a.Floats.Select(f => (double)f)], a.Floats.Count),
            "value_int" => OnnxTensor.FromInt64s([a.I]),
            "value_ints" => OnnxTensor.FromInt64s([.. a.Ints], a.Ints.Count),
            _ => throw fail($"attribute '{a.Name}' is not supported (value, value_float(s), value_int(s) are)"),
        };
    }

    public static OnnxTensor Broadcast(OnnxTensor a, OnnxTensor b, Func<double, double, double> f, Func<string, InteropFormatException> fail)
    {
        int r = Math.Max(a.Rank, b.Rank);
        var shape = new int[r];
        for (int i = 0; i < r; i++)
        {
            int da = i - (r - a.Rank) >= 0 ? a.Shape[i - (r - a.Rank)] : 1;
            int db = i - (r - b.Rank) >= 0 ? b.Shape[i - (r - b.Rank)] : 1;
            shape[i] = da == db || db == 1 ? da : da == 1 ? db : throw fail($"cannot broadcast {Dims(a.Shape)} with {Dims(b.Shape)}");
        }

        var sa = BroadcastStrides(a.Shape, shape);
        var sb = BroadcastStrides(b.Shape, shape);
        int total = Product(shape);
        var result = new double[total];
        var idx = new int[r];
        for (int o = 0; o < total; o++)
        {
            int ia = 0, ib = 0;
            for (int k = 0; k < r; k++)
            {
                ia += idx[k] * sa[k];
                ib += idx[k] * sb[k];
            }

            result[o] = f(a.Data[ia], b.Data[ib]);
            for (int k = r - 1; k >= 0 && ++idx[k] == shape[k]; k--)
            {
                idx[k] = 0;
            }
        }

        return new OnnxTensor(a.ElementType, shape, result);
    }

    /// <summary>Strides of <paramref name="shape"/> aligned right to <paramref name="target"/>, 0 on broadcast axes.</summary>
    private static int[] BroadcastStrides(int[] shape, int[] target)
    {
        var own = Strides(shape);
        var s = new int[target.Length];
        int off = target.Length - shape.Length;
        for (int i = 0; i < shape.Length; i++)
        {
            s[i + off] = shape[i] == 1 ? 0 : own[i];
        }

        return s;
    }

    private static OnnxTensor MatMul(OnnxTensor a, OnnxTensor b, Func<string, InteropFormatException> fail)
    {
        var plan = PlanMatMul(a, b, fail);
        var result = new double[plan.Pairs.Length * plan.M * plan.N];
        MatMul(plan, a.Data, b.Data, result);
        return new OnnxTensor(a.ElementType, plan.Shape, result);
    }

    /// <summary>A MatMul's shapes: per output matrix p, A's matrix PairsA[p] times B's PairsB[p], each M×K by K×N.</summary>
    public sealed record MatMulPlan(int[] Pairs, int[] PairsB, int M, int K, int N, int[] Shape);

    public static MatMulPlan PlanMatMul(OnnxTensor a, OnnxTensor b, Func<string, InteropFormatException> fail)
    {
        if (a.Rank == 0 || b.Rank == 0)
        {
            throw fail("MatMul of a scalar");
        }

        int[] sa = a.Rank == 1 ? [1, a.Shape[0]] : a.Shape;
        int[] sb = b.Rank == 1 ? [b.Shape[0], 1] : b.Shape;
        int m = sa[^2], k = sa[^1], n = sb[^1];
        if (sb[^2] != k)
        {
            throw fail($"cannot multiply {Dims(a.Shape)} by {Dims(b.Shape)}");
        }

        var batchA = new OnnxTensor(a.ElementType, sa[..^2], new double[Product(sa[..^2])]);
        var batchB = new OnnxTensor(b.ElementType, sb[..^2], new double[Product(sb[..^2])]);
        for (int i = 0; i < batchA.Data.Length; i++)
        {
            batchA.Data[i] = i;
        }

        for (int i = 0; i < batchB.Data.Length; i++)
        {
            batchB.Data[i] = i;
        }

        // Broadcasting the batch indices pairs each output matrix with its A and B matrices.
        var pairsA = Broadcast(batchA, batchB, (x, _) => x, fail);
        var pairsB = Broadcast(batchA, batchB, (_, y) => y, fail);
        var shape = new List<int>(pairsA.Shape);
        if (a.Rank > 1)
        {
            shape.Add(m);
        }

        if (b.Rank > 1)
        {
            shape.Add(n);
        }

        return new MatMulPlan([.. pairsA.Data.Select(v => (int)v)], [.. pairsB.Data.Select(v => (int)v)], m, k, n, [.. shape]);
    }

    /// <summary>Runs a planned MatMul into <paramref name="result"/> (double, summed in order over K).</summary>
    public static void MatMul(MatMulPlan plan, ReadOnlySpan<double> a, ReadOnlySpan<double> b, Span<double> result)
    {
        int m = plan.M, k = plan.K, n = plan.N;
        for (int p = 0; p < plan.Pairs.Length; p++)
        {
            int oa = plan.Pairs[p] * m * k, ob = plan.PairsB[p] * k * n, oc = p * m * n;
            for (int i = 0; i < m; i++)
            {
                for (int j = 0; j < n; j++)
                {
                    double sum = 0;
                    for (int q = 0; q < k; q++)
                    {
                        sum += a[oa + (i * k) + q] * b[ob + (q * n) + j];
                    }

                    result[oc + (i * n) + j] = sum;
                }
            }
        }
    }

    private static OnnxTensor Gemm(OnnxNodeProto node, OnnxTensor a, OnnxTensor b, OnnxTensor? c, Func<string, InteropFormatException> fail)
    {
        var plan = PlanGemm(node, a, b, fail);
        var result = new double[plan.M * plan.N];
        Gemm(plan, a.Data, b.Data, result);
        var y = new OnnxTensor(a.ElementType, [plan.M, plan.N], result);
        if (c is null)
        {
            return y;
        }

        double beta = plan.Beta;
        var scaled = Map(c, c.ElementType, v => beta * v);
        var sum2 = Broadcast(y, scaled, AddF, fail);
        return sum2.Shape.SequenceEqual(y.Shape) ? sum2 : throw fail($"C {Dims(c.Shape)} does not broadcast to ({plan.M}, {plan.N})");
    }

    /// <summary>A Gemm's attributes and sizes: Y (M, N) = α·op(A)·op(B) + β·C.</summary>
    public sealed record GemmPlan(bool TransA, bool TransB, double Alpha, double Beta, int M, int K, int N);

    public static GemmPlan PlanGemm(OnnxNodeProto node, OnnxTensor a, OnnxTensor b, Func<string, InteropFormatException> fail)
    {
        if (a.Rank != 2 || b.Rank != 2)
        {
            throw fail($"A {Dims(a.Shape)} and B {Dims(b.Shape)} must be matrices");
        }

        bool ta = Int(node, "transA", 0) != 0, tb = Int(node, "transB", 0) != 0;
        double alpha = Float(node, "alpha", 1f), beta = Float(node, "beta", 1f);
        int m = ta ? a.Shape[1] : a.Shape[0], k = ta ? a.Shape[0] : a.Shape[1];
        int kb = tb ? b.Shape[1] : b.Shape[0], n = tb ? b.Shape[0] : b.Shape[1];
        if (k != kb)
        {
            throw fail($"cannot multiply A {Dims(a.Shape)} (transA {(ta ? 1 : 0)}) by B {Dims(b.Shape)} (transB {(tb ? 1 : 0)})");
        }

        return new GemmPlan(ta, tb, alpha, beta, m, k, n);
    }

    /// <summary>α·op(A)·op(B) into <paramref name="result"/> (M, N), without C.</summary>
    public static void Gemm(GemmPlan plan, ReadOnlySpan<double> a, ReadOnlySpan<double> b, Span<double> result)
    {
        bool ta = plan.TransA, tb = plan.TransB;
        int m = plan.M, k = plan.K, n = plan.N;
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double sum = 0;
                for (int q = 0; q < k; q++)
                {
                    sum += a[ta ? (q * m) + i : (i * k) + q] * b[tb ? (j * k) + q : (q * n) + j];
                }

                result[(i * n) + j] = plan.Alpha * sum;
            }
        }
    }

    private static OnnxTensor Softmax(OnnxTensor x, long axis, bool singleAxis, bool log, Func<string, InteropFormatException> fail)
    {
        var (outer, len, inner) = PlanSoftmax(x, axis, singleAxis, fail);
        var result = new double[x.Data.Length];
        Softmax(x.Data, result, outer, len, inner, log);
        return new OnnxTensor(x.ElementType, x.Shape, result);
    }

    /// <summary>Softmax's blocks: <c>outer</c> × <c>inner</c> runs of <c>len</c> values, <c>inner</c> apart.</summary>
    public static (int Outer, int Len, int Inner) PlanSoftmax(OnnxTensor x, long axis, bool singleAxis, Func<string, InteropFormatException> fail)
    {
        int a = Axis(axis, x.Rank, fail);
        int outer = Product(x.Shape.Take(a));
        int len = singleAxis ? x.Shape[a] : Product(x.Shape.Skip(a));
        int inner = singleAxis ? Product(x.Shape.Skip(a + 1)) : 1;
        return (outer, len, inner);
    }

    /// <summary>The node's Softmax or LogSoftmax axis and whether it reduces that axis alone (opset 13+).</summary>
    public static (long Axis, bool SingleAxis) SoftmaxAxis(OnnxNodeProto n, long opset) => (Int(n, "axis", opset >= 13 ? -1 : 1), opset >= 13);

    /// <summary>A planned Softmax (or, with <paramref name="log"/>, LogSoftmax) into <paramref name="result"/>.</summary>
    public static void Softmax(ReadOnlySpan<double> x, Span<double> result, int outer, int len, int inner, bool log)
    {
        for (int o = 0; o < outer; o++)
        {
            for (int i = 0; i < inner; i++)
            {
                int first = o * len * inner;
                double max = double.NegativeInfinity;
                for (int j = 0; j < len; j++)
                {
                    max = Math.Max(max, x[first + (j * inner) + i]);
                }

                double sum = 0;
                for (int j = 0; j < len; j++)
                {
                    sum += Math.Exp(x[first + (j * inner) + i] - max);
                }

                for (int j = 0; j < len; j++)
                {
                    double v = x[first + (j * inner) + i] - max;
                    result[first + (j * inner) + i] = log ? v - Math.Log(sum) : Math.Exp(v) / sum;
                }
            }
        }
    }

    internal static string Describe(OnnxTensor t) => string.Create(CultureInfo.InvariantCulture, $"{t}");
}
