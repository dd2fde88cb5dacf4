namespace RecurrentCore.Cells;

/// <summary>
/// The registration of every fast-path cell: the one place a <see cref="CellKind"/> (and the GRU's reset placement)
/// becomes a cell type. An unregistered combination is refused here, so no code path can run it as another cell.
/// </summary>
internal static class CellCatalog
{
    /// <summary>The cell type of <paramref name="config"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">No cell is registered for the configuration.</exception>
    public static CellType For(RecurrentConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return (config.Cell, config.LinearBeforeReset) switch
        {
            (CellKind.Lstm, true) => CellType<LstmCell>.Instance,
            (CellKind.Gru, true) => CellType<GruCell>.Instance,
            (CellKind.Gru, false) => CellType<GruResetBeforeCell>.Instance,
            (CellKind.RnnTanh, true) => CellType<ElmanCell<TanhNonlinearity>>.Instance,
            (CellKind.RnnRelu, true) => CellType<ElmanCell<ReluNonlinearity>>.Instance,
            _ => throw new ArgumentOutOfRangeException(
                nameof(config), $"no fast-path cell is registered for {config.Cell} with linear_before_reset = {(config.LinearBeforeReset ? 1 : 0)}"),
        };
    }
}
