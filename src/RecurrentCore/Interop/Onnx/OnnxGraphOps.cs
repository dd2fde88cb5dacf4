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
            "Cast" => [Cast(In(0), Int(n, "to", null) ?? throw fail("attribute 'to' is required"), fail)],
            "Constant" => [Constant(n, fail)],
            "MatMul" => [MatMul(In(0), In(1), fail)],
            "Gemm" => [Gemm(n, In(0), In(1), Opt(2), fail)],
            "Add" => [Broadcast(In(0), In(1), (a, b) => a + b, fail)],
            "Sub" => [Broadcast(In(0), In(1), (a, b) => a - b, fail)],
            "Mul" => [Broadcast(In(0), In(1), (a, b) => a * b, fail)],
            "Div" => [Broadcast(In(0), In(1), (a, b) => In(0).IsInteger ? Math.Truncate(a / b) : a / b, fail)],
            "Relu" => [Map(In(0), x => Math.Max(x, 0.0))],
            "Tanh" => [Map(In(0), Math.Tanh)],
            "Sigmoid" => [Map(In(0), x => 1.0 / (1.0 + Math.Exp(-x)))],
            "Softmax" => [Softmax(In(0), Int(n, "axis", opset >= 13 ? -1 : 1), opset >= 13, log: false, fail)],
            "LogSoftmax" => [Softmax(In(0), Int(n, "axis", opset >= 13 ? -1 : 1), opset >= 13, log: true, fail)],
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

    private static OnnxTensor Map(OnnxTensor x, Func<double, double> f) => new(x.ElementType, x.Shape, [.. x.Data.Select(f)]);

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

    private static OnnxTensor Cast(OnnxTensor x, long to, Func<string, InteropFormatException> fail)
    {
        var type = (OnnxElementType)to;
        Func<double, double> f = type switch
        {
            OnnxElementType.F32 => v => (float)v,
            OnnxElementType.F64 => v => v,
            OnnxElementType.F16 => v => (double)(Half)v,
            OnnxElementType.I32 or OnnxElementType.I64 => Math.Truncate,
            OnnxElementType.Bool => v => v != 0 ? 1.0 : 0.0,
            _ => throw fail($"cannot cast to {OnnxTensorData.TypeName((int)to)}"),
        };
        return new OnnxTensor(type, x.Shape, [.. x.Data.Select(f)]);
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

    private static OnnxTensor Broadcast(OnnxTensor a, OnnxTensor b, Func<double, double, double> f, Func<string, InteropFormatException> fail)
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
        var result = new double[pairsA.Data.Length * m * n];
        for (int p = 0; p < pairsA.Data.Length; p++)
        {
            int oa = (int)pairsA.Data[p] * m * k, ob = (int)pairsB.Data[p] * k * n, oc = p * m * n;
            for (int i = 0; i < m; i++)
            {
                for (int j = 0; j < n; j++)
                {
                    double sum = 0;
                    for (int q = 0; q < k; q++)
                    {
                        sum += a.Data[oa + (i * k) + q] * b.Data[ob + (q * n) + j];
                    }

                    result[oc + (i * n) + j] = sum;
                }
            }
        }

        var shape = new List<int>(pairsA.Shape);
        if (a.Rank > 1)
        {
            shape.Add(m);
        }

        if (b.Rank > 1)
        {
            shape.Add(n);
        }

        return new OnnxTensor(a.ElementType, [.. shape], result);
    }

    private static OnnxTensor Gemm(OnnxNodeProto node, OnnxTensor a, OnnxTensor b, OnnxTensor? c, Func<string, InteropFormatException> fail)
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

        var result = new double[m * n];
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double sum = 0;
                for (int q = 0; q < k; q++)
                {
                    sum += a.Data[ta ? (q * m) + i : (i * k) + q] * b.Data[tb ? (j * k) + q : (q * n) + j];
                }

                result[(i * n) + j] = alpha * sum;
            }
        }

        var y = new OnnxTensor(a.ElementType, [m, n], result);
        if (c is null)
        {
            return y;
        }

        var scaled = Map(c, v => beta * v);
        var sum2 = Broadcast(y, scaled, (p, q) => p + q, fail);
        return sum2.Shape.SequenceEqual(y.Shape) ? sum2 : throw fail($"C {Dims(c.Shape)} does not broadcast to ({m}, {n})");
    }

    private static OnnxTensor Softmax(OnnxTensor x, long axis, bool singleAxis, bool log, Func<string, InteropFormatException> fail)
    {
        int a = Axis(axis, x.Rank, fail);
        int outer = Product(x.Shape.Take(a));
        int len = singleAxis ? x.Shape[a] : Product(x.Shape.Skip(a));
        int inner = singleAxis ? Product(x.Shape.Skip(a + 1)) : 1;
        var result = new double[x.Data.Length];
        for (int o = 0; o < outer; o++)
        {
            for (int i = 0; i < inner; i++)
            {
                int Index(int j) => (((o * len) + j) * inner) + i;
                double max = double.NegativeInfinity;
                for (int j = 0; j < len; j++)
                {
                    max = Math.Max(max, x.Data[Index(j)]);
                }

                double sum = 0;
                for (int j = 0; j < len; j++)
                {
                    sum += Math.Exp(x.Data[Index(j)] - max);
                }

                for (int j = 0; j < len; j++)
                {
                    double v = x.Data[Index(j)] - max;
                    result[Index(j)] = log ? v - Math.Log(sum) : Math.Exp(v) / sum;
                }
            }
        }

        return new OnnxTensor(x.ElementType, x.Shape, result);
    }

    internal static string Describe(OnnxTensor t) => string.Create(CultureInfo.InvariantCulture, $"{t}");
}
