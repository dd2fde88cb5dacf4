namespace RecurrentCore;

/// <summary>How a layer stores W_ih and W_hh for inference (biases, gate math and state are float32 in every format).</summary>
#pragma warning disable CA1720 // the formats are named by their number types, as everywhere (f32, bf16, int8)
public enum WeightFormat
{
    /// <summary>IEEE float32 (4 bytes a weight).</summary>
    Float32,

    /// <summary>bfloat16 (2 bytes a weight), round to nearest even; widened to float32 in registers, float32 accumulation.</summary>
    BFloat16,

    /// <summary>
    /// Symmetric int8 (1 byte a weight) with one float32 scale per output row; x and h quantized per step, per vector
    /// (symmetric, int8); exact int32 accumulation, dequantized to float32 before bias and gates.
    /// </summary>
    Int8,
}
#pragma warning restore CA1720

/// <summary>Names of <see cref="WeightFormat"/>.</summary>
public static class WeightFormats
{
    /// <summary>The command-line name: f32, bf16 or int8.</summary>
    public static string Name(this WeightFormat format) => format switch
    {
        WeightFormat.Float32 => "f32",
        WeightFormat.BFloat16 => "bf16",
        WeightFormat.Int8 => "int8",
        _ => throw new ArgumentOutOfRangeException(nameof(format)),
    };

    /// <summary>Parses f32, bf16 or int8 (also float32, bfloat16).</summary>
    /// <exception cref="ArgumentException">Any other name.</exception>
    public static WeightFormat Parse(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return name.Trim().ToLowerInvariant() switch
        {
            "f32" or "float32" or "fp32" => WeightFormat.Float32,
            "bf16" or "bfloat16" => WeightFormat.BFloat16,
            "int8" or "i8" => WeightFormat.Int8,
            _ => throw new ArgumentException($"unknown weight format '{name}': expected f32, bf16 or int8", nameof(name)),
        };
    }

    /// <summary>Bytes of storage per weight.</summary>
    public static int BytesPerWeight(this WeightFormat format) => format switch
    {
        WeightFormat.Float32 => 4,
        WeightFormat.BFloat16 => 2,
        WeightFormat.Int8 => 1,
        _ => throw new ArgumentOutOfRangeException(nameof(format)),
    };
}
