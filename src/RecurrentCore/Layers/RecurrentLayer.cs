using System.Globalization;
using RecurrentCore.Interop;
using RecurrentCore.Kernels;
using RecurrentCore.Sequence;

namespace RecurrentCore.Layers;

/// <summary>
/// A PyTorch-compatible stack of RNN, LSTM or GRU layers (nn.RNN / nn.LSTM / nn.GRU semantics, gate orders and
/// parameter names) running on the SIMD kernels in float32. Built once from a configuration and weights, which are
/// packed for the kernels at construction; afterwards immutable and safe to share between threads, each caller
/// bringing its own <see cref="RecurrentWorkspace"/> or <see cref="StreamState"/>.
/// </summary>
/// <remarks>
/// Shapes, as in PyTorch: input (T, B, I) or (B, T, I) batch-first; output (T, B, D·H) or (B, T, D·H); h0, c0, h_n,
/// c_n (L·D, B, H); lengths (B) with each in 1..T (pack_padded_sequence semantics: outputs past a length are 0, h_n/c_n
/// are taken at each sequence's own last step, the reverse direction starts at each sequence's last valid step).
/// With proj_size P (LSTM, <see cref="RecurrentConfig.ProjSize"/>), h' = W_hr (o⊙tanh c') has P features: h0, h_n are
/// (L·D, B, P) and outputs D·P, while c0, c_n stay (L·D, B, H); such a stack runs forward, backward and streaming on the
/// same kernels through its own loop, on the caller's thread whatever the workspace's thread count.
/// </remarks>
public sealed class RecurrentLayer
{
    private readonly SequenceModel? _model;

    private RecurrentLayer(SequenceModel model)
    {
        _model = model;
        Config = model.Config;
        Variant = model.Variant;
    }

    private RecurrentLayer(ProjectedLstm projected)
    {
        Projected = projected;
        Config = projected.Config;
        Variant = projected.Variant;
    }

    /// <summary>The configuration.</summary>
    public RecurrentConfig Config { get; }

    /// <summary>The kernel variant every call of this layer runs.</summary>
    public KernelVariant Variant { get; }

    /// <summary>Builds a layer from parameters in PyTorch layout (rounded to float32).</summary>
    /// <param name="parameters">The weights and biases.</param>
    /// <param name="variant">The kernel variant; <see cref="KernelCatalog.Active"/> when null.</param>
    /// <exception cref="ArgumentException">The variant is not supported on this machine, or a finite value is beyond
    /// float32's range (rounding would make it ±∞): the message names the parameter and the index.</exception>
    public static RecurrentLayer FromParameters(RecurrentParameters parameters, KernelVariant? variant = null)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        return FromArrays(
            parameters.Config,
            (layer, dir, kind) => ToSingle(parameters[layer, dir, kind], RecurrentParameters.Name(layer, dir, kind), nameof(parameters)),
            variant);
    }

    /// <summary>Builds a layer from float32 arrays in PyTorch layout, keyed by PyTorch name (weight_ih_l0, ...).</summary>
    /// <exception cref="ArgumentException">A tensor is missing or has the wrong length; the message names it.</exception>
    public static RecurrentLayer FromArrays(RecurrentConfig config, IReadOnlyDictionary<string, float[]> tensors, KernelVariant? variant = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(tensors);
        foreach (var (name, shape, _, _, _) in RecurrentParameters.Layout(config))
        {
            long expected = shape.Aggregate(1L, (a, b) => a * b);
            if (!tensors.TryGetValue(name, out var t))
            {
                throw new ArgumentException($"tensor '{name}' is missing", nameof(tensors));
            }

            if (t.Length != expected)
            {
                throw new ArgumentException($"tensor '{name}' has {t.Length} values, expected {expected} ({string.Join(" x ", shape)})", nameof(tensors));
            }
        }

        return FromArrays(config, (layer, dir, kind) => (float[])tensors[RecurrentParameters.Name(layer, dir, kind)].Clone(), variant);
    }

    /// <summary>Builds a layer from a PyTorch state_dict (e.g. a safetensors file's tensors), inferring the configuration.</summary>
    /// <exception cref="InteropFormatException">The set of tensors is inconsistent; the message names the tensor.</exception>
    public static RecurrentLayer FromStateDict(CellKind cell, IEnumerable<KeyValuePair<string, HostTensor>> tensors, string sourceName, bool batchFirst = false, KernelVariant? variant = null) =>
        FromParameters(PyTorchStateDict.ToParameters(cell, tensors, sourceName, batchFirst), variant);

    /// <summary>Loads a PyTorch state_dict saved as safetensors.</summary>
    /// <exception cref="InteropFormatException">The file is malformed or its tensors inconsistent; the message names the file.</exception>
    public static RecurrentLayer Load(string safetensorsPath, CellKind cell, bool batchFirst = false, KernelVariant? variant = null) =>
        FromStateDict(cell, SafeTensors.ReadFile(safetensorsPath).Tensors, safetensorsPath, batchFirst, variant);

    /// <summary>A workspace for sequences of up to <paramref name="maxSeqLen"/> steps and <paramref name="maxBatch"/> rows.</summary>
    /// <param name="maxSeqLen">Longest T.</param>
    /// <param name="maxBatch">Largest B.</param>
    /// <param name="training">Whether forward keeps what <see cref="Backward"/> needs.</param>
    /// <param name="threads">
    /// Threads a call may use (1: the caller only). Batch rows are split among them (at least two rows each), and the
    /// input projection and input gradient by rows; results are bitwise identical whatever the count. A workspace
    /// with more than one thread owns background threads: dispose it.
    /// </param>
    public RecurrentWorkspace CreateWorkspace(int maxSeqLen, int maxBatch, bool training = false, int threads = 1) => new(this, maxSeqLen, maxBatch, training, threads);

    /// <summary>A streaming state for <paramref name="batch"/> independent streams (unidirectional layers only).</summary>
    /// <exception cref="InvalidOperationException">The layer is bidirectional: its reverse direction needs the whole sequence.</exception>
    public StreamState CreateStream(int batch = 1) => new(this, batch);

    /// <summary>Runs the layers over a whole batch of sequences.</summary>
    /// <param name="workspace">From <see cref="CreateWorkspace"/>; a training workspace keeps what backward needs.</param>
    /// <param name="input">(T, B, I), or (B, T, I) when batch-first.</param>
    /// <param name="seqLen">T.</param>
    /// <param name="batch">B.</param>
    /// <param name="output">(T, B, D·H), or (B, T, D·H) when batch-first.</param>
    /// <param name="hN">(L·D, B, H) final hidden states, or empty.</param>
    /// <param name="cN">(L·D, B, H) final cell states (LSTM), or empty.</param>
    /// <param name="h0">(L·D, B, H) initial hidden states, or empty for zeros.</param>
    /// <param name="c0">(L·D, B, H) initial cell states (LSTM), or empty for zeros.</param>
    /// <param name="lengths">(B) sequence lengths in 1..T, or empty when all are T.</param>
    /// <exception cref="ArgumentException">A span's length does not fit the shapes, a length is out of range, or the workspace is too small or another layer's.</exception>
    /// <exception cref="ObjectDisposedException">The workspace was disposed.</exception>
    public void Forward(
        RecurrentWorkspace workspace, ReadOnlySpan<float> input, int seqLen, int batch, Span<float> output, Span<float> hN = default,
        Span<float> cN = default, ReadOnlySpan<float> h0 = default, ReadOnlySpan<float> c0 = default, ReadOnlySpan<int> lengths = default)
    {
        ArgumentNullException.ThrowIfNull(workspace);
        ObjectDisposedException.ThrowIf(workspace.IsDisposed, typeof(RecurrentWorkspace));
        ArgumentOutOfRangeException.ThrowIfLessThan(seqLen, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        workspace.Require(this, seqLen, batch);
        if (workspace.Projected is { } projected)
        {
            Projected!.Forward(projected, input, seqLen, batch, Config.BatchFirst, output, hN, cN, h0, c0, lengths);
            return;
        }

        SequenceRunner.Forward(Model, workspace.Buffers, workspace.Pass, input, seqLen, batch, output, hN, cN, h0, c0, lengths);
    }

    /// <summary>
    /// Back-propagates through the last <see cref="Forward"/> run in <paramref name="workspace"/> (a training workspace)
    /// for the loss L = Σ output⊙gradOutput + Σ h_n⊙gradHN + Σ c_n⊙gradCN: accumulates dL/d(parameters) into
    /// <paramref name="gradients"/> and writes dL/d(input), dL/dh0 and dL/dc0 (each optional: empty skips it).
    /// </summary>
    /// <exception cref="ArgumentException">A span's length does not fit the last forward's shapes.</exception>
    /// <exception cref="InvalidOperationException">The workspace is not a training one, or holds no forward.</exception>
    /// <exception cref="ObjectDisposedException">The workspace was disposed.</exception>
    public void Backward(
        RecurrentWorkspace workspace, ReadOnlySpan<float> gradOutput, ReadOnlySpan<float> gradHN, ReadOnlySpan<float> gradCN, RecurrentGradients gradients,
        Span<float> gradInput = default, Span<float> gradH0 = default, Span<float> gradC0 = default)
    {
        ArgumentNullException.ThrowIfNull(workspace);
        ObjectDisposedException.ThrowIf(workspace.IsDisposed, typeof(RecurrentWorkspace));
        if (!ReferenceEquals(workspace.Layer, this))
        {
            throw new ArgumentException("the workspace was created by another layer", nameof(workspace));
        }

        if (workspace.Projected is { } projected)
        {
            Projected!.Backward(projected, gradOutput, gradHN, gradCN, gradients, gradInput, gradH0, gradC0);
            return;
        }

        SequenceRunner.Backward(Model, workspace.Buffers, workspace.Pass, gradOutput, gradHN, gradCN, gradients, gradInput, gradH0, gradC0);
    }

    /// <summary>The cell, weights and loops this layer runs (every layer but a projected LSTM).</summary>
    internal SequenceModel Model => _model ?? throw new InvalidOperationException("a projected LSTM (proj_size > 0) runs on ProjectedLstm, not on the cell loops");

    /// <summary>The projected LSTM this layer runs when <see cref="RecurrentConfig.ProjSize"/> is positive; else null.</summary>
    internal ProjectedLstm? Projected { get; }

    /// <summary>
    /// The row-major storage this layer computes with, for training code that updates it in place (PyTorch layout;
    /// empty for an absent bias). After changing values, call <see cref="RefreshWeights"/>.
    /// </summary>
    internal float[] ParameterStorage(int layer, int direction, ParameterKind kind)
    {
        if (Projected is not null)
        {
            return Projected.Storage(layer, direction, kind);
        }

        var w = Model.Weights(layer, direction);
        return kind switch
        {
            ParameterKind.WeightIh => w.WeightIh,
            ParameterKind.WeightHh => w.WeightHh,
            ParameterKind.BiasIh => w.BiasIh ?? [],
            ParameterKind.BiasHh => w.BiasHh ?? [],
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
    }

    /// <summary>
    /// Re-packs every weight after in-place updates through <see cref="ParameterStorage"/> (a training step); allocates
    /// nothing. A layer being trained must not run on other threads meanwhile.
    /// </summary>
    internal void RefreshWeights()
    {
        if (Projected is not null)
        {
            Projected.Refresh();
        }
        else
        {
            Model.Refresh();
        }
    }

    private static RecurrentLayer FromArrays(RecurrentConfig config, Func<int, int, ParameterKind, float[]> get, KernelVariant? variant)
    {
        if (config.ProjSize != 0 && (config.Cell != CellKind.Lstm || config.ProjSize < 0 || config.ProjSize >= config.HiddenSize))
        {
            throw new ArgumentException($"proj_size {config.ProjSize} needs an LSTM and 0 < proj_size < hidden_size ({config.HiddenSize})", nameof(config));
        }

        var v = variant ?? KernelCatalog.Active;
        if (!KernelCatalog.IsSupported(v))
        {
            string name = Enum.IsDefined(v) ? KernelCatalog.Name(v) : $"({(int)v})";
            throw new ArgumentException($"kernel variant {name} is not supported on this machine", nameof(variant));
        }

        return config.ProjSize > 0 ? new RecurrentLayer(new ProjectedLstm(config, v, get)) : new RecurrentLayer(new SequenceModel(config, v, get));
    }

    private static float[] ToSingle(double[] data, string name, string paramName)
    {
        var f = new float[data.Length];
        for (int i = 0; i < data.Length; i++)
        {
            f[i] = (float)data[i];
            if (HostTensor.BeyondFloat32(data[i], f[i], string.Create(CultureInfo.InvariantCulture, $"index {i}")) is { } why)
            {
                throw new ArgumentException($"parameter '{name}': {why}", paramName);
            }
        }

        return f;
    }
}
