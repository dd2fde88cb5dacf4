using System.Buffers.Binary;

namespace RecurrentCore.Interop.Onnx;

// The subset of onnx.proto (https://github.com/onnx/onnx/blob/main/onnx/onnx.proto, IR version 7+) that RNN/LSTM/GRU
// export and import need, with its field numbers. Fields not listed are skipped on read and never written.

/// <summary>ModelProto: ir_version 1, producer_name 2, producer_version 3, domain 4, model_version 5, doc_string 6, graph 7, opset_import 8.</summary>
internal sealed class OnnxModelProto
{
    public long IrVersion { get; set; }

    public List<OnnxOpsetId> OpsetImports { get; } = [];

    public string ProducerName { get; set; } = string.Empty;

    public string ProducerVersion { get; set; } = string.Empty;

    public string DocString { get; set; } = string.Empty;

    public OnnxGraphProto? Graph { get; set; }

    public static OnnxModelProto Parse(ReadOnlySpan<byte> data, string source)
    {
        var r = new ProtoReader(data, source, "ModelProto");
        var m = new OnnxModelProto();
        while (r.TryReadKey(out int field, out var wire))
        {
            switch (field)
            {
                case 1: m.IrVersion = r.ReadInt64(wire, "ir_version"); break;
                case 2: m.ProducerName = r.ReadString(wire, "producer_name"); break;
                case 3: m.ProducerVersion = r.ReadString(wire, "producer_version"); break;
                case 6: m.DocString = r.ReadString(wire, "doc_string"); break;
                case 7:
                    var g = r.ReadMessage(wire, "graph", "GraphProto");
                    m.Graph = OnnxGraphProto.Parse(ref g);
                    break;
                case 8:
                    var o = r.ReadMessage(wire, "opset_import", "OperatorSetIdProto");
                    m.OpsetImports.Add(OnnxOpsetId.Parse(ref o));
                    break;
                default: r.Skip(field, wire); break;
            }
        }

        return m;
    }

    public byte[] ToBytes()
    {
        var w = new ProtoWriter();
        w.WriteVarintField(1, IrVersion);
        if (ProducerName.Length > 0)
        {
            w.WriteStringField(2, ProducerName);
        }

        if (ProducerVersion.Length > 0)
        {
            w.WriteStringField(3, ProducerVersion);
        }

        if (DocString.Length > 0)
        {
            w.WriteStringField(6, DocString);
        }

        if (Graph is not null)
        {
            w.WriteMessageField(7, Graph.Write);
        }

        foreach (var o in OpsetImports)
        {
            w.WriteMessageField(8, o.Write);
        }

        return w.ToArray();
    }
}

/// <summary>OperatorSetIdProto: domain 1, version 2.</summary>
internal sealed record OnnxOpsetId(string Domain, long Version)
{
    public static OnnxOpsetId Parse(ref ProtoReader r)
    {
        string domain = string.Empty;
        long version = 0;
        while (r.TryReadKey(out int field, out var wire))
        {
            switch (field)
            {
                case 1: domain = r.ReadString(wire, "domain"); break;
                case 2: version = r.ReadInt64(wire, "version"); break;
                default: r.Skip(field, wire); break;
            }
        }

        return new OnnxOpsetId(domain, version);
    }

    public void Write(ProtoWriter w)
    {
        if (Domain.Length > 0)
        {
            w.WriteStringField(1, Domain);
        }

        w.WriteVarintField(2, Version);
    }
}

/// <summary>GraphProto: node 1, name 2, initializer 5, doc_string 10, input 11, output 12, value_info 13, sparse_initializer 15.</summary>
internal sealed class OnnxGraphProto
{
    public List<OnnxNodeProto> Nodes { get; } = [];

    public string Name { get; set; } = string.Empty;

    public List<OnnxTensorProto> Initializers { get; } = [];

    public int SparseInitializerCount { get; set; }

    public List<OnnxValueInfoProto> Inputs { get; } = [];

    public List<OnnxValueInfoProto> Outputs { get; } = [];

    public List<OnnxValueInfoProto> ValueInfo { get; } = [];

    public static OnnxGraphProto Parse(ref ProtoReader r)
    {
        var g = new OnnxGraphProto();
        while (r.TryReadKey(out int field, out var wire))
        {
            switch (field)
            {
                case 1:
                    var n = r.ReadMessage(wire, "node", "NodeProto");
                    g.Nodes.Add(OnnxNodeProto.Parse(ref n));
                    break;
                case 2: g.Name = r.ReadString(wire, "name"); break;
                case 5:
                    var t = r.ReadMessage(wire, "initializer", "TensorProto");
                    g.Initializers.Add(OnnxTensorProto.Parse(ref t));
                    break;
                case 11:
                case 12:
                case 13:
                    var v = r.ReadMessage(wire, field == 11 ? "input" : field == 12 ? "output" : "value_info", "ValueInfoProto");
                    (field == 11 ? g.Inputs : field == 12 ? g.Outputs : g.ValueInfo).Add(OnnxValueInfoProto.Parse(ref v));
                    break;
                case 15:
                    r.Skip(field, wire);
                    g.SparseInitializerCount++;
                    break;
                default: r.Skip(field, wire); break;
            }
        }

        return g;
    }

    public void Write(ProtoWriter w)
    {
        foreach (var n in Nodes)
        {
            w.WriteMessageField(1, n.Write);
        }

        w.WriteStringField(2, Name);
        foreach (var t in Initializers)
        {
            w.WriteMessageField(5, t.Write);
        }

        foreach (var v in Inputs)
        {
            w.WriteMessageField(11, v.Write);
        }

        foreach (var v in Outputs)
        {
            w.WriteMessageField(12, v.Write);
        }

        foreach (var v in ValueInfo)
        {
            w.WriteMessageField(13, v.Write);
        }
    }
}

/// <summary>NodeProto: input 1, output 2, name 3, op_type 4, attribute 5, doc_string 6, domain 7.</summary>
internal sealed class OnnxNodeProto
{
    public List<string> Inputs { get; } = [];

    public List<string> Outputs { get; } = [];

    public string Name { get; set; } = string.Empty;

    public string OpType { get; set; } = string.Empty;

    public string Domain { get; set; } = string.Empty;

    public List<OnnxAttributeProto> Attributes { get; } = [];

    public static OnnxNodeProto Parse(ref ProtoReader r)
    {
        var n = new OnnxNodeProto();
        while (r.TryReadKey(out int field, out var wire))
        {
            switch (field)
            {
                case 1: n.Inputs.Add(r.ReadString(wire, "input")); break;
                case 2: n.Outputs.Add(r.ReadString(wire, "output")); break;
                case 3: n.Name = r.ReadString(wire, "name"); break;
                case 4: n.OpType = r.ReadString(wire, "op_type"); break;
                case 5:
                    var a = r.ReadMessage(wire, "attribute", "AttributeProto");
                    n.Attributes.Add(OnnxAttributeProto.Parse(ref a));
                    break;
                case 7: n.Domain = r.ReadString(wire, "domain"); break;
                default: r.Skip(field, wire); break;
            }
        }

        return n;
    }

    public void Write(ProtoWriter w)
    {
        foreach (string s in Inputs)
        {
            w.WriteStringField(1, s);
        }

        foreach (string s in Outputs)
        {
            w.WriteStringField(2, s);
        }

        if (Name.Length > 0)
        {
            w.WriteStringField(3, Name);
        }

        w.WriteStringField(4, OpType);
        foreach (var a in Attributes)
        {
            w.WriteMessageField(5, a.Write);
        }

        if (Domain.Length > 0)
        {
            w.WriteStringField(7, Domain);
        }
    }
}

/// <summary>AttributeProto.AttributeType values.</summary>
internal enum OnnxAttributeType
{
    Undefined = 0,
    Float = 1,
    Int = 2,
    String = 3,
    Tensor = 4,
    Graph = 5,
    Floats = 6,
    Ints = 7,
    Strings = 8,
    Tensors = 9,
    Graphs = 10,
    SparseTensor = 11,
    SparseTensors = 12,
    TypeProto = 13,
    TypeProtos = 14,
}

/// <summary>
/// AttributeProto: name 1, f 2, i 3, s 4, t 5, g 6, floats 7, ints 8, strings 9, tensors 10, graphs 11, type 20,
/// ref_attr_name 21. Graph-valued attributes are skipped (counted in <see cref="OtherValues"/>), never decoded.
/// </summary>
internal sealed class OnnxAttributeProto
{
    public string Name { get; set; } = string.Empty;

    public OnnxAttributeType Type { get; set; }

    public float F { get; set; }

    public long I { get; set; }

    public string S { get; set; } = string.Empty;

    public OnnxTensorProto? T { get; set; }

    public List<float> Floats { get; } = [];

    public List<long> Ints { get; } = [];

    public List<string> Strings { get; } = [];

    public string RefAttrName { get; set; } = string.Empty;

    /// <summary>Values of kinds this decoder does not keep (graphs, tensor lists, sparse tensors, types).</summary>
    public int OtherValues { get; set; }

    public static OnnxAttributeProto Parse(ref ProtoReader r)
    {
        var a = new OnnxAttributeProto();
        while (r.TryReadKey(out int field, out var wire))
        {
            switch (field)
            {
                case 1: a.Name = r.ReadString(wire, "name"); break;
                case 2: a.F = r.ReadFloat(wire, "f"); break;
                case 3: a.I = r.ReadInt64(wire, "i"); break;
                case 4: a.S = r.ReadString(wire, "s"); break;
                case 5:
                    var t = r.ReadMessage(wire, "t", "TensorProto");
                    a.T = OnnxTensorProto.Parse(ref t);
                    break;
                case 7: r.ReadRepeatedFloat(wire, "floats", a.Floats); break;
                case 8: r.ReadRepeatedInt64(wire, "ints", a.Ints); break;
                case 9: a.Strings.Add(r.ReadString(wire, "strings")); break;
                case 20: a.Type = (OnnxAttributeType)r.ReadInt32(wire, "type"); break;
                case 21: a.RefAttrName = r.ReadString(wire, "ref_attr_name"); break;
                case 6 or 10 or 11 or 14 or 15 or 22 or 23:
                    r.Skip(field, wire);
                    a.OtherValues++;
                    break;
                default: r.Skip(field, wire); break;
            }
        }

        return a;
    }

    public void Write(ProtoWriter w)
    {
        w.WriteStringField(1, Name);
        switch (Type)
        {
            case OnnxAttributeType.Float: w.WriteFloatField(2, F); break;
            case OnnxAttributeType.Int: w.WriteVarintField(3, I); break;
            case OnnxAttributeType.String: w.WriteStringField(4, S); break;
            case OnnxAttributeType.Tensor: w.WriteMessageField(5, T!.Write); break;
            case OnnxAttributeType.Floats: w.WritePackedFloat(7, Floats); break;
            case OnnxAttributeType.Ints: w.WritePackedInt64(8, Ints); break;
            case OnnxAttributeType.Strings:
                foreach (string s in Strings)
                {
                    w.WriteStringField(9, s);
                }

                break;
            default: throw new InvalidOperationException($"attribute type {Type} is not written by this encoder");
        }

        w.WriteVarintField(20, (long)Type);
    }

    public static OnnxAttributeProto Int(string name, long value) => new() { Name = name, Type = OnnxAttributeType.Int, I = value };

    public static OnnxAttributeProto String(string name, string value) => new() { Name = name, Type = OnnxAttributeType.String, S = value };

    public static OnnxAttributeProto IntList(string name, params long[] values)
    {
        var a = new OnnxAttributeProto { Name = name, Type = OnnxAttributeType.Ints };
        a.Ints.AddRange(values);
        return a;
    }

    public static OnnxAttributeProto StringList(string name, params string[] values)
    {
        var a = new OnnxAttributeProto { Name = name, Type = OnnxAttributeType.Strings };
        a.Strings.AddRange(values);
        return a;
    }
}

/// <summary>TensorProto.DataType values used here.</summary>
internal enum OnnxDataType
{
    Undefined = 0,
    Float = 1,
    UInt8 = 2,
    Int8 = 3,
    Int32 = 6,
    Int64 = 7,
    Float16 = 10,
    Double = 11,
    BFloat16 = 16,
}

/// <summary>
/// TensorProto: dims 1, data_type 2, segment 3, float_data 4, int32_data 5, int64_data 7, name 8, raw_data 9,
/// double_data 10, external_data 13, data_location 14.
/// </summary>
internal sealed class OnnxTensorProto
{
    public List<long> Dims { get; } = [];

    public int DataType { get; set; }

    public string Name { get; set; } = string.Empty;

    public byte[]? RawData { get; set; }

    public List<float> FloatData { get; } = [];

    public List<long> Int32Data { get; } = [];

    public List<long> Int64Data { get; } = [];

    public List<double> DoubleData { get; } = [];

    public bool HasSegment { get; set; }

    public bool IsExternal { get; set; }

    public static OnnxTensorProto Parse(ref ProtoReader r)
    {
        var t = new OnnxTensorProto();
        while (r.TryReadKey(out int field, out var wire))
        {
            switch (field)
            {
                case 1: r.ReadRepeatedInt64(wire, "dims", t.Dims); break;
                case 2: t.DataType = r.ReadInt32(wire, "data_type"); break;
                case 3:
                    r.Skip(field, wire);
                    t.HasSegment = true;
                    break;
                case 4: r.ReadRepeatedFloat(wire, "float_data", t.FloatData); break;
                case 5: r.ReadRepeatedInt64(wire, "int32_data", t.Int32Data); break;
                case 7: r.ReadRepeatedInt64(wire, "int64_data", t.Int64Data); break;
                case 8: t.Name = r.ReadString(wire, "name"); break;
                case 9: t.RawData = r.ReadBytes(wire, "raw_data").ToArray(); break;
                case 10: r.ReadRepeatedDouble(wire, "double_data", t.DoubleData); break;
                case 13:
                    r.Skip(field, wire);
                    t.IsExternal = true;
                    break;
                case 14: t.IsExternal |= r.ReadInt32(wire, "data_location") == 1; break;
                default: r.Skip(field, wire); break;
            }
        }

        return t;
    }

    public void Write(ProtoWriter w)
    {
        w.WritePackedInt64(1, Dims);
        w.WriteVarintField(2, DataType);
        if (Name.Length > 0)
        {
            w.WriteStringField(8, Name);
        }

        if (RawData is not null)
        {
            w.WriteBytesField(9, RawData);
        }

        if (IsExternal)
        {
            w.WriteVarintField(14, 1);
        }
    }

    /// <summary>A float32 tensor stored as little-endian raw_data.</summary>
    public static OnnxTensorProto FromSingles(string name, long[] dims, ReadOnlySpan<double> values)
    {
        var raw = new byte[values.Length * 4];
        for (int i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(raw.AsSpan(i * 4), (float)values[i]);
        }

        var t = new OnnxTensorProto { Name = name, DataType = (int)OnnxDataType.Float, RawData = raw };
        t.Dims.AddRange(dims);
        return t;
    }

    /// <summary>An int64 tensor stored as little-endian raw_data.</summary>
    public static OnnxTensorProto FromInt64s(string name, long[] dims, ReadOnlySpan<long> values)
    {
        var raw = new byte[values.Length * 8];
        for (int i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteInt64LittleEndian(raw.AsSpan(i * 8), values[i]);
        }

        var t = new OnnxTensorProto { Name = name, DataType = (int)OnnxDataType.Int64, RawData = raw };
        t.Dims.AddRange(dims);
        return t;
    }
}

/// <summary>
/// ValueInfoProto (name 1, type 2) with TypeProto.tensor_type (1) → elem_type 1, shape 2 → TensorShapeProto.dim 1 →
/// dim_value 1 | dim_param 2. Non-tensor types leave <see cref="ElemType"/> 0 and <see cref="Dims"/> null.
/// </summary>
internal sealed class OnnxValueInfoProto
{
    public string Name { get; set; } = string.Empty;

    public int ElemType { get; set; }

    /// <summary>Per dimension a fixed size or a symbolic name (null when the shape is unknown).</summary>
    public List<(long? Value, string? Param)>? Dims { get; set; }

    public static OnnxValueInfoProto Parse(ref ProtoReader r)
    {
        var v = new OnnxValueInfoProto();
        while (r.TryReadKey(out int field, out var wire))
        {
            switch (field)
            {
                case 1: v.Name = r.ReadString(wire, "name"); break;
                case 2:
                    var type = r.ReadMessage(wire, "type", "TypeProto");
                    ParseType(ref type, v);
                    break;
                default: r.Skip(field, wire); break;
            }
        }

        return v;
    }

    private static void ParseType(ref ProtoReader r, OnnxValueInfoProto v)
    {
        while (r.TryReadKey(out int field, out var wire))
        {
            if (field != 1)
            {
                r.Skip(field, wire);
                continue;
            }

            var tensor = r.ReadMessage(wire, "tensor_type", "TypeProto.Tensor");
            while (tensor.TryReadKey(out int tf, out var tw))
            {
                if (tf == 1)
                {
                    v.ElemType = tensor.ReadInt32(tw, "elem_type");
                }
                else if (tf == 2)
                {
                    v.Dims = [];
                    var shape = tensor.ReadMessage(tw, "shape", "TensorShapeProto");
                    while (shape.TryReadKey(out int sf, out var sw))
                    {
                        if (sf != 1)
                        {
                            shape.Skip(sf, sw);
                            continue;
                        }

                        var dim = shape.ReadMessage(sw, "dim", "TensorShapeProto.Dimension");
                        long? value = null;
                        string? param = null;
                        while (dim.TryReadKey(out int df, out var dw))
                        {
                            switch (df)
                            {
                                case 1: value = dim.ReadInt64(dw, "dim_value"); break;
                                case 2: param = dim.ReadString(dw, "dim_param"); break;
                                default: dim.Skip(df, dw); break;
                            }
                        }

                        v.Dims.Add((value, param));
                    }
                }
                else
                {
                    tensor.Skip(tf, tw);
                }
            }
        }
    }

    public void Write(ProtoWriter w)
    {
        w.WriteStringField(1, Name);
        w.WriteMessageField(2, type => type.WriteMessageField(1, tensor =>
        {
            tensor.WriteVarintField(1, ElemType);
            if (Dims is not null)
            {
                tensor.WriteMessageField(2, shape =>
                {
                    foreach (var (value, param) in Dims)
                    {
                        shape.WriteMessageField(1, dim =>
                        {
                            if (value is long v)
                            {
                                dim.WriteVarintField(1, v);
                            }
                            else if (param is not null)
                            {
                                dim.WriteStringField(2, param);
                            }
                        });
                    }
                });
            }
        }));
    }

    public static OnnxValueInfoProto Tensor(string name, OnnxDataType type, params object[] dims) => new()
    {
        Name = name,
        ElemType = (int)type,
        Dims = dims.Select(d => d is string s ? ((long?)null, (string?)s) : ((long?)Convert.ToInt64(d, System.Globalization.CultureInfo.InvariantCulture), (string?)null)).ToList(),
    };
}
