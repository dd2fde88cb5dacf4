using System.Text;

namespace RecurrentCore.Peers;

/// <summary>
/// An ONNX model with one com.microsoft DynamicQuantizeLSTM node (ONNX Runtime's contrib op, what
/// onnxruntime.quantization.quantize_dynamic makes of an LSTM) on the scenario's weights: W and R int8, transposed to
/// [1, I, 4H] and [1, H, 4H] as the op expects, gates in ONNX order (i, o, f, c); symmetric per output column
/// (per-channel) scales s_j = max_k |W[j, k]| / 127 and zero points 0 (int8), shape [1, 4H]; bias [1, 8H] float32 as
/// the standard LSTM's. ORT quantizes X and h to uint8 per call, dynamically, and multiplies u8 × s8 into int32.
/// Inputs and outputs carry the names of <c>OnnxModel.Names</c> (input, h0, c0; output [T, 1, B, H], h_n, c_n).
/// </summary>
internal static class QuantizedLstmModel
{
    /// <summary>Int8 levels on each side of zero.</summary>
    public const int Levels = 127;

    public static byte[] Build(ScenarioData data, bool initialStates)
    {
        ArgumentNullException.ThrowIfNull(data);
        var s = data.Scenario;
        if (s.Cell != CellKind.Lstm)
        {
            throw new NotSupportedException("DynamicQuantizeLSTM is an LSTM");
        }

        int h = s.Hidden, i = s.Input, t = s.Mode == PeerMode.Step ? 1 : s.SeqLen, b = s.Batch;
        int[] onnxFromTorch = [0, 3, 1, 2]; // ONNX gate g (i, o, f, c) is PyTorch gate onnxFromTorch[g] (i, f, g, o)
        var (wq, ws) = Quantize(data.Single(ParameterKind.WeightIh), h, i, onnxFromTorch);
        var (rq, rs) = Quantize(data.Single(ParameterKind.WeightHh), h, h, onnxFromTorch);
        var bih = data.Single(ParameterKind.BiasIh);
        var bhh = data.Single(ParameterKind.BiasHh);
        var bias = new float[8 * h];
        for (int g = 0; g < 4; g++)
        {
            Array.Copy(bih, onnxFromTorch[g] * h, bias, g * h, h);
            Array.Copy(bhh, onnxFromTorch[g] * h, bias, (4 + g) * h, h);
        }

        var graph = new ProtoWriter();
        var node = new ProtoWriter();
        foreach (string input in new[]
        {
            Names.Input, "W", "R", "B", string.Empty,
            initialStates ? Names.InitialH : string.Empty, initialStates ? Names.InitialC : string.Empty, string.Empty,
            "W_scale", "W_zero_point", "R_scale", "R_zero_point",
        })
        {
            node.String(1, input);
        }

        node.String(2, Names.Output).String(2, Names.HN).String(2, Names.CN);
        node.String(3, "lstm_quant").String(4, "DynamicQuantizeLSTM").String(7, "com.microsoft");
        node.Message(5, new ProtoWriter().String(1, "hidden_size").Varint(3, h).Varint(20, 2)); // AttributeProto INT
        node.Message(5, new ProtoWriter().String(1, "direction").Bytes(4, Encoding.UTF8.GetBytes("forward")).Varint(20, 3)); // STRING
        graph.Message(1, node).String(2, "lstm_dynamic_quantize");
        graph.Message(5, Tensor("W", [1, i, 4 * h], DataType.Int8, wq));
        graph.Message(5, Tensor("R", [1, h, 4 * h], DataType.Int8, rq));
        graph.Message(5, Tensor("B", [1, 8 * h], DataType.Float, Floats(bias)));
        graph.Message(5, Tensor("W_scale", [1, 4 * h], DataType.Float, Floats(ws)));
        graph.Message(5, Tensor("W_zero_point", [1, 4 * h], DataType.Int8, new byte[4 * h]));
        graph.Message(5, Tensor("R_scale", [1, 4 * h], DataType.Float, Floats(rs)));
        graph.Message(5, Tensor("R_zero_point", [1, 4 * h], DataType.Int8, new byte[4 * h]));
        graph.Message(11, ValueInfo(Names.Input, [t, b, i]));
        if (initialStates)
        {
            graph.Message(11, ValueInfo(Names.InitialH, [1, b, h]));
            graph.Message(11, ValueInfo(Names.InitialC, [1, b, h]));
        }

        graph.Message(12, ValueInfo(Names.Output, [t, 1, b, h]));
        graph.Message(12, ValueInfo(Names.HN, [1, b, h]));
        graph.Message(12, ValueInfo(Names.CN, [1, b, h]));

        var model = new ProtoWriter();
        model.Varint(1, 8).String(2, "RecurrentCore.Peers");
        model.Message(7, graph);
        model.Message(8, new ProtoWriter().String(1, string.Empty).Varint(2, 14));
        model.Message(8, new ProtoWriter().String(1, "com.microsoft").Varint(2, 1));
        return model.ToArray();
    }

    /// <summary>
    /// PyTorch [4H, In] (gates i, f, g, o) to the op's [In, 4H] int8 in ONNX gate order, one symmetric scale per
    /// output column j: q = round(w / s_j), s_j = max |w[j, ·]| / 127.
    /// </summary>
    public static (byte[] Quantized, float[] Scales) Quantize(float[] w, int hidden, int inputs, int[] onnxFromTorch)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(onnxFromTorch);
        int cols = 4 * hidden;
        var q = new byte[inputs * cols];
        var scales = new float[cols];
        for (int j = 0; j < cols; j++)
        {
            int row = (onnxFromTorch[j / hidden] * hidden) + (j % hidden);
            float max = 0;
            for (int k = 0; k < inputs; k++)
            {
                max = Math.Max(max, Math.Abs(w[(row * inputs) + k]));
            }

            float scale = max > 0 ? max / Levels : 1f;
            scales[j] = scale;
            for (int k = 0; k < inputs; k++)
            {
                int v = (int)Math.Round(w[(row * inputs) + k] / scale, MidpointRounding.ToEven);
                q[(k * cols) + j] = (byte)(sbyte)Math.Clamp(v, -Levels, Levels);
            }
        }

        return (q, scales);
    }

    private static byte[] Floats(float[] v)
    {
        var bytes = new byte[v.Length * 4];
        Buffer.BlockCopy(v, 0, bytes, 0, bytes.Length);
        return bytes;
    }

    private static ProtoWriter Tensor(string name, long[] dims, DataType type, byte[] raw)
    {
        var t = new ProtoWriter();
        foreach (long d in dims)
        {
            t.Varint(1, d);
        }

        return t.Varint(2, (long)type).String(8, name).Bytes(9, raw);
    }

    private static ProtoWriter ValueInfo(string name, long[] dims)
    {
        var shape = new ProtoWriter();
        foreach (long d in dims)
        {
            shape.Message(1, new ProtoWriter().Varint(1, d));
        }

        var tensor = new ProtoWriter().Varint(1, (long)DataType.Float).Message(2, shape);
        return new ProtoWriter().String(1, name).Message(2, new ProtoWriter().Message(1, tensor));
    }

    /// <summary>The exported float model's value names (<c>OnnxModel.Names</c>), repeated so this file needs no interop type.</summary>
    public static class Names
    {
        public const string Input = "input";
        public const string InitialH = "h0";
        public const string InitialC = "c0";
        public const string Output = "output";
        public const string HN = "h_n";
        public const string CN = "c_n";
    }

    private enum DataType
    {
        Float = 1,
        Int8 = 3,
    }
}

/// <summary>A minimal protobuf encoder (varints, length-delimited fields): enough for one ONNX graph.</summary>
internal sealed class ProtoWriter
{
    private readonly List<byte> _bytes = [];

    public ProtoWriter Varint(int field, long value)
    {
        Tag(field, 0);
        Raw((ulong)value);
        return this;
    }

    public ProtoWriter Bytes(int field, ReadOnlySpan<byte> value)
    {
        Tag(field, 2);
        Raw((ulong)value.Length);
        _bytes.AddRange(value);
        return this;
    }

    public ProtoWriter String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

    public ProtoWriter Message(int field, ProtoWriter message)
    {
        ArgumentNullException.ThrowIfNull(message);
        return Bytes(field, message.ToArray());
    }

    public byte[] ToArray() => [.. _bytes];

    private void Tag(int field, int wire) => Raw(((ulong)field << 3) | (uint)wire);

    private void Raw(ulong v)
    {
        while (v >= 0x80)
        {
            _bytes.Add((byte)(v | 0x80));
            v >>= 7;
        }

        _bytes.Add((byte)v);
    }
}
