using System.CommandLine;
using System.Globalization;
using RecurrentCore.Interop;
using RecurrentCore.Interop.Onnx;
using RecurrentCore.Reference;

namespace RecurrentCore.Cli.ModelFiles;

/// <summary><c>recurrent inspect FILE</c>: the configuration, tensors and graph found in a safetensors or ONNX file.</summary>
internal static class InspectCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("FILE") { Description = "A safetensors state_dict or an ONNX model (detected by content)." };
        var module = new Option<string?>("--module") { Description = "The module prefix of a whole-model state_dict (e.g. encoder)." };
        var command = new Command("inspect", "Print the configuration, tensors and graph of a model file.") { file, module };
        command.SetAction(parse =>
        {
            string path = parse.GetValue(file)!;
            byte[] bytes = ModelLoader.ReadAll(path);
            var o = parse.InvocationConfiguration.Output;
            if (ModelLoader.Detect(path, bytes) == ModelFormat.SafeTensors)
            {
                SafeTensorsReport(o, path, bytes, parse.GetValue(module));
            }
            else
            {
                OnnxReport(o, path, bytes);
            }

            return 0;
        });
        return command;
    }

    private static void SafeTensorsReport(TextWriter o, string path, byte[] bytes, string? module)
    {
        var f = SafeTensors.Read(bytes, path);
        o.WriteLine($"{path}: safetensors, {f.Tensors.Count} tensor(s)");
        o.WriteLine("metadata:" + (f.Metadata.Count == 0 ? " none" : string.Empty));
        foreach (var (k, v) in f.Metadata.OrderBy(m => m.Key, StringComparer.Ordinal))
        {
            o.WriteLine($"  {k} = {v}");
        }

        o.WriteLine("tensors:");
        foreach (var (name, t) in f.Tensors)
        {
            o.WriteLine($"  {name}  {t.DType} ({string.Join(", ", t.Shape)})");
        }

        if (QuantizedStateDict.FormatOf(f, path) is WeightFormat format && format != WeightFormat.Float32)
        {
            var q = Layers.QuantizedLayer.FromSafeTensors(f, path);
            o.WriteLine($"configuration: {ConvertCommand.Describe(q.Config)}, {format.Name()} weights{(format == WeightFormat.Int8 ? $" ({QuantizedStateDict.Int8Scheme})" : string.Empty)}, {q.WeightBytes} bytes of W_ih and W_hh as the kernels hold them");
            return;
        }

        CellKind? cell = null;
        if (!f.Metadata.ContainsKey(PyTorchStateDict.MetadataKeys.Cell))
        {
            cell = GuessCell(PyTorchStateDict.SelectModule(f.Tensors, module, path));
            o.WriteLine(cell is null
                ? "configuration: the cell is not recorded; give --cell to forward/backward/convert"
                : $"configuration: the cell is not recorded; the gate blocks fit {cell.Value.Name()}{(cell == CellKind.RnnTanh ? " or rnn-relu" : string.Empty)} (assumed below)");
        }

        if (f.Metadata.ContainsKey(PyTorchStateDict.MetadataKeys.Cell) || cell is not null)
        {
            var p = PyTorchStateDict.ToParameters(f, path, cell, null, module);
            o.WriteLine($"configuration: {ConvertCommand.Describe(p.Config)}");
        }
    }

    private static CellKind? GuessCell(IReadOnlyList<KeyValuePair<string, HostTensor>> tensors)
    {
        var whh = tensors.FirstOrDefault(t => t.Key == "weight_hh_l0").Value;
        if (whh is null || whh.Shape.Count != 2 || whh.Shape[1] < 1 || whh.Shape[0] % whh.Shape[1] != 0)
        {
            return null;
        }

        return (whh.Shape[0] / whh.Shape[1]) switch
        {
            4 => CellKind.Lstm,
            3 => CellKind.Gru,
            1 => CellKind.RnnTanh,
            _ => null,
        };
    }

    private static void OnnxReport(TextWriter o, string path, byte[] bytes)
    {
        var s = OnnxModel.Load(bytes, path);
        o.WriteLine($"{path}: ONNX, ir_version {s.IrVersion}, opset {s.Opset}, producer '{s.ProducerName}'");
        try
        {
            var import = OnnxModel.Import(bytes, path);
            o.WriteLine($"configuration: {ConvertCommand.Describe(import.Config)}{(import.Reverse ? ", reverse (ONNX direction = reverse: every layer runs backwards in time)" : string.Empty)}");
        }
        catch (InteropFormatException e)
        {
            o.WriteLine($"configuration: not a plain layer stack ({e.Message[(path.Length + 2)..]}); forward/backward/convert need one, OnnxModel.Load runs the whole graph");
        }

        o.WriteLine("inputs:");
        foreach (var v in s.Inputs)
        {
            o.WriteLine($"  {v.Name}  {v.ElementType} ({string.Join(", ", v.Shape)})");
        }

        o.WriteLine("outputs:");
        foreach (var v in s.Outputs)
        {
            o.WriteLine($"  {v.Name}  {v.ElementType} ({string.Join(", ", v.Shape)})");
        }

        o.WriteLine("tensors:");
        foreach (var (name, t) in s.Initializers)
        {
            o.WriteLine($"  {name}  {t}");
        }

        o.WriteLine("nodes:");
        for (int i = 0; i < s.Nodes.Count; i++)
        {
            var n = s.Nodes[i];
            o.WriteLine($"  #{i.ToString(CultureInfo.InvariantCulture)} {n.OpType} '{n.Name}'  ({string.Join(", ", n.Inputs)}) -> ({string.Join(", ", n.Outputs)})");
        }

        o.WriteLine("recurrent nodes:");
        foreach (var r in s.RecurrentNodes)
        {
            o.WriteLine($"  {r.Name}: {r.OpType}{(r.Spec is { } spec ? ", " + Describe(spec) : string.Empty)}; runs on: {r.Path}");
        }
    }

    private static string Describe(RecurrentOperatorSpec s) =>
        $"hidden {s.HiddenSize}, direction {s.Direction.ToString().ToLowerInvariant()}, layout {s.Layout}, activations [{string.Join(", ", s.Activations)}]"
        + (s.Clip is double c ? $", clip {c.ToString(CultureInfo.InvariantCulture)}" : string.Empty)
        + (s.InputForget ? ", input_forget 1" : string.Empty)
        + (s.Kind == RecurrentOperatorKind.Gru ? $", linear_before_reset {(s.LinearBeforeReset ? 1 : 0)}" : string.Empty);
}
