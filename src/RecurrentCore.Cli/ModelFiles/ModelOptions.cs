namespace RecurrentCore.Cli.ModelFiles;

/// <summary>How forward and backward name their weights: --weights (safetensors) or --model (either format), exactly one.</summary>
internal static class ModelOptions
{
    public static (CellKind? Cell, string Path, bool IsModel) Resolve(string? cell, string? weights, string? model)
    {
        // The parser's validator (ParityCommands) has already refused none or both as a usage error.
        System.Diagnostics.Debug.Assert((weights is null) != (model is null), "exactly one of --weights and --model");

        return (cell is null ? null : CellKinds.Parse(cell), weights ?? model!, model is not null);
    }
}
