using RecurrentCore.Kernels.Quantized;
using Xunit;

namespace RecurrentCore.Tests.Quantized;

/// <summary>bfloat16 conversion against the nearest of the two neighbouring bfloat16 values, chosen in double.</summary>
[Trait("Category", "Kernels")]
public class BFloat16Tests
{
    [Fact]
    public void Rounds_to_nearest_even()
    {
        var rng = new Random(5);
        var values = new List<float> { 0f, -0f, 1f, -1f, float.Epsilon, float.MaxValue, -float.MaxValue, float.PositiveInfinity, float.NegativeInfinity };
        // Exact ties (low 16 bits 0x8000) on both parities, and their neighbours.
        foreach (uint hi in new uint[] { 0x3F80, 0x3F81, 0xBF80, 0x4049, 0x7F7E })
        {
            foreach (uint lo in new uint[] { 0x7FFF, 0x8000, 0x8001 })
            {
                values.Add(BitConverter.UInt32BitsToSingle((hi << 16) | lo));
            }
        }

        for (int i = 0; i < 100_000; i++)
        {
            values.Add(BitConverter.UInt32BitsToSingle((uint)rng.NextInt64(0, 1L << 32)));
        }

        foreach (float v in values)
        {
            ushort got = BFloat16.FromSingle(v);
            if (float.IsNaN(v))
            {
                Assert.True(float.IsNaN(BFloat16.ToSingle(got)), $"NaN {BitConverter.SingleToUInt32Bits(v):X8} became {got:X4}");
                continue;
            }

            Assert.Equal(Expected(v), got);
        }
    }

    /// <summary>Truncate, then compare the distances to the two candidates in double (exact for these magnitudes).</summary>
    private static ushort Expected(float v)
    {
        uint bits = BitConverter.SingleToUInt32Bits(v);
        ushort down = (ushort)(bits >> 16);
        if ((bits & 0xFFFF) == 0 || float.IsInfinity(v))
        {
            return down;
        }

        ushort up = (ushort)(down + 1);
        double lo = BFloat16.ToSingle(down), hi = BFloat16.ToSingle(up);
        if (double.IsInfinity(hi))
        {
            // Past the largest finite bfloat16: the rounding boundary is half an ulp above it.
            hi = Math.CopySign(Math.Pow(2, 128), v);
        }

        double dl = Math.Abs(v - lo), dh = Math.Abs(hi - v);
        return dl < dh ? down : dh < dl ? up : (down & 1) == 0 ? down : up;
    }
}
