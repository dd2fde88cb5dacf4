using RecurrentCore.Layers;
using RecurrentCore.Tests.Reference;

namespace RecurrentCore.Tests.Layers;

/// <summary>Runs the fast path and the reference on the same float32-rounded data and compares them.</summary>
internal static class FastPathHarness
{
    /// <summary>max|fast − ref| / max(max|ref|, floor): the tensor-wise relative error.</summary>
    public static double RelativeError(ReadOnlySpan<float> fast, ReadOnlySpan<double> reference, double floor = 1e-3)
    {
        if (fast.Length != reference.Length)
        {
            throw new ArgumentException($"length {fast.Length} vs {reference.Length}");
        }

        double diff = 0, scale = floor;
        for (int i = 0; i < fast.Length; i++)
        {
            diff = Math.Max(diff, double.IsNaN(fast[i]) ? double.PositiveInfinity : Math.Abs(fast[i] - reference[i]));
            scale = Math.Max(scale, Math.Abs(reference[i]));
        }

        return diff / scale;
    }

    public static float[] ToSingle(double[] a) => Array.ConvertAll(a, v => (float)v);

    public static double[] Round(double[] a) => Array.ConvertAll(a, v => (double)(float)v);

    /// <summary>Random parameters already rounded to float32, so both paths see identical weights.</summary>
    public static RecurrentParameters Parameters(RecurrentConfig cfg, Random rng, double scale)
    {
        var p = RandomData.Parameters(cfg, rng, scale);
        foreach (var (_, _, data) in p.Named())
        {
            for (int i = 0; i < data.Length; i++)
            {
                data[i] = (float)data[i];
            }
        }

        return p;
    }

    /// <summary>Writes <paramref name="values"/> into the layer's own weight storage (as a training step would), rounded to float32.</summary>
    public static void Overwrite(RecurrentLayer layer, RecurrentParameters values)
    {
        foreach (var (_, _, l, d, kind) in RecurrentParameters.Layout(layer.Config))
        {
            var storage = layer.ParameterStorage(l, d, kind);
            var source = values[l, d, kind];
            for (int i = 0; i < storage.Length; i++)
            {
                storage[i] = (float)source[i];
            }
        }
    }
}
