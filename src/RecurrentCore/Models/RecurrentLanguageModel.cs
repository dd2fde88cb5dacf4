using RecurrentCore.Layers;
using RecurrentCore.Training;

namespace RecurrentCore.Models;

/// <summary>
/// A latent autoregressive model over tokens 0..V−1: Embedding(V, E) → RNN/LSTM/GRU (E → H, L layers) → Linear(H, V)
/// → softmax, trained on next-token cross-entropy with truncated BPTT (<see cref="CreateTrainer"/>) and sampled one
/// <see cref="StreamState.Step(ReadOnlySpan{float}, Span{float})"/> per token (<see cref="CreateGenerator"/>).
/// Parameters carry PyTorch names: <c>embed.weight</c>, <c>rnn.weight_ih_l0</c>, …, <c>head.weight</c>, <c>head.bias</c>,
/// the state_dict of a module with attributes <c>embed</c> (nn.Embedding), <c>rnn</c> and <c>head</c> (nn.Linear).
/// A sequence classifier is the same model with every target but the last set to <see cref="CrossEntropy.DefaultIgnoreIndex"/>.
/// </summary>
public sealed class RecurrentLanguageModel
{
    /// <summary>Creates a model initialised as PyTorch initialises its modules (embedding N(0, 1), RNN and head uniform), from <paramref name="random"/>.</summary>
    /// <param name="vocabularySize">V.</param>
    /// <param name="embeddingSize">E.</param>
    /// <param name="cell">The recurrent cell.</param>
    /// <param name="hiddenSize">H.</param>
    /// <param name="numLayers">L.</param>
    /// <param name="random">Initialisation stream: embedding, then RNN, then head.</param>
    public RecurrentLanguageModel(int vocabularySize, int embeddingSize, CellKind cell, int hiddenSize, int numLayers, SeededRandom random)
    {
        ArgumentNullException.ThrowIfNull(random);
        Embedding = new Embedding(vocabularySize, embeddingSize);
        Initialization.PyTorchEmbedding(Embedding, random);
        Recurrent = TrainableRecurrent.Create(new RecurrentConfig(cell, embeddingSize, hiddenSize, numLayers), random);
        Head = new Linear(hiddenSize, vocabularySize);
        Initialization.PyTorchLinear(Head, random);
        Parameters = new ParameterSet();
        Parameters.AddRange("embed.", Embedding.Parameters);
        Parameters.AddRange("rnn.", Recurrent.Parameters);
        Parameters.AddRange("head.", Head.Parameters);
    }

    /// <summary>The token embedding, (V, E).</summary>
    public Embedding Embedding { get; }

    /// <summary>The recurrent layers.</summary>
    public TrainableRecurrent Recurrent { get; }

    /// <summary>The output projection to logits, (V, H).</summary>
    public Linear Head { get; }

    /// <summary>Every parameter under its PyTorch name.</summary>
    public ParameterSet Parameters { get; }

    /// <summary>V.</summary>
    public int VocabularySize => Embedding.NumEmbeddings;

    /// <summary>A truncated-BPTT trainer for <paramref name="batch"/> streams and chunks of up to <paramref name="chunkLength"/> steps.</summary>
    /// <param name="chunkLength">The longest chunk k.</param>
    /// <param name="batch">Streams B.</param>
    /// <param name="threads">
    /// Threads for the recurrent passes and the head (the caller's included); every thread count gives bitwise identical
    /// results. With more than one, dispose the trainer to stop them.
    /// </param>
    public LanguageModelTrainer CreateTrainer(int chunkLength, int batch, int threads = 1) => new(this, chunkLength, batch, threads);

    /// <summary>A single-stream sampler; each token costs one streaming step.</summary>
    public LanguageModelGenerator CreateGenerator() => new(this);

    /// <summary>Call after changing parameter values in place (optimiser step, checkpoint load).</summary>
    public void RefreshWeights() => Recurrent.RefreshWeights();
}

/// <summary>
/// Trains a <see cref="RecurrentLanguageModel"/> chunk by chunk (truncated BPTT, state carried between chunks);
/// every call after construction is allocation-free once the head's per-thread scratch has grown (the first step).
/// The head's GEMMs and the recurrent passes share the workspace's threads.
/// </summary>
public sealed class LanguageModelTrainer : IDisposable
{
    private readonly RecurrentLanguageModel _model;
    private readonly float[] _x, _h, _logits, _dLogits, _dh, _dx;

    internal LanguageModelTrainer(RecurrentLanguageModel model, int chunkLength, int batch, int threads)
    {
        _model = model;
        Bptt = new TruncatedBptt(model.Recurrent, chunkLength, batch, threads);
        int rows = chunkLength * batch;
        int e = model.Embedding.Dim, h = model.Recurrent.Config.HiddenSize, v = model.VocabularySize;
        _x = new float[rows * e];
        _dx = new float[rows * e];
        _h = new float[rows * h];
        _dh = new float[rows * h];
        _logits = new float[rows * v];
        _dLogits = new float[rows * v];
    }

    /// <summary>The state carried between chunks.</summary>
    public TruncatedBptt Bptt { get; }

    /// <summary>The global gradient norm of the last <see cref="Step"/> before clipping; NaN when it did not clip.</summary>
    public double LastGradientNorm { get; private set; } = double.NaN;

    /// <summary>Stops the worker threads (none with one thread).</summary>
    public void Dispose() => Bptt.Dispose();

    /// <summary>The logits (steps·B, V) of the last <see cref="Step"/> or <see cref="Evaluate"/>, time-major.</summary>
    public ReadOnlySpan<float> Logits(int steps) => _logits.AsSpan(0, steps * Bptt.Batch * _model.VocabularySize);

    /// <summary>
    /// One optimisation step on a chunk: zero gradients, forward from the carried state, mean cross-entropy over
    /// counted targets, backward (stopping at the chunk start), clip the global gradient norm to
    /// <paramref name="clipNorm"/> (≤ 0: no clipping), optimiser step, re-pack the RNN weights.
    /// </summary>
    /// <param name="inputs">Token ids (steps, B), time-major.</param>
    /// <param name="targets">Next-token ids (steps, B); <see cref="CrossEntropy.DefaultIgnoreIndex"/> does not count.</param>
    /// <param name="steps">1..chunk length.</param>
    /// <param name="optimizer">An optimiser over <see cref="RecurrentLanguageModel.Parameters"/>.</param>
    /// <param name="clipNorm">Maximum global gradient norm, or ≤ 0 for none.</param>
    /// <returns>The loss of the chunk (before the step).</returns>
    public float Step(ReadOnlySpan<int> inputs, ReadOnlySpan<int> targets, int steps, Optimizer optimizer, double clipNorm = 0)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        optimizer.ZeroGrad();
        float loss = Forward(inputs, targets, steps);
        int rows = steps * Bptt.Batch;
        int e = _model.Embedding.Dim, h = _model.Recurrent.Config.HiddenSize;
        _model.Head.Backward(_h.AsSpan(0, rows * h), _dLogits.AsSpan(0, rows * _model.VocabularySize), _dh.AsSpan(0, rows * h), rows, Bptt.Pool);
        Bptt.Backward(_dh.AsSpan(0, rows * h), _dx.AsSpan(0, rows * e));
        _model.Embedding.Backward(inputs[..rows], _dx.AsSpan(0, rows * e));
        LastGradientNorm = clipNorm > 0 ? GradientClipping.ClipByGlobalNorm(optimizer.Parameters, clipNorm) : double.NaN;

        optimizer.Step();
        _model.RefreshWeights();
        return loss;
    }

    /// <summary>The loss of a chunk without training (the state is still carried on).</summary>
    public float Evaluate(ReadOnlySpan<int> inputs, ReadOnlySpan<int> targets, int steps) => Forward(inputs, targets, steps);

    private float Forward(ReadOnlySpan<int> inputs, ReadOnlySpan<int> targets, int steps)
    {
        int rows = steps * Bptt.Batch;
        if (inputs.Length != rows || targets.Length != rows)
        {
            throw new ArgumentException($"inputs and targets need {rows} ids (steps {steps} x B {Bptt.Batch}), got {inputs.Length} and {targets.Length}", nameof(inputs));
        }

        int e = _model.Embedding.Dim, h = _model.Recurrent.Config.HiddenSize, v = _model.VocabularySize;
        _model.Embedding.Forward(inputs, _x.AsSpan(0, rows * e));
        Bptt.Forward(_x.AsSpan(0, rows * e), steps, _h.AsSpan(0, rows * h));
        _model.Head.Forward(_h.AsSpan(0, rows * h), _logits.AsSpan(0, rows * v), rows, Bptt.Pool);
        return CrossEntropy.Compute(_logits.AsSpan(0, rows * v), targets, _dLogits.AsSpan(0, rows * v), v);
    }
}

/// <summary>
/// Autoregressive sampling from a <see cref="RecurrentLanguageModel"/>: the state lives in one <see cref="StreamState"/>,
/// so each token costs one embedding lookup, one streaming step and one head projection. Allocation-free per token.
/// </summary>
public sealed class LanguageModelGenerator
{
    private readonly RecurrentLanguageModel _model;
    private readonly StreamState _stream;
    private readonly float[] _x, _h, _logits, _scratch;
    private readonly int[] _id = new int[1];

    internal LanguageModelGenerator(RecurrentLanguageModel model)
    {
        _model = model;
        _stream = model.Recurrent.Layer.CreateStream(1);
        _x = new float[model.Embedding.Dim];
        _h = new float[model.Recurrent.Config.HiddenSize];
        _logits = new float[model.VocabularySize];
        _scratch = new float[model.VocabularySize];
    }

    /// <summary>The logits for the next token after the tokens fed so far.</summary>
    public ReadOnlySpan<float> Logits => _logits;

    /// <summary>Forgets every token fed.</summary>
    public void Reset()
    {
        _stream.Reset();
        Array.Clear(_logits);
    }

    /// <summary>Feeds one token: one streaming step; <see cref="Logits"/> then predicts the next.</summary>
    public void Feed(int token)
    {
        _id[0] = token;
        _model.Embedding.Forward(_id, _x);
        _stream.Step(_x, _h);
        _model.Head.Forward(_h, _logits, 1);
    }

    /// <summary>Draws the next token from <see cref="Logits"/> (see <see cref="TokenSampler.Sample"/>).</summary>
    public int Sample(double temperature, int topK, SeededRandom random) => TokenSampler.Sample(_logits, temperature, topK, random, _scratch);

    /// <summary>
    /// Feeds <paramref name="prompt"/> (non-empty) and then fills <paramref name="output"/> with sampled tokens, each fed
    /// back as the next input.
    /// </summary>
    public void Generate(ReadOnlySpan<int> prompt, Span<int> output, double temperature, int topK, SeededRandom random)
    {
        if (prompt.IsEmpty)
        {
            throw new ArgumentException("the prompt needs at least one token", nameof(prompt));
        }

        foreach (int t in prompt)
        {
            Feed(t);
        }

        for (int i = 0; i < output.Length; i++)
        {
            output[i] = Sample(temperature, topK, random);
            if (i + 1 < output.Length)
            {
                Feed(output[i]);
            }
        }
    }
}
