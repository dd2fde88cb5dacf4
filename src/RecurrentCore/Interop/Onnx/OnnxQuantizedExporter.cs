namespace RecurrentCore.Interop.Onnx;

/// <summary>
/// ONNX export of a quantized layer stack. An int8 LSTM becomes ONNX Runtime's <c>com.microsoft.DynamicQuantizeLSTM</c>
/// per layer, in the graph <see cref="OnnxExporter"/> builds for the float layer (same inputs, outputs, transposes,
/// state slices and head): W (1, I, 4H) and R (1, H, 4H) int8, transposed and in ONNX gate order (i, o, f, c), with
/// the layer's own per-row scales as per-column W_scale / R_scale (1, 4H) and zero points 0; B as the float LSTM's.
/// The weights are exactly those the layer computes with; ONNX Runtime quantizes the activations its own way (see
/// docs/onnx.md). float32 stacks export as the float graph; bf16 stacks and int8 GRU/RNN are refused: ONNX Runtime has no
/// operator that computes them as stored.
/// </summary>
internal static class OnnxQuantizedExporter
{
    /// <summary>The domain of ONNX Runtime's contrib operators.</summary>
    public const string MicrosoftDomain = "com.microsoft";

    /// <exception cref="NotSupportedException">bf16 weights, or int8 weights of a GRU or RNN.</exception>
    /// <exception cref="ArgumentException">The options are out of range (as <see cref="OnnxExporter.Build"/>).</exception>
    public static OnnxModelProto Build(QuantizedStackData stack, OnnxExportOptions options)
    {
        var cfg = stack.Config;
        if (stack.Format == WeightFormat.BFloat16)
        {
            throw new NotSupportedException(
                "bf16 weights cannot be exported to ONNX as computed: ONNX's RNN, LSTM and GRU take float32 weights and ONNX Runtime has no bf16 recurrent kernel; export the float32 model, or int8 (LSTM only)");
        }

        if (stack.Format == WeightFormat.Int8 && cfg.Cell != CellKind.Lstm)
        {
            throw new NotSupportedException(
                $"an int8 {cfg.Cell.Name()} cannot be exported to ONNX: ONNX Runtime's only quantized recurrent operator is com.microsoft.DynamicQuantizeLSTM (LSTM); export the float32 model");
        }

        var model = OnnxExporter.Build(Dequantize(stack), options);
        if (stack.Format == WeightFormat.Float32)
        {
            return model;
        }

        var g = model.Graph!;
        int h = cfg.HiddenSize, gh = 4 * h;
        for (int layer = 0; layer < stack.Layers.Count; layer++)
        {
            string suffix = $"_l{layer}";
            var node = g.Nodes.Single(n => n.OpType == "LSTM" && n.Name == "lstm" + suffix);
            var data = stack.Layers[layer];
            g.Initializers.RemoveAll(t => t.Name == "W" + suffix || t.Name == "R" + suffix);
            AddWeights(g, "W" + suffix, data.Ih);
            AddWeights(g, "R" + suffix, data.Hh);

            // DynamicQuantizeLSTM's inputs: X, W, R, B, sequence_lens, initial_h, initial_c, P, then the scales and zero points.
            var inputs = new List<string>(node.Inputs);
            while (inputs.Count < 8)
            {
                inputs.Add(string.Empty);
            }

            inputs.AddRange(["W" + suffix + "_scale", "W" + suffix + "_zero_point", "R" + suffix + "_scale", "R" + suffix + "_zero_point"]);
            node.Inputs.Clear();
            node.Inputs.AddRange(inputs);
            node.OpType = "DynamicQuantizeLSTM";
            node.Domain = MicrosoftDomain;
            node.Name = "lstm_int8" + suffix;
            g.Initializers.Add(new OnnxTensorProto { Name = "W" + suffix + "_zero_point", DataType = (int)OnnxDataType.Int8, RawData = new byte[gh], Dims = { 1, gh } });
            g.Initializers.Add(new OnnxTensorProto { Name = "R" + suffix + "_zero_point", DataType = (int)OnnxDataType.Int8, RawData = new byte[gh], Dims = { 1, gh } });
        }

        model.OpsetImports.Add(new OnnxOpsetId(MicrosoftDomain, 1));
        return model;
    }

    /// <summary>
    /// PyTorch (4H, K) int8 rows (gates i, f, g, o) as the op's (1, K, 4H) in ONNX gate order, and the rows' scales as
    /// (1, 4H) in the same column order.
    /// </summary>
    private static void AddWeights(OnnxGraphProto g, string name, QuantizedMatrixData m)
    {
        var blocks = OnnxGateOrder.OnnxToPyTorchBlocks(CellKind.Lstm);
        int h = m.Rows / 4, k = m.Columns, cols = m.Rows;
        var q = new byte[k * cols];
        var scales = new double[cols];
        for (int j = 0; j < cols; j++)
        {
            int row = (blocks[j / h] * h) + (j % h);
            scales[j] = m.Scales[row];
            for (int c = 0; c < k; c++)
            {
                q[(c * cols) + j] = (byte)m.Int8[(row * k) + c];
            }
        }

        var t = new OnnxTensorProto { Name = name, DataType = (int)OnnxDataType.Int8, RawData = q };
        t.Dims.AddRange([1, k, cols]);
        g.Initializers.Add(t);
        g.Initializers.Add(OnnxTensorProto.FromSingles(name + "_scale", [1, cols], scales));
    }

    /// <summary>The parameters the stack computes with (float32 values, or q·s), as <see cref="OnnxExporter"/> takes them.</summary>
    private static RecurrentParameters Dequantize(QuantizedStackData stack)
    {
        var p = new RecurrentParameters(stack.Config);
        for (int l = 0; l < stack.Layers.Count; l++)
        {
            var d = stack.Layers[l];
            Fill(p[l, 0, ParameterKind.WeightIh], d.Ih);
            Fill(p[l, 0, ParameterKind.WeightHh], d.Hh);
            if (stack.Config.Bias)
            {
                Array.ConvertAll(d.BiasIh, v => (double)v).CopyTo(p[l, 0, ParameterKind.BiasIh], 0);
                Array.ConvertAll(d.BiasHh, v => (double)v).CopyTo(p[l, 0, ParameterKind.BiasHh], 0);
            }
        }

        return p;
    }

    private static void Fill(double[] dst, QuantizedMatrixData m)
    {
        for (int i = 0; i < dst.Length; i++)
        {
            dst[i] = m.Format == WeightFormat.Float32 ? m.Float32[i] : (double)m.Int8[i] * m.Scales[i / m.Columns];
        }
    }
}
