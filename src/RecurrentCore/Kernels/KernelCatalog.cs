using System.Runtime.CompilerServices;
using RecurrentCore.Kernels.Simd;

namespace RecurrentCore.Kernels;

/// <summary>
/// The kernel variants this machine can run, in preference order, and the one in use.
/// The environment variable <c>RECURRENTCORE_KERNEL</c> (<c>avx512|avx2|vector128|scalar</c>; <c>vector</c> is accepted for <c>vector128</c>) forces a variant.
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
        KernelVariant.Avx512 => Simd512.IsSupported,
        KernelVariant.Avx2Fma => Simd256.IsSupported,
        KernelVariant.Vector128 => Simd128.IsSupported,
        KernelVariant.Scalar => SimdScalar.IsSupported,
        _ => false,
    };

    /// <summary>Parses a variant name as accepted by <c>RECURRENTCORE_KERNEL</c>.</summary>
    /// <exception cref="ArgumentException">The name is not one of avx512, avx2, vector128, scalar (or the aliases avx2fma, vector, vectort).</exception>
    public static KernelVariant Parse(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return name.Trim().ToLowerInvariant() switch
        {
            "avx512" => KernelVariant.Avx512,
            "avx2" or "avx2fma" => KernelVariant.Avx2Fma,
            // "vector"/"vectort" named this variant before it was called by its width.
            "vector128" or "vector" or "vectort" => KernelVariant.Vector128,
            "scalar" => KernelVariant.Scalar,
            _ => throw new ArgumentException($"unknown kernel variant '{name}': expected avx512, avx2, vector128 or scalar", nameof(name)),
        };
    }

    /// <summary>The short name used by <c>RECURRENTCORE_KERNEL</c> and the CLI.</summary>
    public static string Name(KernelVariant variant) => variant switch
    {
        KernelVariant.Avx512 => "avx512",
        KernelVariant.Avx2Fma => "avx2",
        KernelVariant.Vector128 => "vector128",
        KernelVariant.Scalar => "scalar",
        _ => throw new ArgumentOutOfRangeException(nameof(variant)),
    };

    private static KernelVariant[] DetectSupported()
    {
        var list = new List<KernelVariant>(4);
        foreach (var v in (ReadOnlySpan<KernelVariant>)[KernelVariant.Avx512, KernelVariant.Avx2Fma, KernelVariant.Vector128, KernelVariant.Scalar])
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

    /// <summary>
    /// Calls <paramref name="visitor"/> with the closed width type arguments of <paramref name="variant"/>: the one place a
    /// variant becomes a generic instantiation, so a caller picks its kernels once and then calls them with no switch.
    /// </summary>
    /// <remarks>Does not check support; callers pass a variant from <see cref="Supported"/>.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static TResult Visit<TVisitor, TResult>(KernelVariant variant, ref TVisitor visitor)
        where TVisitor : struct, ISimdVisitor<TResult> => variant switch
        {
            KernelVariant.Avx512 => Simd512.Accept<TVisitor, TResult>(ref visitor),
            KernelVariant.Avx2Fma => Simd256.Accept<TVisitor, TResult>(ref visitor),
            KernelVariant.Vector128 => Simd128.Accept<TVisitor, TResult>(ref visitor),
            _ => SimdScalar.Accept<TVisitor, TResult>(ref visitor),
        };
}
