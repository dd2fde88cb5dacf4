using System.Diagnostics;
using RecurrentCore.Interop;
using Xunit;
using static RecurrentCore.Tests.Interop.InteropAssert;

namespace RecurrentCore.Tests.Interop;

/// <summary>
/// Truncates valid files at every length and flips random bytes (fixed seed): only InteropFormatException or success.
/// Typically well under a second per file; the 10 s bound only catches hangs on a loaded machine.
/// </summary>
public class InteropFuzzTests
{
    public static TheoryData<string> Files() => new("f32_3x4.npy", "f32_v2_2x2.npy", "f64_scalar.npy", "model.safetensors");

    [Theory]
    [MemberData(nameof(Files))]
    public void Hostile_variants_only_raise_InteropFormatException(string name)
    {
        byte[] valid = File.ReadAllBytes(FixturePath(name));
        Func<byte[], object> read = name.EndsWith(".npy", StringComparison.Ordinal)
            ? b => Npy.Read(b, name)
            : b => SafeTensors.Read(b, name);
        var watch = Stopwatch.StartNew();

        for (int length = 0; length < valid.Length; length++)
        {
            ReadOrFormatError(read, valid[..length], name);
        }

        var random = new Random(20261130);
        for (int i = 0; i < 600; i++)
        {
            byte[] mutated = (byte[])valid.Clone();
            int flips = 1 + random.Next(4);
            for (int f = 0; f < flips; f++)
            {
                // Bias towards the header, where the parsing happens.
                int at = random.Next(2) == 0 ? random.Next(Math.Min(mutated.Length, 128)) : random.Next(mutated.Length);
                mutated[at] = random.Next(3) == 0 ? (byte)(mutated[at] ^ (1 << random.Next(8))) : (byte)random.Next(256);
            }

            ReadOrFormatError(read, mutated, name);
        }

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"fuzzing {name} took {watch.Elapsed}");
    }

    private static void ReadOrFormatError(Func<byte[], object> read, byte[] bytes, string name)
    {
        try
        {
            read(bytes);
        }
        catch (InteropFormatException e)
        {
            Assert.StartsWith(name + ": ", e.Message, StringComparison.Ordinal);
            Assert.DoesNotContain('\n', e.Message);
        }
    }
}
