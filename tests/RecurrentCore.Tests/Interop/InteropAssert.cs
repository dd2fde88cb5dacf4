using RecurrentCore.Interop;
using Xunit;

namespace RecurrentCore.Tests.Interop;

/// <summary>Shared checks and builders for the interop tests.</summary>
internal static class InteropAssert
{
    public static string FixturePath(string name) => Path.Combine(AppContext.BaseDirectory, "fixtures", "interop", name);

    /// <summary>Asserts an <see cref="InteropFormatException"/> with a one-line message containing every word.</summary>
    public static InteropFormatException Fails(Action action, params string[] words)
    {
        var e = Assert.Throws<InteropFormatException>(action);
        Assert.DoesNotContain('\n', e.Message);
        foreach (string word in words)
        {
            Assert.Contains(word, e.Message, StringComparison.OrdinalIgnoreCase);
        }

        return e;
    }

    public static void Equal(HostTensor expected, HostTensor actual)
    {
        Assert.Equal(expected.DType, actual.DType);
        Assert.Equal(expected.Shape, actual.Shape);
        Assert.Equal(expected.ElementCount, actual.ElementCount);
        Assert.True(expected.Bytes.Span.SequenceEqual(actual.Bytes.Span));
    }

    public static HostTensor Random(TensorDType dtype, int[] shape, int seed)
    {
        long count = shape.Aggregate(1L, (a, d) => a * d);
        var bytes = new byte[count * TensorDTypeInfo.SizeOf(dtype)];
        new Random(seed).NextBytes(bytes);
        return new HostTensor(dtype, shape, bytes);
    }

    /// <summary>A raw .npy file with the given header text (padded to 64 with spaces and '\n') and data.</summary>
    public static byte[] NpyBytes(string dict, byte[] data, int major = 1)
    {
        int prefix = major == 1 ? 10 : 12;
        int total = (prefix + dict.Length + 1 + 63) / 64 * 64;
        string header = dict.PadRight(total - prefix - 1) + "\n";
        var bytes = new List<byte> { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', (byte)major, 0 };
        if (major == 1)
        {
            bytes.AddRange(BitConverter.GetBytes((ushort)header.Length));
        }
        else
        {
            bytes.AddRange(BitConverter.GetBytes((uint)header.Length));
        }

        bytes.AddRange(System.Text.Encoding.UTF8.GetBytes(header));
        bytes.AddRange(data);
        return bytes.ToArray();
    }

    /// <summary>A raw safetensors file: u64 header size, the JSON text as given, then the buffer.</summary>
    public static byte[] SafeTensorsBytes(string json, byte[] buffer) => SafeTensorsBytes(System.Text.Encoding.UTF8.GetBytes(json), buffer);

    public static byte[] SafeTensorsBytes(byte[] header, byte[] buffer)
    {
        var bytes = new List<byte>();
        bytes.AddRange(BitConverter.GetBytes((ulong)header.Length));
        bytes.AddRange(header);
        bytes.AddRange(buffer);
        return bytes.ToArray();
    }
}
