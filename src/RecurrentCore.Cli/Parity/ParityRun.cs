using RecurrentCore.Interop;
using RecurrentCore.Reference;

namespace RecurrentCore.Cli.Parity;

/// <summary>Runs a parity case and names its results as the parity contract's output files.</summary>
internal static class ParityRun
{
    /// <summary>The forward outputs, and the gradients when the inputs carry upstream gradients.</summary>
    public static (SequenceOutputs Outputs, SequenceGradients? Gradients) Execute(ParityInputs inputs)
    {
        if (inputs.Upstream is null)
        {
            return (ReferenceRnn.Forward(inputs.Parameters, inputs.Sequence), null);
        }

        var (outputs, grads) = ReferenceRnn.Backward(inputs.Parameters, inputs.Sequence, inputs.Upstream);
        return (outputs, grads);
    }

    /// <summary>The output files of the contract, float32, in the order they are written.</summary>
    public static List<(string FileName, Action<string> Write)> Files(ParityInputs inputs, SequenceOutputs outputs, SequenceGradients? grads)
    {
        var cfg = inputs.Config;
        int t = inputs.Sequence.SeqLen, b = inputs.Sequence.Batch;
        int[] outShape = cfg.BatchFirst ? [b, t, cfg.OutputSize] : [t, b, cfg.OutputSize];
        int[] inShape = cfg.BatchFirst ? [b, t, cfg.InputSize] : [t, b, cfg.InputSize];
        int[] stateShape = [cfg.NumLayers * cfg.NumDirections, b, cfg.HiddenSize];
        var files = new List<(string, Action<string>)>
        {
            ("output.npy", path => Npy.WriteFile(path, ToSingle(outShape, outputs.Output))),
            ("h_n.npy", path => Npy.WriteFile(path, ToSingle(stateShape, outputs.HN))),
        };
        if (outputs.CN is not null)
        {
            files.Add(("c_n.npy", path => Npy.WriteFile(path, ToSingle(stateShape, outputs.CN))));
        }

        if (grads is not null)
        {
            files.Add(("grad_input.npy", path => Npy.WriteFile(path, ToSingle(inShape, grads.Input))));
            files.Add(("grad_h0.npy", path => Npy.WriteFile(path, ToSingle(stateShape, grads.H0))));
            if (grads.C0 is not null)
            {
                files.Add(("grad_c0.npy", path => Npy.WriteFile(path, ToSingle(stateShape, grads.C0))));
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
