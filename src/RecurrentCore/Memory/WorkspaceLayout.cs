namespace RecurrentCore.Memory;

/// <summary>A named slice of a workspace block: offset and capacity in floats.</summary>
internal readonly record struct Segment(int Offset, int Length)
{
    public Span<float> Of(float[] block) => block.AsSpan(Offset, Length);

    public Span<float> Of(float[] block, int length) => block.AsSpan(Offset, length);
}

/// <summary>Lays segments end to end in one block; refuses sizes past what one array can hold.</summary>
internal sealed class WorkspaceLayout
{
    private long _total;

    public int Total => (int)_total;

    public Segment Add(long length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        // Round each segment up to 16 floats (64 bytes) so views start on cache lines relative to the block.
        long start = (_total + 15) & ~15L;
        long end = start + length;
        if (end > Array.MaxLength)
        {
            throw new ArgumentOutOfRangeException(
                nameof(length), $"the workspace would need {end} floats, more than one array can hold ({Array.MaxLength}); use a smaller max T or max B");
        }

        _total = end;
        return new Segment((int)start, (int)length);
    }
}
