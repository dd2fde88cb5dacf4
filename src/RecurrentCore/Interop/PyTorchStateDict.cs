using System.Globalization;
using System.Text.RegularExpressions;

namespace RecurrentCore.Interop;

/// <summary>
/// PyTorch nn.RNN / nn.LSTM / nn.GRU state_dict names (<c>weight_ih_l{k}[_reverse]</c>, <c>weight_hh_l{k}</c>,
/// <c>bias_ih_l{k}</c>, <c>bias_hh_l{k}</c>) to and from <see cref="RecurrentParameters"/>.
/// </summary>
public static partial class PyTorchStateDict
{
    /// <summary>
    /// Infers the configuration from names and shapes: layers from the largest <c>l{k}</c>, bidirectional from
    /// <c>_reverse</c>, H from weight_hh_l0's columns, I from weight_ih_l0's columns, bias from the bias tensors.
    /// </summary>
    /// <param name="cell">The cell; the gate count G it implies is checked against the shapes (rows = G·H).</param>
    /// <param name="tensors">The state_dict entries.</param>
    /// <param name="sourceName">The file or source the entries came from, for messages.</param>
    /// <param name="batchFirst">Stored in the returned configuration (not a property of the weights).</param>
    /// <exception cref="InteropFormatException">An unknown, missing, duplicated or mis-shaped tensor; the message names it.</exception>
    public static RecurrentConfig InferConfig(CellKind cell, IEnumerable<KeyValuePair<string, HostTensor>> tensors, string sourceName, bool batchFirst = false)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var byName = Index(tensors, sourceName);
        int layers = 0;
        bool reverse = false, anyBias = false;
        foreach (var (name, _) in byName)
        {
            var m = NamePattern().Match(name);
            if (!m.Success)
            {
                throw new InteropFormatException($"{sourceName}: tensor '{name}' is not an RNN/LSTM/GRU parameter (expected names like weight_ih_l0, bias_hh_l1_reverse)");
            }

            layers = Math.Max(layers, int.Parse(m.Groups["layer"].Value, CultureInfo.InvariantCulture) + 1);
            reverse |= m.Groups["rev"].Success;
            anyBias |= m.Groups["kind"].Value == "bias";
        }

        if (!byName.TryGetValue("weight_hh_l0", out var whh))
        {
            throw new InteropFormatException($"{sourceName}: tensor 'weight_hh_l0' is missing");
        }

        if (!byName.TryGetValue("weight_ih_l0", out var wih))
        {
            throw new InteropFormatException($"{sourceName}: tensor 'weight_ih_l0' is missing");
        }

        if (whh.Shape.Count != 2 || wih.Shape.Count != 2)
        {
            var bad = whh.Shape.Count != 2 ? ("weight_hh_l0", whh) : ("weight_ih_l0", wih);
            throw new InteropFormatException($"{sourceName}: tensor '{bad.Item1}' has shape {ShapeText(bad.Item2.Shape)}, expected a matrix");
        }

        int gates = cell.GateCount();
        int hidden = whh.Shape[1], proj = 0;
        if (byName.TryGetValue("weight_hr_l0", out var whr))
        {
            // LSTM proj_size: weight_hr (P, H), weight_hh (4H, P).
            if (cell != CellKind.Lstm || whr.Shape.Count != 2 || whr.Shape[0] < 1 || whr.Shape[1] <= whr.Shape[0] || whr.Shape[0] != whh.Shape[1])
            {
                throw new InteropFormatException($"{sourceName}: tensor 'weight_hr_l0' has shape {ShapeText(whr.Shape)}; a projection needs an LSTM, weight_hr (P, H) with P < H and weight_hh (4H, P)");
            }

            proj = whr.Shape[0];
            hidden = whr.Shape[1];
        }

        if (hidden < 1 || whh.Shape[0] != gates * hidden)
        {
            throw new InteropFormatException(
                $"{sourceName}: tensor 'weight_hh_l0' has shape {ShapeText(whh.Shape)}, which is not ({gates}·H, H) for {cell.Name()} (a {cell.Name()} has {gates} gate block(s))");
        }

        if (wih.Shape[1] < 1)
        {
            throw new InteropFormatException($"{sourceName}: tensor 'weight_ih_l0' has shape {ShapeText(wih.Shape)}: input size must be at least 1");
        }

        var config = new RecurrentConfig(cell, wih.Shape[1], hidden, layers, anyBias, batchFirst, reverse) { ProjSize = proj };
        // Every expected tensor present with its shape; nothing else present.
        int expectedCount = 0;
        foreach (var (name, shape, _, _, _) in RecurrentParameters.Layout(config))
        {
            if (!byName.TryGetValue(name, out var t))
            {
                throw new InteropFormatException($"{sourceName}: tensor '{name}' is missing (expected shape {ShapeText(shape)})");
            }

            if (!t.Shape.SequenceEqual(shape))
            {
                throw new InteropFormatException($"{sourceName}: tensor '{name}' has shape {ShapeText(t.Shape)}, expected {ShapeText(shape)}");
            }

            expectedCount++;
        }

        if (byName.Count != expectedCount)
        {
            var expected = RecurrentParameters.Layout(config).Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
            var extra = byName.Keys.First(k => !expected.Contains(k));
            throw new InteropFormatException($"{sourceName}: tensor '{extra}' does not belong to a {layers}-layer {(reverse ? "bidirectional " : string.Empty)}{cell.Name()}{(anyBias ? string.Empty : " without biases")}");
        }

        return config;
    }

    /// <summary>Reads a state_dict into double-precision parameters, inferring the configuration (see <see cref="InferConfig"/>).</summary>
    /// <exception cref="InteropFormatException">The set is inconsistent, a tensor is not floating point, or a tensor
    /// holds a non-finite value; the message names the tensor.</exception>
    public static RecurrentParameters ToParameters(CellKind cell, IEnumerable<KeyValuePair<string, HostTensor>> tensors, string sourceName, bool batchFirst = false)
    {
        var list = tensors.ToList();
        var config = InferConfig(cell, list, sourceName, batchFirst);
        var byName = Index(list, sourceName);
        var p = new RecurrentParameters(config);
        foreach (var (name, _, data) in p.Named())
        {
            if (!TensorDTypeInfo.IsFloatingPoint(byName[name].DType))
            {
                throw new InteropFormatException($"{sourceName}: tensor '{name}' has dtype {byName[name].DType}; recurrent weights must be floating point (F16, BF16, F32 or F64)");
            }

            double[] values = byName[name].ToDouble();
            int bad = Array.FindIndex(values, v => !double.IsFinite(v));
            if (bad >= 0)
            {
                throw new InteropFormatException($"{sourceName}: tensor '{name}' holds a non-finite value ({values[bad].ToString(CultureInfo.InvariantCulture)}) at flat index {bad}");
            }

            values.CopyTo(data, 0);
        }

        return p;
    }

    /// <summary>The parameters as float32 tensors under their PyTorch names, in state_dict order.</summary>
    public static IReadOnlyList<KeyValuePair<string, HostTensor>> FromParameters(RecurrentParameters parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var list = new List<KeyValuePair<string, HostTensor>>();
        foreach (var (name, shape, data) in parameters.Named())
        {
            var single = new float[data.Length];
            for (int i = 0; i < data.Length; i++)
            {
                single[i] = (float)data[i];
            }

            list.Add(new(name, HostTensor.FromSingle(shape, single)));
        }

        return list;
    }

    /// <summary>The safetensors metadata keys our writers record a configuration under.</summary>
    public static class MetadataKeys
    {
        /// <summary>lstm, gru, rnn-tanh or rnn-relu.</summary>
        public const string Cell = "recurrent.cell";

        /// <summary>"true" or "false".</summary>
        public const string BatchFirst = "recurrent.batch_first";

        /// <summary>L.</summary>
        public const string NumLayers = "recurrent.num_layers";

        /// <summary>1 or 2.</summary>
        public const string NumDirections = "recurrent.num_directions";

        /// <summary>LSTM projection size P; "0" for none.</summary>
        public const string ProjSize = "recurrent.proj_size";

        /// <summary>I.</summary>
        public const string InputSize = "recurrent.input_size";

        /// <summary>H.</summary>
        public const string HiddenSize = "recurrent.hidden_size";

        /// <summary>"true" or "false".</summary>
        public const string Bias = "recurrent.bias";

        /// <summary>GRU: "true" (PyTorch) or "false" (ONNX linear_before_reset = 0).</summary>
        public const string LinearBeforeReset = "recurrent.linear_before_reset";
    }

    /// <summary>The configuration as safetensors metadata (<see cref="MetadataKeys"/>), as our writers store it beside the weights.</summary>
    public static Dictionary<string, string> ToMetadata(RecurrentConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        static string B(bool v) => v ? "true" : "false";
        var m = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [MetadataKeys.Cell] = config.Cell.Name(),
            [MetadataKeys.BatchFirst] = B(config.BatchFirst),
            [MetadataKeys.NumLayers] = config.NumLayers.ToString(CultureInfo.InvariantCulture),
            [MetadataKeys.NumDirections] = config.NumDirections.ToString(CultureInfo.InvariantCulture),
            [MetadataKeys.ProjSize] = config.ProjSize.ToString(CultureInfo.InvariantCulture),
            [MetadataKeys.InputSize] = config.InputSize.ToString(CultureInfo.InvariantCulture),
            [MetadataKeys.HiddenSize] = config.HiddenSize.ToString(CultureInfo.InvariantCulture),
            [MetadataKeys.Bias] = B(config.Bias),
        };
        if (config.Cell == CellKind.Gru)
        {
            m[MetadataKeys.LinearBeforeReset] = B(config.LinearBeforeReset);
        }

        return m;
    }

    /// <summary>Writes <paramref name="parameters"/> as a safetensors state_dict (float32) with its configuration in the metadata.</summary>
    public static byte[] ToSafeTensors(RecurrentParameters parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        return SafeTensors.Write(FromParameters(parameters), ToMetadata(parameters.Config));
    }

    /// <summary>
    /// Reads a safetensors state_dict into parameters: the recurrent module is selected by <paramref name="module"/>
    /// (a name prefix such as <c>encoder</c> or <c>model.rnn</c>), or found when exactly one prefix holds recurrent
    /// parameters (other tensors, e.g. a head's, are ignored then). The configuration our writers store in the metadata
    /// (<see cref="MetadataKeys"/>) is honoured: the cell and batch-first come from it when not given, and anything given
    /// or inferred from the shapes that disagrees with it is refused.
    /// </summary>
    /// <param name="file">The file.</param>
    /// <param name="sourceName">The file name for messages.</param>
    /// <param name="cell">The cell, or null to take it from the metadata.</param>
    /// <param name="batchFirst">Batch-first, or null to take it from the metadata (false when absent).</param>
    /// <param name="module">The module prefix, or null.</param>
    /// <exception cref="InteropFormatException">The module is ambiguous or absent, the cell is unknown, or the
    /// metadata disagrees with the request or the tensors; the one-line message says which.</exception>
    public static RecurrentParameters ToParameters(SafeTensorsFile file, string sourceName, CellKind? cell, bool? batchFirst, string? module = null)
    {
        ArgumentNullException.ThrowIfNull(file);
        var meta = file.Metadata;
        cell = MetadataCell(meta, cell, sourceName)
            ?? throw new InteropFormatException($"{sourceName}: the cell is not recorded in the file's metadata; give it (--cell lstm, gru, rnn-tanh or rnn-relu)");
        batchFirst = MetadataBatchFirst(meta, batchFirst, sourceName);
        var tensors = SelectModule(file.Tensors, module, sourceName);
        var p = ToParameters(cell.Value, tensors, sourceName, batchFirst ?? false);
        var cfg = p.Config;
        if (cfg.Cell == CellKind.Gru && meta.TryGetValue(MetadataKeys.LinearBeforeReset, out var lbr) && lbr == "false")
        {
            p = WithConfig(p, cfg with { LinearBeforeReset = false });
            cfg = p.Config;
        }

        CheckMetadata(meta, cfg, sourceName);
        return p;
    }

    /// <summary>The cell recorded in <paramref name="meta"/>, else <paramref name="cell"/>; a recorded cell that is unknown or contradicts <paramref name="cell"/> is refused.</summary>
    internal static CellKind? MetadataCell(IReadOnlyDictionary<string, string> meta, CellKind? cell, string sourceName)
    {
        if (!meta.TryGetValue(MetadataKeys.Cell, out var metaCell))
        {
            return cell;
        }

        CellKind parsed;
        try
        {
            parsed = CellKinds.Parse(metaCell);
        }
        catch (ArgumentException)
        {
            throw new InteropFormatException($"{sourceName}: metadata '{MetadataKeys.Cell}' = '{metaCell}' is not lstm, gru, rnn-tanh or rnn-relu");
        }

        if (cell is CellKind given && given != parsed)
        {
            throw new InteropFormatException($"{sourceName}: cell {given.Name()} was requested but the file's metadata says {parsed.Name()}");
        }

        return parsed;
    }

    /// <summary>batch_first recorded in <paramref name="meta"/>, else <paramref name="batchFirst"/>; a malformed or contradicting value is refused.</summary>
    internal static bool? MetadataBatchFirst(IReadOnlyDictionary<string, string> meta, bool? batchFirst, string sourceName)
    {
        if (!meta.TryGetValue(MetadataKeys.BatchFirst, out var metaBf))
        {
            return batchFirst;
        }

        bool parsed = metaBf == "true" || (metaBf == "false" ? false : throw new InteropFormatException($"{sourceName}: metadata '{MetadataKeys.BatchFirst}' = '{metaBf}' is not true or false"));
        if (batchFirst is bool given && given != parsed)
        {
            throw new InteropFormatException($"{sourceName}: batch_first = {(given ? "true" : "false")} was requested but the file's metadata says {metaBf}; a batch-first model run time-major (or the reverse) gives wrong results");
        }

        return parsed;
    }

    /// <summary>Refuses a recorded shape key (layers, directions, sizes, bias, projection) that disagrees with <paramref name="cfg"/>.</summary>
    internal static void CheckMetadata(IReadOnlyDictionary<string, string> meta, RecurrentConfig cfg, string sourceName)
    {
        foreach (var (key, actual) in new[]
        {
            (MetadataKeys.NumLayers, cfg.NumLayers.ToString(CultureInfo.InvariantCulture)),
            (MetadataKeys.NumDirections, cfg.NumDirections.ToString(CultureInfo.InvariantCulture)),
            (MetadataKeys.InputSize, cfg.InputSize.ToString(CultureInfo.InvariantCulture)),
            (MetadataKeys.HiddenSize, cfg.HiddenSize.ToString(CultureInfo.InvariantCulture)),
            (MetadataKeys.Bias, cfg.Bias ? "true" : "false"),
            (MetadataKeys.ProjSize, cfg.ProjSize.ToString(CultureInfo.InvariantCulture)),
        })
        {
            if (meta.TryGetValue(key, out var recorded) && recorded != actual)
            {
                throw new InteropFormatException($"{sourceName}: metadata '{key}' = {recorded} but the tensors give {actual}");
            }
        }
    }

    /// <summary>
    /// The tensors of one recurrent module with the prefix removed: <paramref name="module"/> selects names starting
    /// with <c>module.</c>; null finds the single prefix under which recurrent parameter names appear.
    /// </summary>
    /// <exception cref="InteropFormatException">No recurrent parameters, an unknown module, or several candidates.</exception>
    public static IReadOnlyList<KeyValuePair<string, HostTensor>> SelectModule(IEnumerable<KeyValuePair<string, HostTensor>> tensors, string? module, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var list = tensors.ToList();
        if (module is not null)
        {
            string prefix = module.Length == 0 || module.EndsWith('.') ? module : module + ".";
            var selected = list.Where(t => t.Key.StartsWith(prefix, StringComparison.Ordinal)).Select(t => new KeyValuePair<string, HostTensor>(t.Key[prefix.Length..], t.Value)).ToList();
            if (selected.Count == 0)
            {
                throw new InteropFormatException($"{sourceName}: no tensor starts with '{prefix}' (modules here: {string.Join(", ", Prefixes(list).Select(Display))})");
            }

            return selected;
        }

        var prefixes = Prefixes(list);
        if (prefixes.Count == 0)
        {
            throw new InteropFormatException($"{sourceName}: no RNN/LSTM/GRU parameters (names like weight_ih_l0 or encoder.weight_ih_l0)");
        }

        if (prefixes.Count > 1)
        {
            throw new InteropFormatException($"{sourceName}: several recurrent modules ({string.Join(", ", prefixes.Select(Display))}); choose one (--module)");
        }

        string only = prefixes[0];
        // A top-level module keeps every tensor, so that a stray name is reported rather than ignored.
        return only.Length == 0
            ? list
            : [.. list.Where(t => t.Key.StartsWith(only, StringComparison.Ordinal) && NamePattern().IsMatch(t.Key[only.Length..])).Select(t => new KeyValuePair<string, HostTensor>(t.Key[only.Length..], t.Value))];
    }

    private static string Display(string prefix) => prefix.Length == 0 ? "(top level)" : $"'{prefix.TrimEnd('.')}'";

    private static List<string> Prefixes(List<KeyValuePair<string, HostTensor>> list) =>
        [.. list.Select(t => PrefixedPattern().Match(t.Key)).Where(m => m.Success).Select(m => m.Groups["prefix"].Value).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];

    private static RecurrentParameters WithConfig(RecurrentParameters p, RecurrentConfig config)
    {
        var q = new RecurrentParameters(config);
        foreach (var (layer, dir, kind) in RecurrentParameters.Layout(config).Select(e => (e.Layer, e.Direction, e.Kind)))
        {
            p[layer, dir, kind].CopyTo(q[layer, dir, kind], 0);
        }

        return q;
    }

    internal static string ShapeText(IEnumerable<int> shape) => "(" + string.Join(", ", shape) + ")";

    private static Dictionary<string, HostTensor> Index(IEnumerable<KeyValuePair<string, HostTensor>> tensors, string sourceName)
    {
        var byName = new Dictionary<string, HostTensor>(StringComparer.Ordinal);
        foreach (var (name, t) in tensors)
        {
            if (!byName.TryAdd(name, t))
            {
                throw new InteropFormatException($"{sourceName}: tensor '{name}' appears twice");
            }
        }

        return byName;
    }

    [GeneratedRegex(@"^(?<kind>weight|bias)_(?:ih|hh|hr)_l(?<layer>0|[1-9][0-9]{0,3})(?<rev>_reverse)?$", RegexOptions.CultureInvariant)]
    private static partial Regex NamePattern();

    [GeneratedRegex(@"^(?<prefix>(?:.+\.)?)(?:weight|bias)_(?:ih|hh)_l(?:0|[1-9][0-9]{0,3})(?:_reverse)?$", RegexOptions.CultureInvariant)]
    private static partial Regex PrefixedPattern();
}
