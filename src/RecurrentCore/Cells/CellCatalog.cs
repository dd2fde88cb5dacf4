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

    /// <summary>
    /// The general ONNX cell of one direction (<see cref="OnnxCell"/>): any activations with α/β, clip, input_forget,
    /// peepholes, either GRU reset placement; for nodes whose attributes PyTorch's cells do not cover.
    /// </summary>
    public static OnnxCell ForOnnx(OnnxCellSpec spec, float[] w, float[] r, float[]? wb, float[]? rb, float[]? peepholes, Kernels.KernelVariant variant)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return spec.Kind switch
        {
            OnnxCellKind.Lstm => new OnnxLstmCell(spec, w, r, wb, rb, peepholes, variant),
            OnnxCellKind.Gru => new OnnxGruCell(spec, w, r, wb, rb, variant),
            _ => new OnnxRnnCell(spec, w, r, wb, rb, variant),
        };
    }
}
