using RecurrentCore.Layers;
using RecurrentCore.Training;

namespace RecurrentCore.Models;

/// <summary>
/// A latent autoregressive regressor: RNN/LSTM/GRU (I → H, L layers) → Linear(H, O) on every step, trained on mean
/// squared error with truncated BPTT (<see cref="CreateTrainer"/>). For forecasting a series (I = O) the target at
/// step t is x_{t+1}; <see cref="Forecast"/> runs the history through one <see cref="StreamState"/> and feeds its own
/// predictions back. Parameters: <c>rnn.weight_ih_l0</c>, …, <c>head.weight</c>, <c>head.bias</c> (a PyTorch module with
/// attributes <c>rnn</c> and <c>head</c>).
/// </summary>
public sealed class RecurrentRegressor
{
    /// <summary>Creates a model initialised like PyTorch's modules from <paramref name="random"/> (RNN, then head).</summary>
    public RecurrentRegressor(CellKind cell, int inputSize, int hiddenSize, int numLayers, int outputSize, SeededRandom random)
    {
        ArgumentNullException.ThrowIfNull(random);
        Recurrent = TrainableRecurrent.Create(new RecurrentConfig(cell, inputSize, hiddenSize, numLayers), random);
        Head = new Linear(hiddenSize, outputSize);
        Initialization.PyTorchLinear(Head, random);
        Parameters = new ParameterSet();
        Parameters.AddRange("rnn.", Recurrent.Parameters);
        Parameters.AddRange("head.", Head.Parameters);
    }

    /// <summary>The recurrent layers.</summary>
    public TrainableRecurrent Recurrent { get; }

    /// <summary>The read-out, (O, H).</summary>
    public Linear Head { get; }

    /// <summary>Every parameter under its PyTorch name.</summary>
    public ParameterSet Parameters { get; }

    /// <summary>I.</summary>
    public int InputSize => Recurrent.Config.InputSize;

    /// <summary>O.</summary>
    public int OutputSize => Head.OutFeatures;

    /// <summary>A truncated-BPTT trainer for <paramref name="batch"/> streams and chunks of up to <paramref name="chunkLength"/> steps.</summary>
    /// <param name="chunkLength">The longest chunk k.</param>
    /// <param name="batch">Streams B.</param>
    /// <param name="threads">
    /// Threads for the recurrent passes and the head (the caller's included); every thread count gives bitwise identical
    /// results. With more than one, dispose the trainer to stop them.
    /// </param>
    public RegressorTrainer CreateTrainer(int chunkLength, int batch, int threads = 1) => new(this, chunkLength, batch, threads);

    /// <summary>Call after changing parameter values in place (optimiser step, checkpoint load).</summary>
    public void RefreshWeights() => Recurrent.RefreshWeights();

    /// <summary>
    /// Feeds <paramref name="history"/> (n, I) step by step through a fresh stream, then writes
    /// <c>forecast.Length / O</c> recursive predictions (each fed back as the next input; needs I = O).
    /// </summary>
    /// <exception cref="InvalidOperationException">I ≠ O.</exception>
    public void Forecast(ReadOnlySpan<float> history, Span<float> forecast)
    {
        if (InputSize != OutputSize)
        {
            throw new InvalidOperationException($"recursive forecasting feeds predictions back: needs input size {InputSize} = output size {OutputSize}");
        }

        if (history.IsEmpty || history.Length % InputSize != 0)
        {
            throw new ArgumentException($"history has {history.Length} values, expected a positive multiple of {InputSize}", nameof(history));
        }

        var stream = Recurrent.Layer.CreateStream(1);
        var h = new float[Recurrent.Config.HiddenSize];
        var y = new float[OutputSize];
        for (int t = 0; t < history.Length; t += InputSize)
        {
            stream.Step(history.Slice(t, InputSize), h);
        }

        for (int i = 0; i + OutputSize <= forecast.Length; i += OutputSize)
        {
            Head.Forward(h, y, 1);
            y.CopyTo(forecast.Slice(i, OutputSize));
            stream.Step(y, h);
        }
    }
}

/// <summary>
/// Trains a <see cref="RecurrentRegressor"/> chunk by chunk (truncated BPTT, state carried between chunks);
/// every call after construction is allocation-free once the head's per-thread scratch has grown (the first step).
/// The head's GEMMs and the recurrent passes share the workspace's threads.
/// </summary>
public sealed class RegressorTrainer : IDisposable
{
    private readonly RecurrentRegressor _model;
    private readonly float[] _h, _y, _dy, _dh;

    internal RegressorTrainer(RecurrentRegressor model, int chunkLength, int batch, int threads)
    {
        _model = model;
        Bptt = new TruncatedBptt(model.Recurrent, chunkLength, batch, threads);
        int rows = chunkLength * batch, h = model.Recurrent.Config.HiddenSize;
        _h = new float[rows * h];
        _dh = new float[rows * h];
        _y = new float[rows * model.OutputSize];
        _dy = new float[rows * model.OutputSize];
    }

    /// <summary>The state carried between chunks.</summary>
    public TruncatedBptt Bptt { get; }

    /// <summary>The global gradient norm of the last <see cref="Step"/> before clipping; NaN when it did not clip.</summary>
    public double LastGradientNorm { get; private set; } = double.NaN;

    /// <summary>Stops the worker threads (none with one thread).</summary>
    public void Dispose() => Bptt.Dispose();

    /// <summary>The predictions (steps·B, O) of the last <see cref="Step"/> or <see cref="Evaluate"/>, time-major.</summary>
    public ReadOnlySpan<float> Predictions(int steps) => _y.AsSpan(0, steps * Bptt.Batch * _model.OutputSize);

    /// <summary>
    /// One optimisation step on a chunk: zero gradients, forward from the carried state, MSE over the counted rows,
    /// backward (stopping at the chunk start), clip the global norm to <paramref name="clipNorm"/> (≤ 0: none),
    /// optimiser step, re-pack the RNN weights.
    /// </summary>
    /// <param name="inputs">(steps, B, I), time-major.</param>
    /// <param name="targets">(steps, B, O).</param>
    /// <param name="steps">1..chunk length.</param>
    /// <param name="optimizer">An optimiser over <see cref="RecurrentRegressor.Parameters"/>.</param>
    /// <param name="clipNorm">Maximum global gradient norm, or ≤ 0 for none.</param>
    /// <param name="rowMask">(steps·B) rows that count, or empty for all.</param>
    /// <returns>The loss of the chunk (before the step).</returns>
    public float Step(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets, int steps, Optimizer optimizer, double clipNorm = 0, ReadOnlySpan<bool> rowMask = default)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        optimizer.ZeroGrad();
        float loss = Evaluate(inputs, targets, steps, rowMask);
        int rows = steps * Bptt.Batch, h = _model.Recurrent.Config.HiddenSize;
        _model.Head.Backward(_h.AsSpan(0, rows * h), _dy.AsSpan(0, rows * _model.OutputSize), _dh.AsSpan(0, rows * h), rows, Bptt.Pool);
        Bptt.Backward(_dh.AsSpan(0, rows * h));
        LastGradientNorm = clipNorm > 0 ? GradientClipping.ClipByGlobalNorm(optimizer.Parameters, clipNorm) : double.NaN;

        optimizer.Step();
        _model.RefreshWeights();
        return loss;
    }

    /// <summary>The loss of a chunk without training (the state is still carried on).</summary>
    public float Evaluate(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets, int steps, ReadOnlySpan<bool> rowMask = default)
    {
        int rows = steps * Bptt.Batch, h = _model.Recurrent.Config.HiddenSize, o = _model.OutputSize;
        Bptt.Forward(inputs, steps, _h.AsSpan(0, rows * h));
        _model.Head.Forward(_h.AsSpan(0, rows * h), _y.AsSpan(0, rows * o), rows, Bptt.Pool);
        return MeanSquaredError.Compute(_y.AsSpan(0, rows * o), targets, _dy.AsSpan(0, rows * o), rows, rowMask);
    }
}
