using RecurrentCore.Kernels;
using Xunit;

namespace RecurrentCore.Tests.Kernels;

/// <summary>
/// A logical buffer sliced out of a larger array whose guard regions before and after hold NaN: an over-read
/// turns an output into NaN, an over-write changes a guard.
/// </summary>
internal sealed class Guarded
{
    public const int GuardLength = 67;

    private readonly float[] _store;

    public Guarded(int length)
    {
        Length = length;
        _store = new float[length + (2 * GuardLength)];
        _store.AsSpan().Fill(float.NaN);
    }

    public int Length { get; }

    public Span<float> Span => _store.AsSpan(GuardLength, Length);

    public static Guarded Random(Random rng, int length, float scale = 1f)
    {
        var g = new Guarded(length);
        var s = g.Span;
        for (int i = 0; i < s.Length; i++)
        {
            s[i] = (float)((rng.NextDouble() * 2) - 1) * scale;
        }

        return g;
    }

    public float[] ToArray() => Span.ToArray();

    /// <summary>Asserts that both guards still hold exactly the NaN they were filled with.</summary>
    public void AssertGuardsIntact(string what)
    {
        int nanBits = BitConverter.SingleToInt32Bits(float.NaN);
        for (int i = 0; i < GuardLength; i++)
        {
            Assert.True(BitConverter.SingleToInt32Bits(_store[i]) == nanBits, $"{what}: guard before the span written at -{GuardLength - i}");
            Assert.True(BitConverter.SingleToInt32Bits(_store[GuardLength + Length + i]) == nanBits, $"{what}: guard after the span written at +{i}");
        }
    }
}

/// <summary>Variants for theories: every one this process can run.</summary>
public static class Variants
{
    public static TheoryData<KernelVariant> Supported
    {
        get
        {
            var data = new TheoryData<KernelVariant>();
            foreach (var v in KernelCatalog.Supported)
            {
                data.Add(v);
            }

            return data;
        }
    }

    /// <summary>Float unit roundoff, 2⁻²⁴.</summary>
    public const double Unit = 1.0 / (1 << 24);

    /// <summary>
    /// The error bound the kernels are held to: |computed − exact| ≤ 2·(n + 2)·u·(|y₀| + Σ|aᵢbᵢ|), twice the classic
    /// recursive-summation bound γₙ for n products plus the final add, with exact computed in double.
    /// </summary>
    public static double Bound(int n, double magnitude) => (2.0 * (n + 2) * Unit * magnitude) + 1e-30;
}
