namespace RecurrentCore.Kernels.Operators;

/// <summary>Checks a requested <see cref="KernelVariant"/> against what this process can run.</summary>
internal static class Variants
{
    /// <summary>Returns <paramref name="variant"/>, or throws when this process cannot execute it.</summary>
    /// <exception cref="ArgumentException">The variant is not in <see cref="KernelCatalog.Supported"/>.</exception>
    public static KernelVariant Resolve(KernelVariant variant) =>
        KernelCatalog.IsSupported(variant)
            ? variant
            : throw new ArgumentException($"kernel variant {KernelCatalog.Name(variant)} is not supported by this process", nameof(variant));

    /// <summary>The requested variant, or <see cref="KernelCatalog.Active"/> when none is given.</summary>
    public static KernelVariant Resolve(KernelVariant? variant) => Resolve(variant ?? KernelCatalog.Active);
}
