namespace RecurrentCore.Kernels.Quantized;

/// <summary>
/// bfloat16: the upper 16 bits of an IEEE float32 (8 exponent bits, 7 stored mantissa bits). Conversion from float32
/// rounds to nearest, ties to even; widening back is exact (a 16-bit shift).
/// </summary>
internal static class BFloat16
{
    /// <summary>The bfloat16 bits nearest to <paramref name="value"/> (ties to even); a NaN stays a (quiet) NaN, ±∞ stay ±∞.</summary>
    public static ushort FromSingle(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value))
        {
            // Rounding could carry a NaN's payload into the exponent and make it ∞: keep the sign, set the quiet bit.
            return (ushort)((bits >> 16) | 0x0040);
        }

        uint lsb = (bits >> 16) & 1;
        return (ushort)((bits + 0x7FFF + lsb) >> 16);
    }

    /// <summary>The float32 with the bits of <paramref name="value"/> in its upper half (exact).</summary>
    public static float ToSingle(ushort value) => BitConverter.Int32BitsToSingle(value << 16);
}
