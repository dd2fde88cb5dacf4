using System.Runtime.CompilerServices;

namespace RecurrentCore.Kernels.Quantized;

/// <summary>
/// Symmetric int8 quantization: <c>q = clamp(round_even(v / s), −127, 127)</c> with <c>s = max|v| / 127</c> (all-zero
/// data: s = 0 and q = 0), used per output row of a weight matrix when a layer is converted and per input vector (x,
/// h) at every step. −128 is never produced, so a product of two values is at most 127·127 in magnitude.
/// </summary>
internal static class Int8Quantizer
{
    /// <summary>The scale <c>max|v| / 127</c> of <paramref name="values"/> (0 when all are zero).</summary>
    /// <exception cref="ArgumentException">A value is not finite (NaN or ±∞ has no int8 image).</exception>
    public static float Scale(ReadOnlySpan<float> values)
    {
        float amax = 0f;
        foreach (float v in values)
        {
            if (!float.IsFinite(v))
            {
                throw new ArgumentException("a value to quantize is not finite", nameof(values));
            }

            amax = MathF.Max(amax, MathF.Abs(v));
        }

        return amax / 127f;
    }

    /// <summary>The int8 image of <paramref name="value"/> at <paramref name="scale"/> (0 when the scale is 0).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Quantize(float value, float scale)
    {
        if (scale == 0f)
        {
            return 0;
        }

        float q = MathF.Round(value / scale, MidpointRounding.ToEven);
        return q >= 127f ? 127 : q <= -127f ? -127 : (int)q;
    }

    /// <summary><c>(float)dot · (weightScale · inputScale)</c>: an exact int32 dot product back to float32.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Dequantize(int dot, float weightScale, float inputScale) => dot * (weightScale * inputScale);

    /// <summary>
    /// Quantizes <c>x[0..n)</c> per vector into <paramref name="u"/> as unsigned bytes <c>q + 128</c> and returns the
    /// scale. Non-finite inputs (a diverged state) give scale NaN, which makes the product NaN rather than silently
    /// clamping. No checks.
    /// </summary>
    internal static unsafe float QuantizeUnsigned(float* x, int n, byte* u)
    {
        float amax = 0f;
        for (int i = 0; i < n; i++)
        {
            float a = MathF.Abs(x[i]);
            amax = a > amax || float.IsNaN(a) ? a : amax;
        }

        float scale = float.IsFinite(amax) ? amax / 127f : float.NaN;
        if (!float.IsFinite(scale) || scale == 0f)
        {
            new Span<byte>(u, n).Fill(128);
            return scale;
        }

        for (int i = 0; i < n; i++)
        {
            float q = MathF.Round(x[i] / scale, MidpointRounding.ToEven);
            u[i] = (byte)((q >= 127f ? 127 : q <= -127f ? -127 : (int)q) + 128);
        }

        return scale;
    }
}
