using System.Globalization;
using RecurrentCore.Reference;

namespace RecurrentCore.Interop.Onnx;

/// <summary>
/// Turns the RNN/LSTM/GRU nodes of a parsed model into a configuration and PyTorch-layout parameters, refusing
/// everything PyTorch semantics cannot express (see docs/onnx.md).
/// </summary>
internal static class OnnxImporter
{
    private const string Load = "; OnnxModel.Load runs it";

    /// <summary>Nodes that only move, slice or build shapes and states around the recurrent nodes.</summary>
    private static readonly HashSet<string> GlueOps = new(StringComparer.Ordinal)
    {
        "Transpose", "Reshape", "Squeeze", "Unsqueeze", "Identity", "Slice", "Gather", "Concat", "Shape", "ConstantOfShape", "Expand", "Cast", "Constant",
    };

    private static readonly HashSet<string> ShapeOps = new(StringComparer.Ordinal) { "Transpose", "Reshape", "Squeeze", "Unsqueeze", "Identity" };

    public static OnnxImportResult Import(OnnxModelProto model, string source)
    {
        var g = model.Graph ?? throw InteropFormatException.Create(source, "model has no graph (ModelProto.graph is missing)");
        long opset = model.OpsetImports.Where(o => o.Domain is "" or "ai.onnx").Select(o => o.Version).DefaultIfEmpty(-1).Max();
        if (opset < 0)
        {
            throw InteropFormatException.Create(source, "model imports no default-domain (ai.onnx) opset");
        }

        if (opset < 7)
        {
            throw InteropFormatException.Create(source, $"default-domain opset {opset} is older than 7, the first with today's RNN, LSTM and GRU");
        }

        var constants = new Dictionary<string, OnnxTensorProto>(StringComparer.Ordinal);
        foreach (var t in g.Initializers)
        {
            if (!constants.TryAdd(t.Name, t))
            {
                throw InteropFormatException.Create(source, $"initializer '{t.Name}' appears twice");
            }
        }

        var producers = new Dictionary<string, OnnxNodeProto>(StringComparer.Ordinal);
        foreach (var n in g.Nodes)
        {
            foreach (string output in n.Outputs.Where(o => o.Length > 0))
            {
                producers.TryAdd(output, n);
            }

            if (n.OpType == "Constant" && n.Domain is "" or "ai.onnx" && n.Outputs.Count == 1
                && n.Attributes.FirstOrDefault(a => a.Name == "value") is { T: { } value })
            {
                constants.TryAdd(n.Outputs[0], value);
            }
        }

        for (int i = 0; i < g.Nodes.Count; i++)
        {
            var n = g.Nodes[i];
            if (!OnnxRecurrentAttributes.IsRecurrent(n) && !(n.Domain is "" or "ai.onnx" && GlueOps.Contains(n.OpType)))
            {
                string label = n.Name.Length > 0 ? $"node '{n.Name}' ({n.OpType})" : $"node #{i} ({n.OpType})";
                throw InteropFormatException.Create(
                    source,
                    $"{label} is not part of a recurrent layer stack (a head or other computation): Import reads only the stack's weights and would drop it; OnnxModel.Load runs the whole graph");
            }
        }

        var nodes = g.Nodes.Where(OnnxRecurrentAttributes.IsRecurrent).ToList();
        if (nodes.Count == 0)
        {
            throw InteropFormatException.Create(source, "graph has no RNN, LSTM or GRU node");
        }

        var layers = new List<Layer>();
        foreach (var n in nodes)
        {
            layers.Add(ReadNode(n, layers.Count, g.Nodes.IndexOf(n), constants, source));
        }

        var first = layers[0];
        for (int k = 1; k < layers.Count; k++)
        {
            var l = layers[k];
            string what = $"{l.Label} (layer {k})";
            if (l.Cell != first.Cell)
            {
                throw InteropFormatException.Create(source, $"{what} is {Describe(l)} but layer 0 is {Describe(first)}; a layer stack has one cell kind");
            }

            if (l.Hidden != first.Hidden || l.Directions != first.Directions || l.Reverse != first.Reverse || l.LinearBeforeReset != first.LinearBeforeReset)
            {
                string attr = l.Hidden != first.Hidden ? $"hidden_size {l.Hidden} vs {first.Hidden}"
                    : l.Directions != first.Directions || l.Reverse != first.Reverse ? $"direction {DirectionName(l)} vs {DirectionName(first)}"
                    : $"linear_before_reset {(l.LinearBeforeReset ? 1 : 0)} vs {(first.LinearBeforeReset ? 1 : 0)}";
                throw InteropFormatException.Create(source, $"{what} differs from layer 0 in {attr}; every layer of a stack must agree");
            }

            if (l.InputSize != l.Directions * l.Hidden)
            {
                throw InteropFormatException.Create(source, $"{what} input 'W' has {l.InputSize} input features, expected D·H = {l.Directions * l.Hidden} (the previous layer's output)");
            }

            string prevY = layers[k - 1].Node.Outputs.Count > 0 ? layers[k - 1].Node.Outputs[0] : string.Empty;
            if (prevY.Length == 0 || Trace(l.Node.Inputs[0], producers, out _) != prevY)
            {
                throw InteropFormatException.Create(
                    source,
                    $"{what} input 'X' ('{l.Node.Inputs[0]}') is not computed from {layers[k - 1].Label}'s output 'Y' through shape-only nodes (Transpose, Reshape, Squeeze, Unsqueeze, Identity); only plain layer stacks are imported");
            }
        }

        Trace(first.Node.Inputs[0], producers, out int batchSwaps);
        var config = new RecurrentConfig(
            first.Cell,
            first.InputSize,
            first.Hidden,
            layers.Count,
            bias: layers.Any(l => l.B is not null),
            batchFirst: batchSwaps % 2 == 1,
            bidirectional: first.Directions == 2)
        {
            LinearBeforeReset = first.LinearBeforeReset,
        };
        var p = new RecurrentParameters(config);
        for (int k = 0; k < layers.Count; k++)
        {
            OnnxGateOrder.LayerFromOnnx(p, k, layers[k].W, layers[k].R, layers[k].B);
        }

        var initializerNames = new HashSet<string>(g.Initializers.Select(t => t.Name), StringComparer.Ordinal);
        var description = new OnnxModelDescription(
            source,
            model.IrVersion,
            opset,
            model.ProducerName,
            g.Inputs.Where(v => !initializerNames.Contains(v.Name)).Select(Describe).ToList(),
            g.Outputs.Select(Describe).ToList(),
            layers.Select((l, k) => new OnnxRecurrentNode(
                k, l.Node.Name, l.Node.OpType, DirectionName(l),
                l.Node.Inputs[0], l.Node.Inputs[1], l.Node.Inputs[2], Optional(l.Node.Inputs, 3), Optional(l.Node.Inputs, 4),
                Optional(l.Node.Inputs, 5), Optional(l.Node.Inputs, 6), Optional(l.Node.Outputs, 0), Optional(l.Node.Outputs, 1),
                Optional(l.Node.Outputs, 2))).ToList());
        return new OnnxImportResult(p, description) { Reverse = first.Reverse };
    }

    private sealed record Layer(OnnxNodeProto Node, string Label, CellKind Cell, int Directions, bool Reverse, int Hidden, int InputSize, bool LinearBeforeReset, double[] W, double[] R, double[]? B);

    private static Layer ReadNode(OnnxNodeProto n, int layer, int index, Dictionary<string, OnnxTensorProto> constants, string source)
    {
        string op = n.OpType;
        string label = n.Name.Length > 0 ? $"node '{n.Name}' ({op})" : $"node #{index} ({op})";
        string at = $"{label} (layer {layer})";
        InteropFormatException Fail(string problem) => InteropFormatException.Create(source, $"{at}: {problem}");

        int maxInputs = op == "LSTM" ? 8 : 6;
        if (n.Inputs.Count > maxInputs)
        {
            throw Fail($"has {n.Inputs.Count} inputs; {op} takes at most {maxInputs}");
        }

        if (n.Inputs.Count < 3 || n.Inputs[0].Length == 0 || n.Inputs[1].Length == 0 || n.Inputs[2].Length == 0)
        {
            throw Fail("inputs 'X', 'W' and 'R' are required");
        }

        if (op == "LSTM" && Optional(n.Inputs, 7) is { } peepholes)
        {
            throw Fail($"input 'P' ('{peepholes}', peephole weights) is not supported: PyTorch's LSTM has no peepholes{Load}");
        }

        // R first: the attributes' reader takes H from it when hidden_size is absent, and checks it when present.
        var r = Constant(n, 2, "R", constants, source, at);
        int? hiddenFromR = r.Dims.Count == 3 && r.Dims[2] >= 1 && r.Dims[2] <= int.MaxValue / 8 ? (int)r.Dims[2]
            : throw Fail($"input 'R' has dims {Dims(r.Dims)}, expected (D, G·H, H)");
        var spec = OnnxRecurrentAttributes.Read(n, hiddenFromR, Fail);
        if (spec.Layout != 0)
        {
            throw Fail($"attribute 'layout' = {spec.Layout} (batch-major X and Y) is not supported; use layout 0 with Transpose nodes (ONNX Runtime does not run layout 1 either){Load}");
        }

        if (OnnxRecurrentAttributes.PyTorchGap(spec, null) is { } gap)
        {
            string what = gap switch
            {
                "clip" => $"attribute 'clip' (cell clipping at {spec.Clip!.Value.ToString(CultureInfo.InvariantCulture)}) is not supported: PyTorch does not clip",
                "input_forget = 1" => "attribute 'input_forget' = 1 (coupled input and forget gates) is not supported: PyTorch's LSTM has none",
                _ => $"attribute 'activations' = [{string.Join(", ", spec.Activations)}] is not supported: {op} takes "
                    + (op == "RNN" ? "Tanh or Relu, the same in every direction" : $"only the default ({string.Join(", ", RecurrentOperatorSpec.DefaultActivations(spec.Kind, 1))}) per direction"),
            };
            throw Fail(what + Load);
        }

        var cell = OnnxRecurrentAttributes.PyTorchCell(spec)!.Value;
        int directions = spec.Directions, hidden = spec.HiddenSize;
        bool linearBeforeReset = spec.LinearBeforeReset;
        int gates = cell.GateCount();
        if (r.Dims.Count != 3 || r.Dims[0] != directions || r.Dims[1] != gates * r.Dims[2])
        {
            throw Fail($"input 'R' has dims {Dims(r.Dims)}, expected (D = {directions}, {gates}·H, H)");
        }

        var w = Constant(n, 1, "W", constants, source, at);
        if (w.Dims.Count != 3 || w.Dims[0] != directions || w.Dims[1] != gates * hidden || w.Dims[2] < 1 || w.Dims[2] > int.MaxValue)
        {
            throw Fail($"input 'W' has dims {Dims(w.Dims)}, expected (D = {directions}, {gates}·H = {gates * hidden}, input size)");
        }

        double[]? b = null;
        if (Optional(n.Inputs, 3) is not null)
        {
            var bt = Constant(n, 3, "B", constants, source, at);
            if (bt.Dims.Count != 2 || bt.Dims[0] != directions || bt.Dims[1] != 2 * gates * hidden)
            {
                throw Fail($"input 'B' has dims {Dims(bt.Dims)}, expected (D = {directions}, 2·{gates}·H = {2 * gates * hidden})");
            }

            b = OnnxTensorData.ToDoubles(bt, source, $"{at} input 'B' ('{n.Inputs[3]}')");
        }

        foreach (int state in op == "LSTM" ? new[] { 5, 6 } : [5])
        {
            string? name = Optional(n.Inputs, state);
            if (name is not null && constants.TryGetValue(name, out var init)
                && OnnxTensorData.ToDoubles(init, source, $"{at} input '{InputName(state)}' ('{name}')").Any(v => v != 0))
            {
                throw Fail($"input '{InputName(state)}' ('{name}') is a non-zero constant; initial states are run inputs here (h0, c0), so feed it at run time, or run the graph with OnnxModel.Load");
            }
        }

        return new Layer(
            n, label, cell, directions, spec.Direction == RecurrentDirection.Reverse, hidden, (int)w.Dims[2], cell == CellKind.Gru ? linearBeforeReset : true,
            OnnxTensorData.ToDoubles(w, source, $"{at} input 'W' ('{n.Inputs[1]}')"),
            OnnxTensorData.ToDoubles(r, source, $"{at} input 'R' ('{n.Inputs[2]}')"),
            b);
    }

    private static OnnxTensorProto Constant(OnnxNodeProto n, int index, string input, Dictionary<string, OnnxTensorProto> constants, string source, string at)
    {
        string name = n.Inputs[index];
        return constants.TryGetValue(name, out var t)
            ? t
            : throw InteropFormatException.Create(source, $"{at}: input '{input}' ('{name}') is not an initializer or Constant; only constant weights can be imported (OnnxModel.Load takes weights fed at run time)");
    }

    /// <summary>Follows shape-only producers back from <paramref name="value"/>, counting (1, 0, 2) transposes.</summary>
    private static string Trace(string value, Dictionary<string, OnnxNodeProto> producers, out int batchSwaps)
    {
        batchSwaps = 0;
        for (int hops = 0; hops < 64 && producers.TryGetValue(value, out var n) && ShapeOps.Contains(n.OpType) && n.Inputs.Count > 0; hops++)
        {
            if (n.OpType == "Transpose" && n.Attributes.FirstOrDefault(a => a.Name == "perm") is { } perm && perm.Ints.SequenceEqual([1L, 0L, 2L]))
            {
                batchSwaps++;
            }

            value = n.Inputs[0];
        }

        return value;
    }

    private static string InputName(int index) => index switch
    {
        4 => "sequence_lens",
        5 => "initial_h",
        6 => "initial_c",
        _ => index.ToString(CultureInfo.InvariantCulture),
    };

    private static string? Optional(List<string> names, int index) => index < names.Count && names[index].Length > 0 ? names[index] : null;

    private static string DirectionName(Layer l) => l.Directions == 2 ? "bidirectional" : l.Reverse ? "reverse" : "forward";

    private static string Describe(Layer l) => l.Cell.Name();

    private static string Dims(IEnumerable<long> dims) => "(" + string.Join(", ", dims) + ")";

    internal static OnnxValueDescription Describe(OnnxValueInfoProto v) => new(
        v.Name,
        v.ElemType == 0 ? "unknown" : OnnxTensorData.TypeName(v.ElemType),
        v.Dims?.Select(d => d.Value?.ToString(CultureInfo.InvariantCulture) ?? d.Param ?? "?").ToList() ?? []);
}
