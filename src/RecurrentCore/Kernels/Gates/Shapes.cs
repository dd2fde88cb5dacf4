namespace RecurrentCore.Kernels.Gates;

/// <summary>Argument checks shared by the gate kernels: row-strided buffers of <c>batch</c> rows.</summary>
internal static class Shapes
{
    public static void Dimensions(int batch, int hiddenSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(batch);
        ArgumentOutOfRangeException.ThrowIfNegative(hiddenSize);
    }

    /// <summary>A required buffer of <paramref name="batch"/> rows of <paramref name="rowLength"/>, rows <paramref name="stride"/> apart.</summary>
    public static void Rows(int length, int batch, int rowLength, int stride, string name)
    {
        // A single row never steps, so its stride is not looked at.
        if (batch > 1 && stride < rowLength)
        {
            throw new ArgumentException($"{name}: row stride {stride} is less than the row length {rowLength}", name);
        }

        long need = batch == 0 ? 0 : ((long)(batch - 1) * stride) + rowLength;
        if (length < need)
        {
            throw new ArgumentException($"{name}: has {length} elements, needs {need} ({batch} rows of {rowLength}, stride {stride})", name);
        }
    }

    /// <summary>An optional buffer: empty means absent, else as <see cref="Rows"/>.</summary>
    public static bool OptionalRows(int length, int batch, int rowLength, int stride, string name)
    {
        if (length == 0)
        {
            return false;
        }

        Rows(length, batch, rowLength, stride, name);
        return true;
    }

    /// <summary>An optional vector shared by every row (a bias): empty, or exactly <paramref name="rowLength"/>.</summary>
    public static bool OptionalVector(int length, int rowLength, string name)
    {
        if (length != 0 && length != rowLength)
        {
            throw new ArgumentException($"{name}: has {length} elements, expected {rowLength} or none", name);
        }

        return length != 0;
    }

    /// <summary>A required single row of exactly <paramref name="rowLength"/>.</summary>
    public static void Row(int length, int rowLength, string name)
    {
        if (length != rowLength)
        {
            throw new ArgumentException($"{name}: has {length} elements, expected {rowLength}", name);
        }
    }
}
