namespace RecurrentCore.Interop;

/// <summary>Sizes and format names of <see cref="TensorDType"/> values.</summary>
internal static class TensorDTypeInfo
{
    /// <summary>Bytes per element.</summary>
    public static int SizeOf(TensorDType dtype) => dtype switch
    {
        TensorDType.F32 => 4,
        TensorDType.F64 => 8,
        TensorDType.BF16 => 2,
        TensorDType.F16 => 2,
        TensorDType.I64 => 8,
        TensorDType.I32 => 4,
        TensorDType.U8 => 1,
        TensorDType.I8 => 1,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "Unknown tensor dtype."),
    };

    /// <summary>True for F32, F64, BF16 and F16.</summary>
    public static bool IsFloatingPoint(TensorDType dtype) =>
        dtype is TensorDType.F32 or TensorDType.F64 or TensorDType.BF16 or TensorDType.F16;

    /// <summary>The safetensors header name ("F32", "BF16", ...).</summary>
    public static string SafeTensorsName(TensorDType dtype) => dtype switch
    {
        TensorDType.F32 => "F32",
        TensorDType.F64 => "F64",
        TensorDType.BF16 => "BF16",
        TensorDType.F16 => "F16",
        TensorDType.I64 => "I64",
        TensorDType.I32 => "I32",
        TensorDType.U8 => "U8",
        TensorDType.I8 => "I8",
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "Unknown tensor dtype."),
    };

    /// <summary>Parses a safetensors dtype name; false for names this library does not read.</summary>
    public static bool TryParseSafeTensorsName(string name, out TensorDType dtype)
    {
        switch (name)
        {
            case "F32": dtype = TensorDType.F32; return true;
            case "F64": dtype = TensorDType.F64; return true;
            case "BF16": dtype = TensorDType.BF16; return true;
            case "F16": dtype = TensorDType.F16; return true;
            case "I64": dtype = TensorDType.I64; return true;
            case "I32": dtype = TensorDType.I32; return true;
            case "U8": dtype = TensorDType.U8; return true;
            case "I8": dtype = TensorDType.I8; return true;
            default: dtype = default; return false;
        }
    }

    /// <summary>Formats a shape the way numpy prints it: <c>()</c>, <c>(5,)</c>, <c>(3, 4)</c>.</summary>
    public static string FormatShape(IReadOnlyList<int> shape) => shape.Count switch
    {
        0 => "()",
        1 => "(" + shape[0].ToString(System.Globalization.CultureInfo.InvariantCulture) + ",)",
        _ => "(" + string.Join(", ", shape.Select(d => d.ToString(System.Globalization.CultureInfo.InvariantCulture))) + ")",
    };

    /// <summary>Product of the dimensions; false when a dimension is negative or the product overflows a long.</summary>
    public static bool TryGetElementCount(ReadOnlySpan<int> shape, out long count)
    {
        count = 1;
        foreach (int dim in shape)
        {
            if (dim < 0)
            {
                return false;
            }
        }

        // A zero dimension makes the product 0 whatever the others are; check that first so (0, huge, huge) is fine.
        foreach (int dim in shape)
        {
            if (dim == 0)
            {
                count = 0;
                return true;
            }
        }

        foreach (int dim in shape)
        {
            if (count > long.MaxValue / dim)
            {
                count = 0;
                return false;
            }

            count *= dim;
        }

        return true;
    }
}
