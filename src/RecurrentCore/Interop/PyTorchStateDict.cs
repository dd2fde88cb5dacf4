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

        int hidden = whh.Shape[1];
        int gates = cell.GateCount();
        if (hidden < 1 || whh.Shape[0] != gates * hidden)
        {
            throw new InteropFormatException(
                $"{sourceName}: tensor 'weight_hh_l0' has shape {ShapeText(whh.Shape)}, which is not ({gates}·H, H) for {cell.Name()} (a {cell.Name()} has {gates} gate block(s))");
        }

        if (wih.Shape[1] < 1)
        {
            throw new InteropFormatException($"{sourceName}: tensor 'weight_ih_l0' has shape {ShapeText(wih.Shape)}: input size must be at least 1");
        }

        var config = new RecurrentConfig(cell, wih.Shape[1], hidden, layers, anyBias, batchFirst, reverse);
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

    [GeneratedRegex(@"^(?<kind>weight|bias)_(?:ih|hh)_l(?<layer>0|[1-9][0-9]{0,3})(?<rev>_reverse)?$", RegexOptions.CultureInvariant)]
    private static partial Regex NamePattern();
}
