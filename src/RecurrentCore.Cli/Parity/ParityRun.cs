using RecurrentCore.Interop;
using RecurrentCore.Layers;
using RecurrentCore.Reference;

namespace RecurrentCore.Cli.Parity;

/// <summary>Runs a parity case and names its results as the parity contract's output files.</summary>
internal static class ParityRun
{
    /// <summary>
    /// The forward outputs, and the gradients when the inputs carry upstream gradients: on the fast float32 path
    /// (<see cref="RecurrentLayer"/>), or on the double-precision reference when <paramref name="reference"/>.
    /// </summary>
    public static (SequenceOutputs Outputs, SequenceGradients? Gradients) Execute(ParityInputs inputs, bool reference = true, WeightFormat? format = null)
    {
        if (inputs.Quantized is { } stored)
        {
            // A quantized file runs in its own format: converting its weights again would not give the file's layer.
            return format is null || format == stored.Format
                ? (ExecuteQuantized(inputs, reference, stored), null)
                : throw new CliException($"--weights-format {format.Value.Name()}: {inputs.Paths.Weights} holds {stored.Format.Name()} weights; drop --weights-format or convert from the float32 model");
        }

        if (format is WeightFormat wf && wf != WeightFormat.Float32)
        {
            if (inputs.Config.ProjSize > 0)
            {
                throw new CliException($"--weights-format {wf.Name()}: quantized layers have no projection (this LSTM has proj_size {inputs.Config.ProjSize})");
            }

            return (ExecuteQuantized(inputs, reference, Convert(inputs, wf)), null);
        }

        if (!reference)
        {
            return ExecuteFast(inputs);
        }

        if (inputs.Upstream is null)
        {
            return (ReferenceRnn.Forward(inputs.Parameters, inputs.Sequence), null);
        }

        var (outputs, grads) = ReferenceRnn.Backward(inputs.Parameters, inputs.Sequence, inputs.Upstream);
        return (outputs, grads);
    }

    /// <summary>Every file name a forward or backward run of any cell can write: what an earlier run may have left in --out.</summary>
    public static readonly IReadOnlyCollection<string> AllFileNames =
        ["output.npy", "h_n.npy", "c_n.npy", "grad_input.npy", "grad_h0.npy", "grad_c0.npy", "grads.safetensors"];

    private static (SequenceOutputs Outputs, SequenceGradients? Gradients) ExecuteFast(ParityInputs inputs)
    {
        var cfg = inputs.Config;
        var seq = inputs.Sequence;
        RequireSingleRange(inputs);
        int states = cfg.NumLayers * cfg.NumDirections * seq.Batch * cfg.StateSize;
        int cells = cfg.NumLayers * cfg.NumDirections * seq.Batch * cfg.HiddenSize;
        bool lstm = cfg.Cell == CellKind.Lstm;
        var layer = RecurrentLayer.FromParameters(inputs.Parameters);
        bool training = inputs.Upstream is not null;
        var ws = layer.CreateWorkspace(seq.SeqLen, seq.Batch, training);
        var output = new float[seq.SeqLen * seq.Batch * cfg.OutputSize];
        var hn = new float[states];
        var cn = lstm ? new float[cells] : [];
        layer.Forward(ws, ToSingle(seq.Input), seq.SeqLen, seq.Batch, output, hn, cn, ToSingle(seq.H0), ToSingle(seq.C0), seq.Lengths);
        var outputs = new SequenceOutputs(ToDouble(output), ToDouble(hn), lstm ? ToDouble(cn) : null);
        if (!training)
        {
            return (outputs, null);
        }

        var up = inputs.Upstream!;
        var grads = new RecurrentGradients(cfg);
        var dx = new float[seq.Input.Length];
        var dh0 = new float[states];
        var dc0 = lstm ? new float[cells] : [];
        layer.Backward(ws, ToSingle(up.Output), ToSingle(up.HN), ToSingle(up.CN), grads, dx, dh0, dc0);
        return (outputs, new SequenceGradients(grads.ToDouble(), ToDouble(dx), ToDouble(dh0), lstm ? ToDouble(dc0) : null));
    }

    /// <summary>The float parameters with W_ih and W_hh converted to <paramref name="format"/>.</summary>
    private static QuantizedLayer Convert(ParityInputs inputs, WeightFormat format)
    {
        try
        {
            return QuantizedLayer.FromParameters(inputs.Parameters, format);
        }
        catch (NotSupportedException e)
        {
            throw new CliException($"--weights-format {format.Name()}: {e.Message}");
        }
        catch (ArgumentException e)
        {
            throw new CliException($"--weights: cannot convert to {format.Name()}: {e.Message}");
        }
    }

    /// <summary>Forward through <paramref name="q"/>, or the reference on its stored weights.</summary>
    private static SequenceOutputs ExecuteQuantized(ParityInputs inputs, bool reference, QuantizedLayer q)
    {
        var cfg = inputs.Config;
        var seq = inputs.Sequence;
        if (seq.Lengths is not null)
        {
            throw new CliException($"--lengths: variable lengths are not supported with {q.Format.Name()} weights");
        }

        if (reference)
        {
            return ReferenceRnn.Forward(q.DequantizedParameters(), seq);
        }

        int states = cfg.NumLayers * seq.Batch * cfg.HiddenSize;
        bool lstm = cfg.Cell == CellKind.Lstm;
        var output = new float[seq.SeqLen * seq.Batch * cfg.OutputSize];
        var hn = new float[states];
        var cn = lstm ? new float[states] : [];
        q.Forward(q.CreateStream(seq.Batch), ToSingle(seq.Input), seq.SeqLen, output, hn, cn, ToSingle(seq.H0), ToSingle(seq.C0));
        return new SequenceOutputs(ToDouble(output), ToDouble(hn), lstm ? ToDouble(cn) : null);
    }

    private static float[] ToSingle(double[]? data) => data is null ? [] : Array.ConvertAll(data, v => (float)v);

    /// <summary>
    /// The fast path computes in float32: a float64 weight or input beyond its range would silently become ±∞ (and
    /// NaN outputs), so it is refused here, naming the file, the tensor and the index; --reference keeps double.
    /// </summary>
    private static void RequireSingleRange(ParityInputs inputs)
    {
        var p = inputs.Paths;
        foreach (var (name, _, data) in inputs.Parameters.Named())
        {
            Check(data, p.Weights, $"tensor '{name}' ");
        }

        Check(inputs.Sequence.Input, p.Input, string.Empty);
        Check(inputs.Sequence.H0, p.H0, string.Empty);
        Check(inputs.Sequence.C0, p.C0, string.Empty);
        if (inputs.Upstream is { } up)
        {
            Check(up.Output, p.GradOutput, string.Empty);
            Check(up.HN, p.GradHN, string.Empty);
            Check(up.CN, p.GradCN, string.Empty);
        }

        static void Check(double[]? values, string? path, string what)
        {
            if (values is null)
            {
                return;
            }

            for (int i = 0; i < values.Length; i++)
            {
                if (Math.Abs(values[i]) > float.MaxValue && float.IsInfinity((float)values[i]))
                {
                    throw new CliException(string.Create(
                        System.Globalization.CultureInfo.InvariantCulture,
                        $"{path}: {what}value {values[i]:R} at flat index {i} is beyond float32's range (±{float.MaxValue:R}); the fast path computes in float32 (--reference computes in double)"));
                }
            }
        }
    }

    private static double[] ToDouble(float[] data) => Array.ConvertAll(data, v => (double)v);

    /// <summary>The output files of the contract, float32, in the order they are written.</summary>
    public static List<(string FileName, Action<string> Write)> Files(ParityInputs inputs, SequenceOutputs outputs, SequenceGradients? grads)
    {
        var cfg = inputs.Config;
        int t = inputs.Sequence.SeqLen, b = inputs.Sequence.Batch;
        int[] outShape = cfg.BatchFirst ? [b, t, cfg.OutputSize] : [t, b, cfg.OutputSize];
        int[] inShape = cfg.BatchFirst ? [b, t, cfg.InputSize] : [t, b, cfg.InputSize];
        int[] stateShape = [cfg.NumLayers * cfg.NumDirections, b, cfg.StateSize];
        int[] cellShape = [cfg.NumLayers * cfg.NumDirections, b, cfg.HiddenSize];
        var files = new List<(string, Action<string>)>
        {
            ("output.npy", path => Npy.WriteFile(path, ToSingle(outShape, outputs.Output))),
            ("h_n.npy", path => Npy.WriteFile(path, ToSingle(stateShape, outputs.HN))),
        };
        if (outputs.CN is not null)
        {
            files.Add(("c_n.npy", path => Npy.WriteFile(path, ToSingle(cellShape, outputs.CN))));
        }

        if (grads is not null)
        {
            files.Add(("grad_input.npy", path => Npy.WriteFile(path, ToSingle(inShape, grads.Input))));
            files.Add(("grad_h0.npy", path => Npy.WriteFile(path, ToSingle(stateShape, grads.H0))));
            if (grads.C0 is not null)
            {
                files.Add(("grad_c0.npy", path => Npy.WriteFile(path, ToSingle(cellShape, grads.C0))));
            }

            files.Add(("grads.safetensors", path => SafeTensors.WriteFile(path, PyTorchStateDict.FromParameters(grads.Parameters))));
        }

        return files;
    }

    private static HostTensor ToSingle(int[] shape, double[] data)
    {
        var single = new float[data.Length];
        for (int i = 0; i < data.Length; i++)
        {
            single[i] = (float)data[i];
        }

        return HostTensor.FromSingle(shape, single);
    }
}
