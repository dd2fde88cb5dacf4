using System.Numerics;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace RecurrentCore.Kernels;

/// <summary>
/// The kernel variants this machine can run, in preference order, and the one in use.
/// The environment variable <c>RECURRENTCORE_KERNEL</c> (<c>avx512|avx2|vector|scalar</c>) forces a variant.
/// </summary>
public static class KernelCatalog
{
    /// <summary>The name of the environment variable that forces a kernel variant.</summary>
    public const string ForceVariable = "RECURRENTCORE_KERNEL";

    /// <summary>Variants this process can execute, best first; <see cref="KernelVariant.Scalar"/> is always last.</summary>
    public static IReadOnlyList<KernelVariant> Supported { get; } = DetectSupported();

    /// <summary>The variant in use: the forced one when <c>RECURRENTCORE_KERNEL</c> is set, else the first supported.</summary>
    public static KernelVariant Active { get; } = ChooseActive(Environment.GetEnvironmentVariable(ForceVariable));

    /// <summary>Whether this process can execute <paramref name="variant"/>.</summary>
    public static bool IsSupported(KernelVariant variant) => variant switch
    {
        KernelVariant.Avx512 => Vector512.IsHardwareAccelerated && Avx512F.IsSupported && Fma.IsSupported,
        KernelVariant.Avx2Fma => Avx2.IsSupported && Fma.IsSupported,
        KernelVariant.VectorT => Vector.IsHardwareAccelerated,
        KernelVariant.Scalar => true,
        _ => false,
    };

    /// <summary>Parses a variant name as accepted by <c>RECURRENTCORE_KERNEL</c>.</summary>
    /// <exception cref="ArgumentException">The name is not one of avx512, avx2, vector, scalar.</exception>
    public static KernelVariant Parse(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return name.Trim().ToLowerInvariant() switch
        {
            "avx512" => KernelVariant.Avx512,
            "avx2" or "avx2fma" => KernelVariant.Avx2Fma,
            "vector" or "vectort" => KernelVariant.VectorT,
            "scalar" => KernelVariant.Scalar,
            _ => throw new ArgumentException($"unknown kernel variant '{name}': expected avx512, avx2, vector or scalar", nameof(name)),
        };
    }

    /// <summary>The short name used by <c>RECURRENTCORE_KERNEL</c> and the CLI.</summary>
    public static string Name(KernelVariant variant) => variant switch
    {
        KernelVariant.Avx512 => "avx512",
        KernelVariant.Avx2Fma => "avx2",
        KernelVariant.VectorT => "vector",
        KernelVariant.Scalar => "scalar",
        _ => throw new ArgumentOutOfRangeException(nameof(variant)),
    };

    private static KernelVariant[] DetectSupported()
    {
        var list = new List<KernelVariant>(4);
        foreach (var v in (ReadOnlySpan<KernelVariant>)[KernelVariant.Avx512, KernelVariant.Avx2Fma, KernelVariant.VectorT, KernelVariant.Scalar])
        {
            if (IsSupported(v))
            {
                list.Add(v);
            }
        }

        return [.. list];
    }

    private static KernelVariant ChooseActive(string? forced)
    {
        if (string.IsNullOrWhiteSpace(forced))
        {
            return Supported[0];
        }

        var v = Parse(forced);
        // A forced variant this CPU cannot run falls back to the best one that it can, rather than faulting.
        return IsSupported(v) ? v : Supported[0];
    }
}
