using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace RecurrentCore.Tests.Interop.Onnx;

/// <summary>A tensor for or from ONNX Runtime: flat data (float, double, int or long) and its shape.</summary>
internal sealed record OrtTensor(Array Data, long[] Shape)
{
    public static OrtTensor Float(double[] data, params long[] shape) => new(data.Select(v => (float)v).ToArray(), shape);

    public static OrtTensor Int32(int[] data, params long[] shape) => new(data, shape);

    /// <summary>The values widened to double.</summary>
    public double[] Values() => Data switch
    {
        float[] f => f.Select(v => (double)v).ToArray(),
        double[] d => d,
        _ => throw new InvalidOperationException($"unexpected {Data.GetType()}"),
    };
}

/// <summary>Runs a serialized ONNX model once on the CPU execution provider, single-threaded to share the machine.</summary>
internal static class OrtRunner
{
    public static Dictionary<string, OrtTensor> Run(byte[] model, IReadOnlyDictionary<string, OrtTensor> inputs)
    {
        using var options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1, LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL };
        using var session = new InferenceSession(model, options);
        var values = new List<OrtValue>();
        try
        {
            foreach (var (_, t) in inputs)
            {
                values.Add(t.Data switch
                {
                    float[] f => OrtValue.CreateTensorValueFromMemory(f, t.Shape),
                    double[] d => OrtValue.CreateTensorValueFromMemory(d, t.Shape),
                    int[] i => OrtValue.CreateTensorValueFromMemory(i, t.Shape),
                    long[] l => OrtValue.CreateTensorValueFromMemory(l, t.Shape),
                    _ => throw new InvalidOperationException($"unexpected {t.Data.GetType()}"),
                });
            }

            var outputNames = session.OutputNames;
            using var runOptions = new RunOptions();
            using var outputs = session.Run(runOptions, inputs.Keys.ToList(), values, outputNames);
            var result = new Dictionary<string, OrtTensor>(StringComparer.Ordinal);
            for (int i = 0; i < outputNames.Count; i++)
            {
                var info = outputs[i].GetTensorTypeAndShape();
                Array data = info.ElementDataType == TensorElementType.Double
                    ? outputs[i].GetTensorDataAsSpan<double>().ToArray()
                    : outputs[i].GetTensorDataAsSpan<float>().ToArray();
                result[outputNames[i]] = new OrtTensor(data, info.Shape);
            }

            return result;
        }
        finally
        {
            foreach (var v in values)
            {
                v.Dispose();
            }
        }
    }
}

/// <summary>Tolerance checks (ORT in float32, PyTorch or numpy in float64) against the double reference.</summary>
internal static class Close
{
    /// <summary>Elementwise |actual − expected| ≤ tol·max(1, |expected|).</summary>
    public static void Assert(string what, double[] expected, double[] actual, double tol = 1e-5)
    {
        Xunit.Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            double err = Math.Abs(actual[i] - expected[i]);
            Xunit.Assert.True(err <= tol * Math.Max(1, Math.Abs(expected[i])), $"{what}[{i}]: actual {actual[i]:R} vs expected {expected[i]:R} (error {err:E2})");
        }
    }

    /// <summary>ONNX Y (T, D, B, H) → PyTorch output (T, B, D·H).</summary>
    public static double[] YToOutput(double[] y, int t, int d, int b, int h)
    {
        var output = new double[y.Length];
        for (int ti = 0; ti < t; ti++)
        {
            for (int di = 0; di < d; di++)
            {
                for (int bi = 0; bi < b; bi++)
                {
                    Array.Copy(y, (((ti * d) + di) * b + bi) * h, output, (((ti * b) + bi) * d + di) * h, h);
                }
            }
        }

        return output;
    }

    /// <summary>Rounds every value to float32 and back, as the exported model stores it.</summary>
    public static double[] ToFloat(double[] values) => values.Select(v => (double)(float)v).ToArray();
}
