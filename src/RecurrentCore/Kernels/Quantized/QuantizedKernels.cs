using RecurrentCore.Kernels.Simd;

namespace RecurrentCore.Kernels.Quantized;

/// <summary>What the bfloat16 and int8 products run on each kernel variant (for diagnostics).</summary>
public static class QuantizedKernels
{
    /// <summary>The instructions the bf16 and int8 GEMV use on <paramref name="variant"/>.</summary>
    /// <exception cref="ArgumentException">The variant is not supported here.</exception>
    public static string Describe(KernelVariant variant)
    {
        if (!KernelCatalog.IsSupported(variant))
        {
            throw new ArgumentException($"kernel variant {variant} is not supported by this process", nameof(variant));
        }

        var v = default(Describer);
        return KernelCatalog.Visit<Describer, string>(variant, ref v);
    }

    private struct Describer : ISimdVisitor<string>
    {
        public readonly string Visit<TS, TV>()
            where TS : struct, ISimd<TV>
            where TV : unmanaged => TS.QuantizedInstructions;
    }
}
