namespace RecurrentCore.Kernels;

/// <summary>A row count fixed at JIT time, so one micro-kernel body specialises to every tile height.</summary>
internal interface IRowCount
{
    /// <summary>The number of rows.</summary>
    static abstract int Value { get; }
}

/// <summary>A tile of 1 row.</summary>
internal readonly struct R1 : IRowCount
{
    public static int Value => 1;
}

/// <summary>A tile of 2 rows.</summary>
internal readonly struct R2 : IRowCount
{
    public static int Value => 2;
}

/// <summary>A tile of 3 rows.</summary>
internal readonly struct R3 : IRowCount
{
    public static int Value => 3;
}

/// <summary>A tile of 4 rows.</summary>
internal readonly struct R4 : IRowCount
{
    public static int Value => 4;
}

/// <summary>A tile of 5 rows.</summary>
internal readonly struct R5 : IRowCount
{
    public static int Value => 5;
}

/// <summary>A tile of 6 rows.</summary>
internal readonly struct R6 : IRowCount
{
    public static int Value => 6;
}

/// <summary>A tile of 7 rows.</summary>
internal readonly struct R7 : IRowCount
{
    public static int Value => 7;
}

/// <summary>A tile of 8 rows.</summary>
internal readonly struct R8 : IRowCount
{
    public static int Value => 8;
}

/// <summary>A tile of 9 rows.</summary>
internal readonly struct R9 : IRowCount
{
    public static int Value => 9;
}

/// <summary>A tile of 10 rows.</summary>
internal readonly struct R10 : IRowCount
{
    public static int Value => 10;
}

/// <summary>A tile of 11 rows.</summary>
internal readonly struct R11 : IRowCount
{
    public static int Value => 11;
}

/// <summary>A tile of 12 rows.</summary>
internal readonly struct R12 : IRowCount
{
    public static int Value => 12;
}
