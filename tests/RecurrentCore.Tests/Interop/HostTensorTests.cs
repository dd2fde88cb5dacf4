using RecurrentCore.Interop;
using Xunit;

namespace RecurrentCore.Tests.Interop;

public class HostTensorTests
{
    [Fact]
    public void Scalar_has_one_element()
    {
        var t = HostTensor.FromSingle([], [2.5f]);
        Assert.Empty(t.Shape);
        Assert.Equal(1, t.ElementCount);
        Assert.Equal(new[] { 2.5f }, t.ToSingle());
    }

    [Fact]
    public void Empty_dimension_has_no_elements()
    {
        var t = HostTensor.FromDouble([3, 0, 2], []);
        Assert.Equal(0, t.ElementCount);
        Assert.Empty(t.ToDouble());
    }

    [Fact]
    public void Constructor_rejects_wrong_byte_count()
    {
        Assert.Throws<ArgumentException>(() => new HostTensor(TensorDType.F32, [2, 2], new byte[15]));
        Assert.Throws<ArgumentException>(() => HostTensor.FromSingle([3], [1f, 2f]));
        Assert.Throws<ArgumentException>(() => HostTensor.FromInt64([-1], []));
    }

    [Fact]
    public void Constructor_copies_the_bytes()
    {
        var bytes = new byte[4];
        var t = new HostTensor(TensorDType.I32, [1], bytes);
        bytes[0] = 9;
        Assert.Equal(new long[] { 0 }, t.ToInt64());
    }

    [Fact]
    public void BF16_widens_exactly_from_upper_16_bits()
    {
        float[] values = [1f, -2.5f, 0.15625f, float.PositiveInfinity, -0f, 3.0e38f];
        var bytes = new byte[values.Length * 2];
        for (int i = 0; i < values.Length; i++)
        {
            BitConverter.TryWriteBytes(bytes.AsSpan(i * 2), (ushort)(BitConverter.SingleToInt32Bits(values[i]) >>> 16));
        }

        float[] widened = new HostTensor(TensorDType.BF16, [values.Length], bytes).ToSingle();
        for (int i = 0; i < values.Length; i++)
        {
            Assert.Equal(BitConverter.SingleToInt32Bits(values[i]) & unchecked((int)0xFFFF0000), BitConverter.SingleToInt32Bits(widened[i]));
        }
    }

    [Fact]
    public void F16_widens_via_Half()
    {
        Half[] values = [(Half)1.5f, (Half)(-0.0009765625f), Half.MaxValue, Half.NaN];
        var bytes = new byte[values.Length * 2];
        for (int i = 0; i < values.Length; i++)
        {
            BitConverter.TryWriteBytes(bytes.AsSpan(i * 2), values[i]);
        }

        var t = new HostTensor(TensorDType.F16, [2, 2], bytes);
        Assert.Equal(values.Select(h => (float)h), t.ToSingle());
        Assert.Equal(values.Select(h => (double)h), t.ToDouble());
    }

    [Fact]
    public void F64_rounds_to_single()
    {
        var t = HostTensor.FromDouble([4], [0.1, 3.4e38, double.PositiveInfinity, double.NaN]);
        Assert.Equal(new[] { 0.1f, 3.4e38f, float.PositiveInfinity, float.NaN }, t.ToSingle());
    }

    [Theory]
    [InlineData(1e39)]
    [InlineData(-1e300)]
    [InlineData(3.4028236e38)]
    public void F64_beyond_float32_range_is_refused_naming_the_tensor_and_index(double value)
    {
        // Regression: the value used to become ±∞ silently (and NaN outputs on the float32 path).
        var t = HostTensor.FromDouble([3], [0.5, -2, value]);
        var e = Assert.Throws<InteropFormatException>(() => t.ToSingle("w.safetensors: tensor 'weight_ih_l0'"));
        Assert.StartsWith("w.safetensors: tensor 'weight_ih_l0': value ", e.Message, StringComparison.Ordinal);
        Assert.Contains("at flat index 2", e.Message, StringComparison.Ordinal);
        Assert.Contains("float32", e.Message, StringComparison.Ordinal);
        Assert.Throws<InteropFormatException>(() => t.ToSingle());
    }

    [Fact]
    public void Integers_convert_to_all_targets()
    {
        var t = HostTensor.FromInt64([3], [-5, 0, 1L << 40]);
        Assert.Equal(new long[] { -5, 0, 1L << 40 }, t.ToInt64());
        Assert.Equal(new double[] { -5, 0, 1L << 40 }, t.ToDouble());
        Assert.Equal(new float[] { -5, 0, 1L << 40 }, t.ToSingle());
        var u8 = new HostTensor(TensorDType.U8, [2], [200, 7]);
        Assert.Equal(new long[] { 200, 7 }, u8.ToInt64());
        var i8 = new HostTensor(TensorDType.I8, [3], [0x81, 7, 0xFF]);
        Assert.Equal(new long[] { -127, 7, -1 }, i8.ToInt64());
        Assert.Equal(new double[] { -127, 7, -1 }, i8.ToDouble());
        Assert.Equal(new float[] { -127, 7, -1 }, i8.ToSingle());
    }

    [Fact]
    public void ToInt64_refuses_floating_point()
    {
        InteropAssert.Fails(() => HostTensor.FromSingle([1], [1f]).ToInt64(), "F32", "floating point");
    }
}
