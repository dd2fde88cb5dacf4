namespace RecurrentCore.Cells;

/// <summary>Generic code over a cell type, reached from a <see cref="CellType"/> chosen at run time.</summary>
internal interface ICellVisitor<out TResult>
{
    TResult Visit<TCell>()
        where TCell : ICell;
}

/// <summary>
/// A registered cell, for code that sizes buffers or builds weights without being generic over it; <see cref="Accept"/>
/// reaches the generic code once (when a layer, workspace or stream is built).
/// </summary>
internal abstract class CellType
{
    public abstract int GateCount { get; }

    public abstract bool HasCellState { get; }

    public abstract bool RecurrentFirst { get; }

    public abstract bool SplitsHiddenWeights { get; }

    public abstract bool KeepsGateBias { get; }

    public abstract int StepScratchWidth(int hidden);

    public abstract int SavedWidth(int hidden);

    public abstract int HiddenGradientWidth(int hidden);

    public abstract void FoldBias(ReadOnlySpan<float> biasIh, ReadOnlySpan<float> biasHh, Span<float> projectionBias);

    public abstract void PanelStartSums(ReadOnlySpan<float> biasIh, ReadOnlySpan<float> biasHh, int hidden, Span<float> sums);

    public abstract TResult Accept<TResult>(ICellVisitor<TResult> visitor);
}

/// <summary>The <see cref="CellType"/> of <typeparamref name="TCell"/>.</summary>
internal sealed class CellType<TCell> : CellType
    where TCell : ICell
{
    public static readonly CellType<TCell> Instance = new();

    private CellType()
    {
    }

    public override int GateCount => TCell.GateCount;

    public override bool HasCellState => TCell.HasCellState;

    public override bool RecurrentFirst => TCell.RecurrentFirst;

    public override bool SplitsHiddenWeights => TCell.SplitsHiddenWeights;

    public override bool KeepsGateBias => TCell.KeepsGateBias;

    public override int StepScratchWidth(int hidden) => TCell.StepScratchWidth(hidden);

    public override int SavedWidth(int hidden) => TCell.SavedWidth(hidden);

    public override int HiddenGradientWidth(int hidden) => TCell.HiddenGradientWidth(hidden);

    public override void FoldBias(ReadOnlySpan<float> biasIh, ReadOnlySpan<float> biasHh, Span<float> projectionBias) =>
        TCell.FoldBias(biasIh, biasHh, projectionBias);

    public override void PanelStartSums(ReadOnlySpan<float> biasIh, ReadOnlySpan<float> biasHh, int hidden, Span<float> sums) =>
        TCell.PanelStartSums(biasIh, biasHh, hidden, sums);

    public override TResult Accept<TResult>(ICellVisitor<TResult> visitor) => visitor.Visit<TCell>();
}
