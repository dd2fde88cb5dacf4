using static RecurrentCore.Interop.Onnx.OnnxModel;

namespace RecurrentCore.Interop.Onnx;

/// <summary>
/// Builds the ONNX graph of a layer stack:
/// <code>
/// input ─[Transpose 1,0,2 if batch-first]→ X_l0 ─LSTM/GRU/RNN→ Y_l0 (T, D, B, H) ─Transpose 0,2,1,3→ (T, B, D, H)
///       ─Reshape (0, 0, −1)→ X_l1 (T, B, D·H) ─ … ─→ output [─Transpose 1,0,2 if batch-first]
/// h0 (L·D, B, H) ─Slice [k·D, (k+1)·D)→ initial_h of layer k;   Y_h of every layer ─Concat axis 0→ h_n
/// </code>
/// With <see cref="OnnxExportOptions.Reverse"/> every node of a unidirectional stack is direction = reverse: the
/// parameters' direction-0 tensors are the reverse layer's weights.
/// </summary>
internal static class OnnxExporter
{
    public static OnnxModelProto Build(RecurrentParameters p, OnnxExportOptions options)
    {
        var cfg = p.Config;
        if (options.Opset is < 14 or > 21)
        {
            throw new ArgumentException($"opset {options.Opset} is outside the supported 14..21", nameof(options));
        }

        if (cfg.ProjSize != 0)
        {
            throw new ArgumentException($"ONNX's LSTM has no projection (proj_size = {cfg.ProjSize}, weight_hr_l{{k}}); such a model cannot be exported", nameof(p));
        }

        if (options.Reverse && cfg.Bidirectional)
        {
            throw new ArgumentException("Reverse writes every layer with direction = reverse; a bidirectional stack already has its reverse direction", nameof(options));
        }

        if (!cfg.LinearBeforeReset && cfg.Cell != CellKind.Gru)
        {
            throw new ArgumentException("LinearBeforeReset = false is only defined for GRU", nameof(p));
        }

        int layers = cfg.NumLayers, d = cfg.NumDirections, h = cfg.HiddenSize;
        bool lstm = cfg.Cell == CellKind.Lstm;
        var g = new OnnxGraphProto { Name = $"recurrentcore_{cfg.Cell.Name().Replace('-', '_')}" };
        const string seq = "seq", batch = "batch";

        g.Inputs.Add(cfg.BatchFirst
            ? OnnxValueInfoProto.Tensor(Names.Input, OnnxDataType.Float, batch, seq, cfg.InputSize)
            : OnnxValueInfoProto.Tensor(Names.Input, OnnxDataType.Float, seq, batch, cfg.InputSize));
        if (options.SequenceLens)
        {
            g.Inputs.Add(OnnxValueInfoProto.Tensor(Names.SequenceLens, OnnxDataType.Int32, batch));
        }

        if (options.InitialStates)
        {
            g.Inputs.Add(OnnxValueInfoProto.Tensor(Names.InitialH, OnnxDataType.Float, layers * d, batch, h));
            if (lstm)
            {
                g.Inputs.Add(OnnxValueInfoProto.Tensor(Names.InitialC, OnnxDataType.Float, layers * d, batch, h));
            }
        }

        g.Outputs.Add(cfg.BatchFirst
            ? OnnxValueInfoProto.Tensor(Names.Output, OnnxDataType.Float, batch, seq, d * h)
            : OnnxValueInfoProto.Tensor(Names.Output, OnnxDataType.Float, seq, batch, d * h));
        g.Outputs.Add(OnnxValueInfoProto.Tensor(Names.HN, OnnxDataType.Float, layers * d, batch, h));
        if (lstm)
        {
            g.Outputs.Add(OnnxValueInfoProto.Tensor(Names.CN, OnnxDataType.Float, layers * d, batch, h));
        }

        string x = Names.Input;
        if (cfg.BatchFirst)
        {
            g.Nodes.Add(Node("Transpose", "input_to_time_major", [x], ["input_time_major"], OnnxAttributeProto.IntList("perm", 1, 0, 2)));
            x = "input_time_major";
        }

        g.Initializers.Add(OnnxTensorProto.FromInt64s("flatten_directions_shape", [3], [0, 0, -1]));
        if (options.InitialStates && layers > 1)
        {
            g.Initializers.Add(OnnxTensorProto.FromInt64s("state_axes", [1], [0]));
        }

        string op = cfg.Cell switch
        {
            CellKind.Lstm => "LSTM",
            CellKind.Gru => "GRU",
            _ => "RNN",
        };
        int gh = cfg.GateCount * h;
        var yh = new List<string>();
        var yc = new List<string>();
        for (int layer = 0; layer < layers; layer++)
        {
            string suffix = $"_l{layer}";
            var (w, r, b) = OnnxGateOrder.LayerToOnnx(p, layer);
            g.Initializers.Add(OnnxTensorProto.FromSingles("W" + suffix, [d, gh, cfg.LayerInputSize(layer)], w));
            g.Initializers.Add(OnnxTensorProto.FromSingles("R" + suffix, [d, gh, h], r));
            if (b is not null)
            {
                g.Initializers.Add(OnnxTensorProto.FromSingles("B" + suffix, [d, 2 * gh], b));
            }

            string initialH = string.Empty, initialC = string.Empty;
            if (options.InitialStates)
            {
                initialH = StateSlice(g, Names.InitialH, layer, layers, d);
                initialC = lstm ? StateSlice(g, Names.InitialC, layer, layers, d) : string.Empty;
            }

            var inputs = new List<string> { x, "W" + suffix, "R" + suffix, b is null ? string.Empty : "B" + suffix, options.SequenceLens ? Names.SequenceLens : string.Empty, initialH };
            if (lstm)
            {
                inputs.Add(initialC);
            }

            while (inputs[^1].Length == 0)
            {
                inputs.RemoveAt(inputs.Count - 1);
            }

            string hOut = layers == 1 ? Names.HN : "Y_h" + suffix;
            string cOut = layers == 1 ? Names.CN : "Y_c" + suffix;
            var outputs = new List<string> { "Y" + suffix, hOut };
            if (lstm)
            {
                outputs.Add(cOut);
            }

            yh.Add(hOut);
            yc.Add(cOut);
            var node = Node(op, op.ToLowerInvariant() + suffix, inputs, outputs);
            node.Attributes.Add(OnnxAttributeProto.String("direction", cfg.Bidirectional ? "bidirectional" : options.Reverse ? "reverse" : "forward"));
            node.Attributes.Add(OnnxAttributeProto.Int("hidden_size", h));
            if (cfg.Cell == CellKind.Gru)
            {
                node.Attributes.Add(OnnxAttributeProto.Int("linear_before_reset", cfg.LinearBeforeReset ? 1 : 0));
            }
            else if (cfg.Cell == CellKind.RnnRelu)
            {
                node.Attributes.Add(OnnxAttributeProto.StringList("activations", [.. Enumerable.Repeat("Relu", d)]));
            }

            g.Nodes.Add(node);

            bool last = layer == layers - 1;
            string flat = last ? (cfg.BatchFirst ? "output_time_major" : Names.Output) : $"X_l{layer + 1}";
            g.Nodes.Add(Node("Transpose", $"transpose{suffix}", ["Y" + suffix], ["Y_tbdh" + suffix], OnnxAttributeProto.IntList("perm", 0, 2, 1, 3)));
            g.Nodes.Add(Node("Reshape", $"flatten{suffix}", ["Y_tbdh" + suffix, "flatten_directions_shape"], [flat]));
            x = flat;
        }

        if (cfg.BatchFirst)
        {
            g.Nodes.Add(Node("Transpose", "output_to_batch_major", [x], [Names.Output], OnnxAttributeProto.IntList("perm", 1, 0, 2)));
        }

        if (layers > 1)
        {
            g.Nodes.Add(Node("Concat", "concat_h_n", yh, [Names.HN], OnnxAttributeProto.Int("axis", 0)));
            if (lstm)
            {
                g.Nodes.Add(Node("Concat", "concat_c_n", yc, [Names.CN], OnnxAttributeProto.Int("axis", 0)));
            }
        }

        if (options.Head is { } head)
        {
            AddHead(g, cfg, head, layers > 1 ? "Y_h" + $"_l{layers - 1}" : Names.HN);
        }

        var model = new OnnxModelProto { IrVersion = 8, ProducerName = options.ProducerName, ProducerVersion = "1", Graph = g };
        model.OpsetImports.Add(new OnnxOpsetId(string.Empty, options.Opset));
        return model;
    }

    /// <summary>
    /// head = act(MatMul(output, Wᵀ) + b) on every step, or act(Gemm(state, W, b, transB = 1)) on the last layer's Y_h
    /// (D, B, H) → Transpose (B, D, H) → Reshape (B, D·H).
    /// </summary>
    private static void AddHead(OnnxGraphProto g, RecurrentConfig cfg, OnnxLinearHead head, string lastYh)
    {
        int f = head.OutputSize, k = cfg.OutputSize;
        if (f < 1 || head.Weight is null || head.Weight.Length != f * k || (head.Bias is not null && head.Bias.Length != f))
        {
            throw new ArgumentException($"the head needs a ({f}, {k}) weight and a ({f}) bias or none; it has {head.Weight?.Length ?? 0} and {head.Bias?.Length.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "no"} values", nameof(head));
        }

        string pre = head.Activation == OnnxHeadActivation.None ? Names.Head : "head_linear";
        if (head.Input == OnnxHeadInput.FinalState)
        {
            g.Initializers.Add(OnnxTensorProto.FromSingles("head_weight", [f, k], head.Weight));
            g.Initializers.Add(OnnxTensorProto.FromInt64s("head_state_shape", [2], [0, -1]));
            g.Nodes.Add(Node("Transpose", "head_state_batch_major", [lastYh], ["head_state_bdh"], OnnxAttributeProto.IntList("perm", 1, 0, 2)));
            g.Nodes.Add(Node("Reshape", "head_state_flatten", ["head_state_bdh", "head_state_shape"], ["head_state"]));
            var inputs = new List<string> { "head_state", "head_weight" };
            if (head.Bias is not null)
            {
                g.Initializers.Add(OnnxTensorProto.FromSingles("head_bias", [f], head.Bias));
                inputs.Add("head_bias");
            }

            g.Nodes.Add(Node("Gemm", "head_gemm", inputs, [pre], OnnxAttributeProto.Int("transB", 1)));
            g.Outputs.Add(OnnxValueInfoProto.Tensor(Names.Head, OnnxDataType.Float, "batch", f));
        }
        else
        {
            var wt = new double[k * f];
            for (int r = 0; r < f; r++)
            {
                for (int c = 0; c < k; c++)
                {
                    wt[(c * f) + r] = head.Weight[(r * k) + c];
                }
            }

            g.Initializers.Add(OnnxTensorProto.FromSingles("head_weight_t", [k, f], wt));
            string mm = head.Bias is null ? pre : "head_matmul";
            g.Nodes.Add(Node("MatMul", "head_matmul", [Names.Output, "head_weight_t"], [mm]));
            if (head.Bias is not null)
            {
                g.Initializers.Add(OnnxTensorProto.FromSingles("head_bias", [f], head.Bias));
                g.Nodes.Add(Node("Add", "head_add", [mm, "head_bias"], [pre]));
            }

            g.Outputs.Add(cfg.BatchFirst
                ? OnnxValueInfoProto.Tensor(Names.Head, OnnxDataType.Float, "batch", "seq", f)
                : OnnxValueInfoProto.Tensor(Names.Head, OnnxDataType.Float, "seq", "batch", f));
        }

        if (head.Activation != OnnxHeadActivation.None)
        {
            var act = Node(head.Activation.ToString(), "head_activation", [pre], [Names.Head]);
            if (head.Activation == OnnxHeadActivation.Softmax)
            {
                act.Attributes.Add(OnnxAttributeProto.Int("axis", -1));
            }

            g.Nodes.Add(act);
        }
    }

    /// <summary>Layer <paramref name="layer"/>'s (D, B, H) rows of a (L·D, B, H) state input (the input itself when L = 1).</summary>
    private static string StateSlice(OnnxGraphProto g, string state, int layer, int layers, int d)
    {
        if (layers == 1)
        {
            return state;
        }

        string starts = $"state_start_l{layer}", ends = $"state_end_l{layer}", sliced = $"{state}_l{layer}";
        if (!g.Initializers.Any(t => t.Name == starts))
        {
            g.Initializers.Add(OnnxTensorProto.FromInt64s(starts, [1], [layer * d]));
            g.Initializers.Add(OnnxTensorProto.FromInt64s(ends, [1], [(layer + 1) * d]));
        }

        g.Nodes.Add(Node("Slice", $"slice_{state}_l{layer}", [state, starts, ends, "state_axes"], [sliced]));
        return sliced;
    }

    private static OnnxNodeProto Node(string op, string name, IEnumerable<string> inputs, IEnumerable<string> outputs, params OnnxAttributeProto[] attributes)
    {
        var n = new OnnxNodeProto { OpType = op, Name = name };
        n.Inputs.AddRange(inputs);
        n.Outputs.AddRange(outputs);
        n.Attributes.AddRange(attributes);
        return n;
    }
}
