namespace RecurrentCore.Cli.ModelFiles;

/// <summary>How forward and backward name their weights: --weights (the original option) or --model, exactly one.</summary>
internal static class ModelOptions
{
    public static (CellKind? Cell, string Path, bool IsModel) Resolve(string? cell, string? weights, string? model)
    {
        if ((weights is null) == (model is null))
        {
            throw new CliException(weights is null
                ? "give the weights: --model FILE (safetensors or ONNX) or --weights FILE (safetensors)"
                : "give either --weights or --model, not both");
        }

        return (cell is null ? null : CellKinds.Parse(cell), weights ?? model!, model is not null);
    }
}
