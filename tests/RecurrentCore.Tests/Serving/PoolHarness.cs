using RecurrentCore.Kernels;
using RecurrentCore.Layers;
using RecurrentCore.Reference;
using RecurrentCore.Tests.Reference;
using static RecurrentCore.Tests.Layers.FastPathHarness;

namespace RecurrentCore.Tests.Serving;

/// <summary>A random layer and per-session input sequences, with the three independent answers a pool is checked against.</summary>
internal sealed class PoolHarness
{
    public PoolHarness(KernelVariant variant, CellKind cell, int input, int hidden, int layers, int sessions, int steps, int seed)
    {
        var rng = new Random(seed);
        Config = new RecurrentConfig(cell, input, hidden, numLayers: layers);
        Parameters = Parameters(Config, rng, 0.4);
        Layer = RecurrentLayer.FromParameters(Parameters, variant);
        Steps = steps;
        Inputs = new float[sessions][];
        for (int s = 0; s < sessions; s++)
        {
            Inputs[s] = ToSingle(Round(RandomData.Normal(rng, steps * input)));
        }
    }

    public RecurrentConfig Config { get; }

    public RecurrentParameters Parameters { get; }

    public RecurrentLayer Layer { get; }

    public int Steps { get; }

    /// <summary>Per session: (T, I).</summary>
    public float[][] Inputs { get; }

    public ReadOnlySpan<float> X(int session, int t) => Inputs[session].AsSpan(t * Config.InputSize, Config.InputSize);

    /// <summary>
    /// Session <paramref name="session"/> stepped alone through the batched product: row 0 of a two-row stream whose
    /// other row carries unrelated data (<paramref name="companion"/>'s inputs, or zeros).
    /// </summary>
    public float[] AloneBatched(int session, int companion = -1)
    {
        int i = Config.InputSize, h = Config.HiddenSize;
        var stream = Layer.CreateStream(2);
        var x = new float[2 * i];
        var y = new float[2 * h];
        var outputs = new float[Steps * h];
        for (int t = 0; t < Steps; t++)
        {
            X(session, t).CopyTo(x);
            if (companion >= 0)
            {
                X(companion, t).CopyTo(x.AsSpan(i));
            }

            stream.Step(x, y);
            y.AsSpan(0, h).CopyTo(outputs.AsSpan(t * h));
        }

        return outputs;
    }

    /// <summary>Session <paramref name="session"/> stepped alone in a one-row stream (the GEMV path).</summary>
    public float[] AloneOneRow(int session)
    {
        int h = Config.HiddenSize;
        var stream = Layer.CreateStream(1);
        var outputs = new float[Steps * h];
        for (int t = 0; t < Steps; t++)
        {
            stream.Step(X(session, t), outputs.AsSpan(t * h, h));
        }

        return outputs;
    }

    /// <summary>The double-precision reference: (T, H).</summary>
    public double[] Reference(int session)
    {
        var x = Array.ConvertAll(Inputs[session], v => (double)v);
        return ReferenceRnn.Forward(Parameters, new SequenceInputs(Steps, 1, x)).Output;
    }
}
