using System.Globalization;
using RecurrentCore.Interop;
using RecurrentCore.Layers;
using RecurrentCore.Reference;

namespace RecurrentCore.Cli.Parity;

/// <summary>The file paths of one parity run, as given on the command line (the parity contract).</summary>
internal sealed record ParityPaths(
    CellKind Cell,
    string Weights,
    string Input,
    string? H0 = null,
    string? C0 = null,
    string? Lengths = null,
    bool BatchFirst = false,
    string? GradOutput = null,
    string? GradHN = null,
    string? GradCN = null)
{
    /// <summary>Whether no --cell was given: <see cref="Cell"/> is a placeholder and the file must record the cell.</summary>
    public bool CellFromFile { get; init; }

    /// <summary>Whether <see cref="Weights"/> came from --model (either format, configuration from the file).</summary>
    public bool IsModel { get; init; }

    /// <summary>--module: the module prefix of a whole-model state_dict.</summary>
    public string? Module { get; init; }
}

/// <summary>
/// The loaded and validated inputs of one parity run. Every check names the file and the problem in one line:
/// shapes against the configuration inferred from the weights, dtypes, non-finite values, lengths in 1..T.
/// </summary>
internal sealed class ParityInputs
{
    private ParityInputs(ParityPaths paths, RecurrentParameters parameters, SequenceInputs sequence, UpstreamGradients? upstream, QuantizedLayer? quantized)
    {
        Paths = paths;
        Parameters = parameters;
        Quantized = quantized;
        Sequence = sequence;
        Upstream = upstream;
    }

    /// <summary>Where each input came from, for messages.</summary>
    public ParityPaths Paths { get; }

    public RecurrentParameters Parameters { get; }

    /// <summary>The layer of a quantized model file (then <see cref="Parameters"/> are its stored weights); null for float files.</summary>
    public QuantizedLayer? Quantized { get; }

    public RecurrentConfig Config => Parameters.Config;

    public SequenceInputs Sequence { get; }

    /// <summary>Null for a forward run.</summary>
    public UpstreamGradients? Upstream { get; }

    public static ParityInputs Load(ParityPaths paths)
    {
        var (parameters, quantized, _) = ModelFiles.ModelLoader.Forward(paths.Weights, ModelFiles.ModelLoader.Load(paths.Weights, paths.CellFromFile ? null : paths.Cell, paths.BatchFirst ? true : null, paths.Module, safeTensorsOnly: !paths.IsModel));
        if (quantized is not null && paths.GradOutput is not null)
        {
            throw new CliException($"{paths.Weights}: {quantized.Format.Name()} weights are for inference; backward needs a float32 model");
        }

        var cfg = parameters.Config;

        var x = Npy.ReadFile(paths.Input);
        RequireFloat(x, paths.Input);
        if (x.Shape.Count != 3)
        {
            throw new CliException($"{paths.Input}: shape {Shape(x.Shape)} has rank {x.Shape.Count}, expected 3: {(cfg.BatchFirst ? "(B, T, I)" : "(T, B, I)")}");
        }

        int seqLen = cfg.BatchFirst ? x.Shape[1] : x.Shape[0];
        int batch = cfg.BatchFirst ? x.Shape[0] : x.Shape[1];
        if (seqLen < 1 || batch < 1 || x.Shape[2] != cfg.InputSize)
        {
            throw new CliException(
                $"{paths.Input}: shape {Shape(x.Shape)} does not fit {(cfg.BatchFirst ? "(B, T, I)" : "(T, B, I)")} with T, B >= 1 and I = {cfg.InputSize} (the input size of the weights)");
        }

        // With an LSTM projection h is P wide and c stays H wide.
        int[] stateShape = [cfg.NumLayers * cfg.NumDirections, batch, cfg.StateSize];
        int[] cellShape = [cfg.NumLayers * cfg.NumDirections, batch, cfg.HiddenSize];
        string StateLayout = cfg.ProjSize > 0 ? "(L·D, B, P)" : "(L·D, B, H)";
        const string CellLayout = "(L·D, B, H)";
        double[]? h0 = paths.H0 is null ? null : LoadFloat(paths.H0, stateShape, StateLayout);
        double[]? c0 = null;
        if (paths.C0 is not null)
        {
            if (!cfg.Cell.HasCellState())
            {
                throw new CliException($"{paths.C0}: an initial cell state was given but {cfg.Cell.Name()} has none (only lstm does)");
            }

            c0 = LoadFloat(paths.C0, cellShape, CellLayout);
        }

        int[]? lengths = paths.Lengths is null ? null : LoadLengths(paths.Lengths, batch, seqLen);
        var sequence = new SequenceInputs(seqLen, batch, ToDoubleChecked(x, paths.Input), h0, c0, lengths);

        UpstreamGradients? upstream = null;
        if (paths.GradOutput is not null)
        {
            int[] outShape = cfg.BatchFirst ? [batch, seqLen, cfg.OutputSize] : [seqLen, batch, cfg.OutputSize];
            var dy = LoadFloat(paths.GradOutput, outShape, cfg.BatchFirst ? "(B, T, D·H)" : "(T, B, D·H)");
            var dhn = paths.GradHN is null ? null : LoadFloat(paths.GradHN, stateShape, StateLayout);
            double[]? dcn = null;
            if (paths.GradCN is not null)
            {
                if (!cfg.Cell.HasCellState())
                {
                    throw new CliException($"{paths.GradCN}: a gradient for c_n was given but {cfg.Cell.Name()} has no cell state (only lstm does)");
                }

                dcn = LoadFloat(paths.GradCN, cellShape, CellLayout);
            }

            upstream = new UpstreamGradients(dy, dhn, dcn);
        }

        return new ParityInputs(paths, parameters, sequence, upstream, quantized);
    }

    internal static string Shape(IEnumerable<int> shape) => "(" + string.Join(", ", shape) + ")";

    private static double[] LoadFloat(string path, int[] expected, string layout)
    {
        var t = Npy.ReadFile(path);
        RequireFloat(t, path);
        if (!t.Shape.SequenceEqual(expected))
        {
            throw new CliException($"{path}: shape {Shape(t.Shape)}, expected {Shape(expected)} {layout}");
        }

        return ToDoubleChecked(t, path);
    }

    private static void RequireFloat(HostTensor t, string path)
    {
        if (t.DType is not (TensorDType.F32 or TensorDType.F64))
        {
            throw new CliException($"{path}: dtype {t.DType} is not supported here, expected float32");
        }
    }

    private static double[] ToDoubleChecked(HostTensor t, string path)
    {
        var values = t.ToDouble();
        for (int i = 0; i < values.Length; i++)
        {
            if (!double.IsFinite(values[i]))
            {
                throw new CliException($"{path}: non-finite value {values[i].ToString(CultureInfo.InvariantCulture)} at flat index {i}");
            }
        }

        return values;
    }

    private static int[] LoadLengths(string path, int batch, int seqLen)
    {
        var t = Npy.ReadFile(path);
        if (t.DType is not (TensorDType.I64 or TensorDType.I32))
        {
            throw new CliException($"{path}: dtype {t.DType} is not supported here, expected int64 sequence lengths");
        }

        if (t.Shape.Count != 1 || t.Shape[0] != batch)
        {
            throw new CliException($"{path}: shape {Shape(t.Shape)}, expected ({batch},) (one length per batch entry)");
        }

        var raw = t.ToInt64();
        var lengths = new int[batch];
        for (int b = 0; b < batch; b++)
        {
            if (raw[b] < 1 || raw[b] > seqLen)
            {
                throw new CliException($"{path}: length {raw[b].ToString(CultureInfo.InvariantCulture)} at index {b} is outside 1..{seqLen} (T)");
            }

            lengths[b] = (int)raw[b];
        }

        return lengths;
    }
}
