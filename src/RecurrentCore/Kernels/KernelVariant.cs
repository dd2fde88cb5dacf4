namespace RecurrentCore.Kernels;

/// <summary>An implementation family of the numeric kernels, in preference order on x86.</summary>
public enum KernelVariant
{
    /// <summary>Vector512 with AVX-512F fused multiply-add.</summary>
    Avx512,

    /// <summary>Vector256 with AVX2 and FMA3 intrinsics.</summary>
    Avx2Fma,

    /// <summary>Portable 128-bit vectors (SSE / Arm AdvSIMD, fused multiply-add where the hardware has it): the path on Arm and older x86.</summary>
    Vector128,

    /// <summary>Plain scalar loops.</summary>
    Scalar,
}
