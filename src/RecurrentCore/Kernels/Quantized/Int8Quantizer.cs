using System.Runtime.CompilerServices;
using RecurrentCore.Kernels.Simd;

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

    /// <summary>
    /// <see cref="QuantizeUnsigned(float*, int, byte*)"/> at width <typeparamref name="TS"/>, the same bytes and scale:
    /// max|x| by lanes (max is exact in any order), then <c>x / s</c> (IEEE division) rounded to nearest even by adding
    /// and subtracting 1.5·2²³ (exact for |v| &lt; 2²²), whose bits then hold the integer. <paramref name="scratch"/> takes
    /// n floats. A non-finite input (caught by the lanes' sum of |x|) or a huge one takes the scalar path.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static unsafe float QuantizeUnsigned<TS, TV>(float* x, int n, byte* u, float* scratch)
        where TS : struct, ISimd<TV>
        where TV : unmanaged
    {
        int w = TS.Count, i = 0;
        TV amax = TS.Zero, total = TS.Zero;
        for (; i <= n - w; i += w)
        {
            TV a = TS.Abs(TS.Load(x + i));
            amax = TS.MaxNative(amax, a);
            total = TS.Add(total, a);
        }

        float m = 0f, sum = TS.Sum(total);
        for (int k = 0; k < w; k++)
        {
            float lane = ((float*)&amax)[k];
            m = lane > m ? lane : m;
        }

        for (; i < n; i++)
        {
            float a = MathF.Abs(x[i]);
            m = a > m ? a : m;
            sum += a;
        }

        if (!float.IsFinite(sum) || m == 0f)
        {
            return QuantizeUnsigned(x, n, u);
        }

        float scale = m / 127f;
        TV vs = TS.Create(scale), lo = TS.Create(-127f), hi = TS.Create(127f), magic = TS.Create(Magic);
        TV offset = TS.CreateBits(BitConverter.SingleToInt32Bits(Magic) - 128);
        i = 0;
        for (; i <= n - w; i += w)
        {
            TV v = TS.MaxNative(lo, TS.MinNative(hi, TS.Divide(TS.Load(x + i), vs)));
            TS.Store(TS.IntSubtract(TS.Add(v, magic), offset), scratch + i);
        }

        int* q = (int*)scratch;
        for (int k = 0; k < i; k++)
        {
            u[k] = (byte)q[k];
        }

        for (; i < n; i++)
        {
            u[i] = (byte)(Quantize(x[i], scale) + 128);
        }

        return scale;
    }

    /// <summary>
    /// From the unsigned bytes <c>u = q + 128</c> of <paramref name="n"/> values, the signed q and |q| that the column
    /// kernel takes, each written to <c>4·⌈n / 4⌉</c> bytes (zeros past n). No checks.
    /// </summary>
    internal static unsafe void SplitSigns(byte* u, int n, sbyte* q, byte* magnitudes)
    {
        int padded = (n + 3) & ~3;
        for (int i = 0; i < n; i++)
        {
            int v = u[i] - 128;
            q[i] = (sbyte)v;
            magnitudes[i] = (byte)(v < 0 ? -v : v);
        }

        for (int i = n; i < padded; i++)
        {
            q[i] = 0;
            magnitudes[i] = 0;
        }
    }

    /// <summary>1.5·2²³: adding it rounds a float of magnitude below 2²² to an integer (nearest, ties to even).</summary>
    private const float Magic = 12582912f;
}
