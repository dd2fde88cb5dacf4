namespace RecurrentCore.Interop;

/// <summary>Element type of a <see cref="HostTensor"/>; all multi-byte types are stored little-endian.</summary>
public enum TensorDType
{
    /// <summary>IEEE 754 binary32 (4 bytes); safetensors "F32", numpy "&lt;f4".</summary>
    F32,

    /// <summary>IEEE 754 binary64 (8 bytes); safetensors "F64", numpy "&lt;f8".</summary>
    F64,

    /// <summary>bfloat16: the upper 16 bits of a binary32 (2 bytes); safetensors "BF16", no numpy equivalent.</summary>
    BF16,

    /// <summary>IEEE 754 binary16 (2 bytes); safetensors "F16", numpy "&lt;f2".</summary>
    F16,

    /// <summary>Signed 64-bit integer (8 bytes); safetensors "I64", numpy "&lt;i8".</summary>
    I64,

    /// <summary>Signed 32-bit integer (4 bytes); safetensors "I32", numpy "&lt;i4".</summary>
    I32,

    /// <summary>Unsigned 8-bit integer (1 byte); safetensors "U8", numpy "|u1".</summary>
    U8,

    /// <summary>Signed 8-bit integer (1 byte); safetensors "I8", numpy "|i1".</summary>
    I8,
}
