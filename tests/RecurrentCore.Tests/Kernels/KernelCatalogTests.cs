using RecurrentCore.Kernels;
using Xunit;

namespace RecurrentCore.Tests.Kernels;

[Trait("Category", "Kernels")]
public class KernelCatalogTests
{
    [Fact]
    public void Runtime_switches_that_disable_instruction_sets_remove_their_variants()
    {
        // CI reruns this category under these switches; if detection ignored them, those runs would test AVX-512 again.
        var supported = KernelCatalog.Supported;
        if (Environment.GetEnvironmentVariable("DOTNET_EnableHWIntrinsic") == "0")
        {
            Assert.Equal([KernelVariant.Scalar], supported);
        }

        if (Environment.GetEnvironmentVariable("DOTNET_EnableAVX512") == "0" || Environment.GetEnvironmentVariable("DOTNET_EnableAVX512F") == "0")
        {
            Assert.DoesNotContain(KernelVariant.Avx512, supported);
        }

        Assert.Equal(supported.Contains(KernelVariant.Avx512), System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated);
    }

    [Fact]
    public void Active_is_the_forced_variant_when_supported_else_the_best()
    {
        var forced = Environment.GetEnvironmentVariable(KernelCatalog.ForceVariable);
        var expected = string.IsNullOrWhiteSpace(forced) || !KernelCatalog.IsSupported(KernelCatalog.Parse(forced))
            ? KernelCatalog.Supported[0]
            : KernelCatalog.Parse(forced);
        Assert.Equal(expected, KernelCatalog.Active);
    }

    [Theory]
    [InlineData("avx512", KernelVariant.Avx512)]
    [InlineData("AVX2", KernelVariant.Avx2Fma)]
    [InlineData("avx2fma", KernelVariant.Avx2Fma)]
    [InlineData("vector128", KernelVariant.Vector128)]
    [InlineData(" vector ", KernelVariant.Vector128)]
    [InlineData("vectort", KernelVariant.Vector128)]
    [InlineData("scalar", KernelVariant.Scalar)]
    public void Parse_accepts_names_and_old_aliases(string name, KernelVariant expected) => Assert.Equal(expected, KernelCatalog.Parse(name));

    [Fact]
    public void Names_round_trip_and_unknown_names_are_refused()
    {
        foreach (var v in Enum.GetValues<KernelVariant>())
        {
            Assert.Equal(v, KernelCatalog.Parse(KernelCatalog.Name(v)));
        }

        var e = Assert.Throws<ArgumentException>(() => KernelCatalog.Parse("sse9"));
        Assert.Contains("sse9", e.Message, StringComparison.Ordinal);
    }
}
