using System.Text.Json;
using RecurrentCore.Interop;
using RecurrentCore.Training;
using Xunit;

namespace RecurrentCore.Tests.Training;

/// <summary>Loads the PyTorch fixtures written by tests/fixtures/gen_training.py and compares against them.</summary>
internal static class TrainingFixtures
{
    /// <summary>Relative tolerance against PyTorch float32 results.</summary>
    public const double RelativeTolerance = 1e-6;

    /// <summary>Absolute floor for values near zero (a few float32 ulps of O(1) quantities).</summary>
    public const double AbsoluteTolerance = 1e-7;

    private static readonly Dictionary<string, SafeTensorsFile> Files = [];
    private static readonly Lock Gate = new();

    public static string PathOf(string name) => Path.Combine(AppContext.BaseDirectory, "fixtures", "training", name);

    public static SafeTensorsFile Tensors(string name)
    {
        lock (Gate)
        {
            if (!Files.TryGetValue(name, out var file))
            {
                file = SafeTensors.ReadFile(PathOf(name));
                Files[name] = file;
            }

            return file;
        }
    }

    public static float[] F32(string file, string tensor) => Tensors(file)[tensor].ToSingle();

    public static JsonElement Json(string name)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(PathOf(name)));
        return doc.RootElement.Clone();
    }

    public static void Close(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string what, double rtol = RelativeTolerance, double atol = AbsoluteTolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            double e = expected[i];
            double a = actual[i];
            Assert.True(Math.Abs(a - e) <= (rtol * Math.Abs(e)) + atol, $"{what}[{i}]: expected {e:R}, got {a:R} (diff {a - e:E3})");
        }
    }

    public static void Close(double expected, double actual, string what, double rtol = RelativeTolerance, double atol = AbsoluteTolerance) =>
        Assert.True(Math.Abs(actual - expected) <= (rtol * Math.Abs(expected)) + atol, $"{what}: expected {expected:R}, got {actual:R}");

    /// <summary>Bytes one warm call allocates on this thread (<see cref="AllocationAssert.Bytes"/>: one-off tiering work excluded).</summary>
    public static long Allocated(Action action) => AllocationAssert.Bytes(action);

    public static Parameter Param(string name, int[] shape, float[] value) => new(name, shape, value, new float[value.Length]);
}
