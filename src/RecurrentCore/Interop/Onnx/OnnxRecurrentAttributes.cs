using System.Globalization;
using RecurrentCore.Reference;

namespace RecurrentCore.Interop.Onnx;

/// <summary>
/// The one reader of an ONNX RNN, LSTM or GRU node's attributes (opsets 7–22) into a <see cref="RecurrentOperatorSpec"/>,
/// with the one set of refusals for attributes that are malformed (wrong type, out of range, unknown); and the one
/// statement of which attributes PyTorch's cells lack (<see cref="PyTorchGap"/>), which decides both what
/// <see cref="OnnxImporter"/> refuses and which nodes the session runs on the general ONNX cells.
/// </summary>
internal static class OnnxRecurrentAttributes
{
    public static RecurrentOperatorKind KindOf(string opType) => opType switch
    {
        "LSTM" => RecurrentOperatorKind.Lstm,
        "GRU" => RecurrentOperatorKind.Gru,
        "RNN" => RecurrentOperatorKind.Rnn,
        _ => throw new ArgumentOutOfRangeException(nameof(opType)),
    };

    public static bool IsRecurrent(OnnxNodeProto n) => n.Domain is "" or "ai.onnx" && n.OpType is "RNN" or "LSTM" or "GRU";

    /// <summary>The spec; <paramref name="hidden"/> is H from R when the attribute is absent (null: the attribute is required).</summary>
    public static RecurrentOperatorSpec Read(OnnxNodeProto n, int? hidden, Func<string, InteropFormatException> fail)
    {
        var kind = KindOf(n.OpType);
        string op = n.OpType;
        var direction = RecurrentDirection.Forward;
        long? hiddenAttr = null;
        long layout = 0, linearBeforeReset = 0, inputForget = 0;
        double? clip = null;
        List<string>? activations = null;
        List<float>? alpha = null, beta = null;
        foreach (var a in n.Attributes)
        {
            if (a.RefAttrName.Length > 0)
            {
                throw fail($"attribute '{a.Name}' refers to a function attribute ('{a.RefAttrName}'); only literal attributes are supported");
            }

            switch (a.Name)
            {
                case "direction":
                    ExpectType(a, OnnxAttributeType.String, fail);
                    direction = a.S switch
                    {
                        "forward" => RecurrentDirection.Forward,
                        "reverse" => RecurrentDirection.Reverse,
                        "bidirectional" => RecurrentDirection.Bidirectional,
                        _ => throw fail($"attribute 'direction' = '{a.S}' is not one of forward, reverse, bidirectional"),
                    };
                    break;
                case "hidden_size":
                    ExpectType(a, OnnxAttributeType.Int, fail);
                    hiddenAttr = a.I;
                    break;
                case "activations":
                    ExpectType(a, OnnxAttributeType.Strings, fail);
                    activations = a.Strings;
                    break;
                case "activation_alpha":
                    ExpectType(a, OnnxAttributeType.Floats, fail);
                    alpha = a.Floats;
                    break;
                case "activation_beta":
                    ExpectType(a, OnnxAttributeType.Floats, fail);
                    beta = a.Floats;
                    break;
                case "clip":
                    ExpectType(a, OnnxAttributeType.Float, fail);
                    if (!(a.F > 0) || !float.IsFinite(a.F))
                    {
                        throw fail($"attribute 'clip' = {a.F.ToString(CultureInfo.InvariantCulture)} is not a positive finite threshold");
                    }

                    clip = a.F;
                    break;
                case "input_forget" when op == "LSTM":
                    ExpectType(a, OnnxAttributeType.Int, fail);
                    inputForget = ZeroOrOne(a, fail);
                    break;
                case "layout":
                    ExpectType(a, OnnxAttributeType.Int, fail);
                    layout = ZeroOrOne(a, fail);
                    break;
                case "linear_before_reset" when op == "GRU":
                    ExpectType(a, OnnxAttributeType.Int, fail);
                    linearBeforeReset = ZeroOrOne(a, fail);
                    break;
                case "output_sequence" when a.I == 0:
                    break; // opset 1 attribute some old exporters still write; 0 is what every later opset does
                default:
                    throw fail($"attribute '{a.Name}' is not an attribute of {op}");
            }
        }

        int h;
        if (hiddenAttr is long hs)
        {
            if (hs < 1 || hs > int.MaxValue / 8)
            {
                throw fail($"attribute 'hidden_size' = {hs} is out of range");
            }

            if (hidden is int fromR && fromR != hs)
            {
                throw fail($"attribute 'hidden_size' = {hs} does not match input 'R' (H = {fromR})");
            }

            h = (int)hs;
        }
        else
        {
            h = hidden ?? throw fail("attribute 'hidden_size' is missing and R is not a constant to take it from");
        }

        int d = direction == RecurrentDirection.Bidirectional ? 2 : 1;
        int k = RecurrentOperatorSpec.ActivationCount(kind);
        var spec = new RecurrentOperatorSpec(kind, h, direction)
        {
            Layout = (int)layout,
            LinearBeforeReset = linearBeforeReset == 1,
            InputForget = inputForget == 1,
            Clip = clip,
        };
        if (activations is null || activations.Count == 0)
        {
            if (alpha is { Count: > 0 } || beta is { Count: > 0 })
            {
                throw fail("attribute 'activation_alpha'/'activation_beta' is given without 'activations'");
            }

            return spec;
        }

        if (activations.Count != k * d && !(d == 2 && activations.Count == k))
        {
            throw fail($"attribute 'activations' has {activations.Count} entries; {op} with direction {DirectionName(direction)} takes {k * d} ({k} per direction)");
        }

        var names = activations.Count == k * d ? activations : [.. activations, .. activations];
        var result = new RecurrentActivation[names.Count];
        int ai = 0, bi = 0;
        for (int j = 0; j < names.Count; j++)
        {
            var f = Parse(names[j]) ?? throw fail($"attribute 'activations' entry '{names[j]}' is not an activation of the ONNX spec (Relu, Tanh, Sigmoid, Affine, LeakyRelu, ThresholdedRelu, ScaledTanh, HardSigmoid, Elu, Softsign, Softplus)");
            var (usesAlpha, usesBeta) = RecurrentActivation.Parameters(f);
            var (da, db) = RecurrentActivation.Defaults(f);

            // As ONNX Runtime: α and β are consumed in order by the functions that take them; missing ones are defaults.
            double av = usesAlpha && alpha is not null && ai < alpha.Count ? alpha[ai++] : da;
            double bv = usesBeta && beta is not null && bi < beta.Count ? beta[bi++] : db;
            result[j] = new RecurrentActivation(f, av, bv);
        }

        if ((alpha is not null && ai < alpha.Count) || (beta is not null && bi < beta.Count))
        {
            throw fail($"attribute 'activation_alpha' has {alpha?.Count ?? 0} and 'activation_beta' {beta?.Count ?? 0} values, but activations [{string.Join(", ", names)}] use only {ai} and {bi}");
        }

        return spec with { Activations = result };
    }

    /// <summary>The PyTorch cell that runs <paramref name="spec"/>'s activations (RNN Tanh or Relu the same in every direction), or null.</summary>
    public static CellKind? PyTorchCell(RecurrentOperatorSpec spec)
    {
        bool Is(int j, ActivationFunction f) => spec.Activations[j].Function == f;
        int k = spec.ActivationsPerDirection;
        bool all(Func<int, bool> perDirection) => Enumerable.Range(0, spec.Directions).All(d => perDirection(d * k));
        return spec.Kind switch
        {
            RecurrentOperatorKind.Lstm when all(o => Is(o, ActivationFunction.Sigmoid) && Is(o + 1, ActivationFunction.Tanh) && Is(o + 2, ActivationFunction.Tanh)) => CellKind.Lstm,
            RecurrentOperatorKind.Gru when all(o => Is(o, ActivationFunction.Sigmoid) && Is(o + 1, ActivationFunction.Tanh)) => CellKind.Gru,
            RecurrentOperatorKind.Rnn when all(o => Is(o, ActivationFunction.Tanh)) => CellKind.RnnTanh,
            RecurrentOperatorKind.Rnn when all(o => Is(o, ActivationFunction.Relu)) => CellKind.RnnRelu,
            _ => null,
        };
    }

    /// <summary>
    /// Null when PyTorch's cells compute <paramref name="spec"/> (with <paramref name="peepholes"/>, null or all zero),
    /// else the first attribute they lack, as a phrase ("clip", "input_forget = 1", "peepholes P", "activations [...]").
    /// Direction and layout are not cell attributes: the session runs both around PyTorch's cells.
    /// </summary>
    public static string? PyTorchGap(RecurrentOperatorSpec spec, double[]? peepholes)
    {
        if (spec.Clip is not null)
        {
            return "clip";
        }

        if (spec.InputForget)
        {
            return "input_forget = 1";
        }

        if (peepholes is not null && peepholes.Any(v => v != 0))
        {
            return "peepholes P";
        }

        return PyTorchCell(spec) is null ? $"activations [{string.Join(", ", spec.Activations)}]" : null;
    }

    public static ActivationFunction? Parse(string name)
    {
        foreach (var f in Enum.GetValues<ActivationFunction>())
        {
            if (string.Equals(name, f.ToString(), StringComparison.OrdinalIgnoreCase))
            {
                return f;
            }
        }

        return null;
    }

    public static string DirectionName(RecurrentDirection d) => d switch
    {
        RecurrentDirection.Reverse => "reverse",
        RecurrentDirection.Bidirectional => "bidirectional",
        _ => "forward",
    };

    private static long ZeroOrOne(OnnxAttributeProto a, Func<string, InteropFormatException> fail) =>
        a.I is 0 or 1 ? a.I : throw fail($"attribute '{a.Name}' = {a.I} is not 0 or 1");

    public static void ExpectType(OnnxAttributeProto a, OnnxAttributeType expected, Func<string, InteropFormatException> fail)
    {
        // Type 0 (UNDEFINED) appears in models from before IR version 3 wrote it; the field read decides then.
        if (a.Type != OnnxAttributeType.Undefined && a.Type != expected)
        {
            throw fail($"attribute '{a.Name}' has type {a.Type.ToString().ToUpperInvariant()}, expected {expected.ToString().ToUpperInvariant()}");
        }
    }
}
