namespace RecurrentCore.Peers;

/// <summary>
/// The weights and inputs every engine of a scenario runs on, drawn once from a fixed seed: weights and biases
/// U(−1/√H, 1/√H) as PyTorch's reset_parameters (rounded to float32, so the float32 copies given to the peers hold the
/// same values), inputs and output gradients U(−1, 1). The generator is the harness's own (SplitMix64), so the values
/// do not change when the library's training helpers do: the before/after runs of bench/peers/ab.sh see the same data.
/// </summary>
internal sealed class ScenarioData
{
    public ScenarioData(PeerScenario scenario, ulong seed = 20261130)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        Scenario = scenario;
        var random = new SplitMix64(seed ^ (ulong)scenario.Hidden * 0x9E3779B97F4A7C15UL ^ (ulong)scenario.Cell);
        Parameters = new RecurrentParameters(scenario.Config);
        double bound = 1.0 / Math.Sqrt(scenario.Hidden);
        foreach (var kind in RecurrentParameters.Kinds)
        {
            var values = Parameters[0, 0, kind];
            for (int i = 0; i < values.Length; i++)
            {
                values[i] = (float)random.Uniform(bound);
            }
        }

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
            NpyFile.Write(Path.Combine(dir, name + ".npy"), shape, data.Select(v => (float)v).ToArray());
        }

        NpyFile.Write(Path.Combine(dir, "x.npy"), InputShape, Input);
        if (Scenario.Mode == PeerMode.Train)
        {
            NpyFile.Write(Path.Combine(dir, "grad_output.npy"), OutputShape, GradOutput);
            NpyFile.Write(Path.Combine(dir, "grad_h_n.npy"), StateShape, GradHN);
            if (GradCN.Length != 0)
            {
                NpyFile.Write(Path.Combine(dir, "grad_c_n.npy"), StateShape, GradCN);
            }
        }
    }

    /// <summary>A parameter tensor as float32 (its values are float32 already).</summary>
    public float[] Single(ParameterKind kind) => Parameters[0, 0, kind].Select(v => (float)v).ToArray();

    private static float[] Uniform(SplitMix64 random, int n)
    {
        var a = new float[n];
        for (int i = 0; i < n; i++)
        {
            a[i] = (float)random.Uniform(1.0);
        }

        return a;
    }
}

/// <summary>SplitMix64 (Steele, Lea and Flood 2014): small, fast, and fixed here so the benchmark's data never drifts.</summary>
internal sealed class SplitMix64(ulong seed)
{
    private ulong _state = seed;

    public ulong Next()
    {
        ulong z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>U(−bound, bound) from the top 53 bits.</summary>
    public double Uniform(double bound) => ((((Next() >> 11) * (1.0 / (1UL << 53))) * 2) - 1) * bound;
}
