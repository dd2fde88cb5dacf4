namespace RecurrentCore.Cells;

/// <summary>
/// Which rows of a batch take part in a time step (variable lengths): an inactive row keeps its state unchanged and
/// passes its gradients through untouched. Empty means every row is active.
/// </summary>
internal static class StepMask
{
    /// <summary>Copies <paramref name="from"/>'s rows into <paramref name="to"/>'s for every inactive row (both H apart).</summary>
    public static void KeepInactive(ReadOnlySpan<byte> active, int width, int stride, ReadOnlySpan<float> from, Span<float> to) =>
        KeepInactive(active, width, stride, stride, from, to);

    /// <summary>Copies <paramref name="from"/>'s rows into <paramref name="to"/>'s for every inactive row.</summary>
    public static void KeepInactive(ReadOnlySpan<byte> active, int width, int fromStride, int toStride, ReadOnlySpan<float> from, Span<float> to)
    {
        for (int b = 0; b < active.Length; b++)
        {
            if (active[b] == 0)
            {
                from.Slice(b * fromStride, width).CopyTo(to.Slice(b * toStride, width));
            }
        }
    }

    /// <summary>Zeroes the inactive rows of <paramref name="rows"/>.</summary>
    public static void ClearInactive(ReadOnlySpan<byte> active, int width, Span<float> rows)
    {
        for (int b = 0; b < active.Length; b++)
        {
            if (active[b] == 0)
            {
                rows.Slice(b * width, width).Clear();
            }
        }
    }
}
