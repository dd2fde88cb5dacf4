using RecurrentCore.Interop;
using RecurrentCore.Training;

namespace RecurrentCore.Peers;

/// <summary>
/// The weights and inputs every engine of a scenario runs on, drawn once from a fixed seed: weights and biases
/// U(−1/√H, 1/√H) as PyTorch's reset_parameters (rounded to float32, so the float32 copies given to ONNX Runtime and
/// PyTorch hold the same values), inputs and output gradients U(−1, 1).
/// </summary>
internal sealed class ScenarioData
{
    public ScenarioData(PeerScenario scenario, ulong seed = 20261130)
    {
        Scenario = scenario;
        var random = new SeededRandom(seed);
        Parameters = new RecurrentParameters(scenario.Config);
        Initialization.PyTorchRecurrent(Parameters, random);
        int b = scenario.Batch, h = scenario.Hidden;
        int steps = scenario.Mode == PeerMode.Step ? PeerScenario.CheckSteps : scenario.SeqLen;
        InputShape = [steps, b, scenario.Input];
        Input = Uniform(random, steps * b * scenario.Input);
        OutputShape = [steps, b, h];
        StateShape = [1, b, h];
        if (scenario.Mode == PeerMode.Train)
        {
            GradOutput = Uniform(random, steps * b * h);
            GradHN = Uniform(random, b * h);
            GradCN = scenario.Cell == CellKind.Lstm ? Uniform(random, b * h) : [];
        }
    }

    public PeerScenario Scenario { get; }

    /// <summary>Float32-valued weights in PyTorch layout.</summary>
    public RecurrentParameters Parameters { get; }

    /// <summary>(T, B, I); for step scenarios (K, 1, I), the K inputs of the agreement check (the timed step feeds the first).</summary>
    public float[] Input { get; }

    public int[] InputShape { get; }

    public int[] OutputShape { get; }

    public int[] StateShape { get; }

    /// <summary>Training: dL/d(output) (T, B, H), dL/dh_n and dL/dc_n (1, B, H).</summary>
    public float[] GradOutput { get; } = [];

    public float[] GradHN { get; } = [];

    public float[] GradCN { get; } = [];

    /// <summary>Writes weights, inputs and output gradients as float32 .npy files (PyTorch names) into <paramref name="dir"/>.</summary>
    public void WriteNpy(string dir)
    {
        Directory.CreateDirectory(dir);
        foreach (var (name, shape, data) in Parameters.Named())
        {
            Npy.WriteFile(Path.Combine(dir, name + ".npy"), HostTensor.FromDouble(shape, data).ToSingleTensor());
        }

        Npy.WriteFile(Path.Combine(dir, "x.npy"), HostTensor.FromSingle(InputShape, Input));
        if (Scenario.Mode == PeerMode.Train)
        {
            Npy.WriteFile(Path.Combine(dir, "grad_output.npy"), HostTensor.FromSingle(OutputShape, GradOutput));
            Npy.WriteFile(Path.Combine(dir, "grad_h_n.npy"), HostTensor.FromSingle(StateShape, GradHN));
            if (GradCN.Length != 0)
            {
                Npy.WriteFile(Path.Combine(dir, "grad_c_n.npy"), HostTensor.FromSingle(StateShape, GradCN));
            }
        }
    }

    /// <summary>A parameter tensor as float32 (its values are float32 already).</summary>
    public float[] Single(ParameterKind kind) => Parameters[0, 0, kind].Select(v => (float)v).ToArray();

    private static float[] Uniform(SeededRandom random, int n)
    {
        var a = new float[n];
        Initialization.Uniform(a, 1.0, random);
        return a;
    }
}

/// <summary>Small helpers on <see cref="HostTensor"/>.</summary>
internal static class HostTensorExtensions
{
    public static HostTensor ToSingleTensor(this HostTensor t) => HostTensor.FromSingle(t.Shape.ToArray(), t.ToSingle());
}
