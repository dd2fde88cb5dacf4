namespace RecurrentCore.Interop.Onnx;

/// <summary>
/// ONNX export and import of a recurrent layer stack: one ONNX RNN, LSTM or GRU node per layer (opset 14, time-major
/// layout=0), with PyTorch's gate orders converted to ONNX's and back. See docs/onnx.md for the mapping tables and
/// what is refused.
/// </summary>
public static class OnnxModel
{
    /// <summary>The graph input, output and initializer names <see cref="Export(RecurrentParameters, OnnxExportOptions?)"/> uses.</summary>
    public static class Names
    {
        /// <summary>Graph input: (T, B, I), or (B, T, I) when batch-first; float32.</summary>
        public const string Input = "input";

        /// <summary>Optional graph input: int32 (B), each in 1..T.</summary>
        public const string SequenceLens = "sequence_lens";

        /// <summary>Optional graph input: (L·D, B, H) float32, PyTorch's h0 layout.</summary>
        public const string InitialH = "h0";

        /// <summary>Optional graph input (LSTM): (L·D, B, H) float32, PyTorch's c0 layout.</summary>
        public const string InitialC = "c0";

        /// <summary>Graph output: (T, B, D·H), or (B, T, D·H) when batch-first; zero past each sequence's length.</summary>
        public const string Output = "output";

        /// <summary>Graph output: (L·D, B, H), the state at each sequence's last step.</summary>
        public const string HN = "h_n";

        /// <summary>Graph output (LSTM): (L·D, B, H).</summary>
        public const string CN = "c_n";

        /// <summary>Graph output of <see cref="OnnxExportOptions.Head"/>.</summary>
        public const string Head = "head";
    }

    /// <summary>
    /// Builds the ONNX model of <paramref name="parameters"/> (weights stored as float32 raw_data).
    /// The graph has inputs <c>input</c> and, as <paramref name="options"/> ask, <c>sequence_lens</c>, <c>h0</c>,
    /// <c>c0</c>; outputs <c>output</c>, <c>h_n</c> and, for LSTM, <c>c_n</c> (see <see cref="Names"/>).
    /// </summary>
    /// <exception cref="ArgumentException">The options are out of range, or the configuration has no ONNX equivalent.</exception>
    public static byte[] Export(RecurrentParameters parameters, OnnxExportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        return OnnxExporter.Build(parameters, options ?? new OnnxExportOptions()).ToBytes();
    }

    /// <summary>Writes <see cref="Export(RecurrentParameters, OnnxExportOptions?)"/> to <paramref name="path"/>.</summary>
    /// <exception cref="ArgumentException">The options are out of range, or the configuration has no ONNX equivalent.</exception>
    public static void Export(RecurrentParameters parameters, string path, OnnxExportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        File.WriteAllBytes(path, Export(parameters, options));
    }

    /// <summary>Imports the RNN, LSTM or GRU layer stack of the .onnx file at <paramref name="path"/>.</summary>
    /// <exception cref="InteropFormatException">The file is malformed or uses something unsupported; the one-line
    /// message names the file and the node, attribute or input at fault.</exception>
    public static OnnxImportResult Import(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return Import(TensorFileSource.ReadAll(path), path);
    }

    /// <summary>
    /// Imports the layer stack of an ONNX model held in memory. Layer k is the k-th recurrent node in graph order;
    /// each must feed the next through shape-only nodes (Transpose, Reshape, Squeeze, Unsqueeze, Identity).
    /// </summary>
    /// <param name="bytes">The serialized ModelProto.</param>
    /// <param name="sourceName">Names the model in error messages.</param>
    /// <exception cref="InteropFormatException">The model is malformed or uses something unsupported.</exception>
    public static OnnxImportResult Import(ReadOnlySpan<byte> bytes, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(sourceName);
        return OnnxImporter.Import(OnnxModelProto.Parse(bytes, sourceName), sourceName);
    }

    /// <summary>
    /// Loads the whole graph of the .onnx file at <paramref name="path"/> to run it: recurrent nodes with every
    /// attribute, the shape nodes around them and Linear heads (see <see cref="OnnxSession"/>).
    /// </summary>
    /// <exception cref="InteropFormatException">The file is malformed or holds a node that is not supported; the
    /// one-line message names the file and the node and its op type.</exception>
    public static OnnxSession Load(string path, OnnxSessionOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        return Load(TensorFileSource.ReadAll(path), path, options);
    }

    /// <summary>Loads an ONNX model held in memory; see <see cref="Load(string, OnnxSessionOptions?)"/>.</summary>
    /// <exception cref="InteropFormatException">The model is malformed or holds a node that is not supported.</exception>
    public static OnnxSession Load(ReadOnlySpan<byte> bytes, string sourceName, OnnxSessionOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(sourceName);
        return new OnnxSession(OnnxModelProto.Parse(bytes, sourceName), sourceName, options ?? new OnnxSessionOptions());
    }

    /// <summary>Reads a serialized TensorProto (the .pb files of ONNX test data sets, test_data_set_N/input_M.pb).</summary>
    /// <returns>The tensor and its TensorProto.name (empty when unnamed).</returns>
    /// <exception cref="InteropFormatException">The bytes are malformed, or the tensor is of a type other than float,
    /// double, float16, int32, int64 or bool, or stored externally.</exception>
    public static (string Name, OnnxTensor Tensor) ReadTensor(ReadOnlySpan<byte> bytes, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(sourceName);
        var r = new ProtoReader(bytes, sourceName, "TensorProto");
        var t = OnnxTensorProto.Parse(ref r);
        return (t.Name, OnnxGraphOps.FromProto(t, sourceName, t.Name.Length > 0 ? $"tensor '{t.Name}'" : "tensor"));
    }
}

/// <summary>Options of <see cref="OnnxModel.Export(RecurrentParameters, OnnxExportOptions?)"/>.</summary>
public sealed record OnnxExportOptions
{
    /// <summary>The default-domain opset to declare, 14 to 21 (the RNN ops are unchanged over that range).</summary>
    public int Opset { get; init; } = 14;

    /// <summary>Whether the graph takes a <c>sequence_lens</c> input (int32, per batch entry).</summary>
    public bool SequenceLens { get; init; }

    /// <summary>Whether the graph takes <c>h0</c> (and, for LSTM, <c>c0</c>) inputs; otherwise states start at zero.</summary>
    public bool InitialStates { get; init; }

    /// <summary>ModelProto.producer_name.</summary>
    public string ProducerName { get; init; } = "RecurrentCore";

    /// <summary>
    /// Whether every layer of a unidirectional stack runs backwards in time (ONNX direction = reverse; each sequence
    /// read from its last valid step, h_n taken after step 0): a layer PyTorch has no module for, run by
    /// <see cref="OnnxModel.Load(string, OnnxSessionOptions?)"/> and ONNX Runtime. The parameters' direction-0
    /// tensors are its weights. Refused (<see cref="ArgumentException"/>) for a bidirectional stack.
    /// </summary>
    public bool Reverse { get; init; }

    /// <summary>An optional Linear head written after the layer stack, with its own graph output <c>head</c>.</summary>
    public OnnxLinearHead? Head { get; init; }
}

/// <summary>What a Linear head reads.</summary>
public enum OnnxHeadInput
{
    /// <summary>Every step of the last layer's output, (T, B, D·H) or (B, T, D·H): MatMul + Add, output of the same layout with F features.</summary>
    EveryStep,

    /// <summary>The last layer's final states, directions concatenated (forward first), (B, D·H): Gemm, output (B, F).</summary>
    FinalState,
}

/// <summary>The activation after a Linear head.</summary>
public enum OnnxHeadActivation
{
    /// <summary>None.</summary>
    None,

    /// <summary>Relu.</summary>
    Relu,

    /// <summary>Tanh.</summary>
    Tanh,

    /// <summary>Sigmoid.</summary>
    Sigmoid,

    /// <summary>Softmax over the features (last axis).</summary>
    Softmax,
}

/// <summary>A Linear head y = act(W x + b) (PyTorch nn.Linear layout) for <see cref="OnnxExportOptions.Head"/>.</summary>
/// <param name="Weight">(F, D·H) row-major.</param>
/// <param name="Bias">(F), or null.</param>
/// <param name="OutputSize">F.</param>
/// <param name="Input">Every step or the final state.</param>
/// <param name="Activation">The activation after it.</param>
public sealed record OnnxLinearHead(double[] Weight, double[]? Bias, int OutputSize, OnnxHeadInput Input = OnnxHeadInput.EveryStep, OnnxHeadActivation Activation = OnnxHeadActivation.None);

/// <summary>The result of <see cref="OnnxModel.Import(string)"/>: the configuration and weights, and how the graph was wired.</summary>
/// <param name="Parameters">The weights in PyTorch layout; <see cref="RecurrentParameters.Config"/> is the configuration
/// (batch-first when the graph transposes its input (B, T, I) → (T, B, I) before the first node).</param>
/// <param name="Description">The graph's interface and each recurrent node's inputs and outputs.</param>
public sealed record OnnxImportResult(RecurrentParameters Parameters, OnnxModelDescription Description)
{
    /// <summary>
    /// Whether every layer runs backwards in time (ONNX direction = reverse, each sequence read from its last valid step):
    /// a stack PyTorch has no module for. <see cref="Parameters"/> holds its weights as direction 0, as
    /// <see cref="OnnxExportOptions.Reverse"/> takes them, so <c>Export(Parameters, new() { Reverse = true })</c> writes
    /// it back; running <see cref="Parameters"/> as a PyTorch stack would run it forwards, which is a different model.
    /// </summary>
    public bool Reverse { get; init; }

    /// <summary>The imported configuration (same as <c>Parameters.Config</c>).</summary>
    public RecurrentConfig Config => Parameters.Config;
}

/// <summary>What an imported model looks like from outside and where each layer's inputs come from.</summary>
/// <param name="Source">The file or source name.</param>
/// <param name="IrVersion">ModelProto.ir_version.</param>
/// <param name="Opset">The default-domain opset version.</param>
/// <param name="ProducerName">ModelProto.producer_name.</param>
/// <param name="Inputs">Graph inputs that are not initializers.</param>
/// <param name="Outputs">Graph outputs.</param>
/// <param name="Nodes">The recurrent nodes, layer 0 first.</param>
public sealed record OnnxModelDescription(
    string Source, long IrVersion, long Opset, string ProducerName,
    IReadOnlyList<OnnxValueDescription> Inputs, IReadOnlyList<OnnxValueDescription> Outputs, IReadOnlyList<OnnxRecurrentNode> Nodes);

/// <summary>A graph input or output: its name, element type (e.g. float, int32) and dimensions (a size or a symbol; empty when unknown).</summary>
/// <param name="Name">The value's name.</param>
/// <param name="ElementType">ONNX element type name in lower case, or "unknown".</param>
/// <param name="Shape">Per dimension its size or symbolic name; "?" when neither is given.</param>
public sealed record OnnxValueDescription(string Name, string ElementType, IReadOnlyList<string> Shape);

/// <summary>One imported RNN/LSTM/GRU node; optional inputs and outputs that are absent are null.</summary>
/// <param name="Layer">The layer it became.</param>
/// <param name="Name">NodeProto.name (may be empty).</param>
/// <param name="OpType">RNN, LSTM or GRU.</param>
/// <param name="Direction">forward, reverse or bidirectional.</param>
/// <param name="X">Input X's value name.</param>
/// <param name="W">Initializer W's name.</param>
/// <param name="R">Initializer R's name.</param>
/// <param name="B">Initializer B's name, or null.</param>
/// <param name="SequenceLens">The sequence_lens value, or null.</param>
/// <param name="InitialH">The initial_h value, or null.</param>
/// <param name="InitialC">The initial_c value (LSTM), or null.</param>
/// <param name="Y">Output Y, or null.</param>
/// <param name="YH">Output Y_h, or null.</param>
/// <param name="YC">Output Y_c (LSTM), or null.</param>
public sealed record OnnxRecurrentNode(
    int Layer, string Name, string OpType, string Direction, string X, string W, string R, string? B,
    string? SequenceLens, string? InitialH, string? InitialC, string? Y, string? YH, string? YC);
