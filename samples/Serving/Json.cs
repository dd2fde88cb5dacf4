using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace RecurrentCore.Samples.Serving;

internal sealed record ModelInfo(string Cell, int Input, int Hidden, int Layers, string Kernel, int MaxSessions, int OpenSessions, int MaxBatch, double WindowMs, double IdleSeconds);

internal sealed record SessionCreated(string Id, int Input, int Hidden);

internal sealed record StepRequest(float[]? X);

internal sealed record StepResponse(float[] Y);

internal sealed record ErrorBody(string Error);

internal sealed record Stats(long Steps, long Batches, int OpenSessions, long Evicted, int Gen0, int Gen1, int Gen2, long AllocatedBytes);

/// <summary>Source-generated JSON (no reflection, so the service publishes with NativeAOT).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, NumberHandling = JsonNumberHandling.Strict)]
[JsonSerializable(typeof(ModelInfo))]
[JsonSerializable(typeof(SessionCreated))]
[JsonSerializable(typeof(StepRequest))]
[JsonSerializable(typeof(StepResponse))]
[JsonSerializable(typeof(ErrorBody))]
[JsonSerializable(typeof(Stats))]
internal sealed partial class ServingJson : JsonSerializerContext
{
    /// <summary>As <see cref="Default"/>, but error messages keep their quotes readable (no \u0027 escapes).</summary>
    public static ServingJson Relaxed { get; } = new(new JsonSerializerOptions(JsonSerializerDefaults.Web) { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
}
