namespace RecurrentCore.Training;

/// <summary>
/// The common shape of an optimiser: it updates every <see cref="Parameter"/> of a <see cref="ParameterSet"/> from its
/// accumulated gradient (<see cref="Step"/>), with per-parameter state buffers sized at construction, so a step never
/// allocates. <see cref="LearningRate"/> is the current rate a schedule may change between steps.
/// </summary>
public abstract class Optimizer
{
    private double _learningRate;

    /// <summary>Binds the optimiser to <paramref name="parameters"/> (their order and storage are fixed from now on).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The learning rate is negative or not finite.</exception>
    protected Optimizer(ParameterSet parameters, double learningRate)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        Parameters = parameters;
        LearningRate = learningRate;
        InitialLearningRate = learningRate;
    }

    /// <summary>The parameters this optimiser updates.</summary>
    public ParameterSet Parameters { get; }

    /// <summary>The learning rate of the next step (PyTorch <c>param_group['lr']</c>).</summary>
    /// <exception cref="ArgumentOutOfRangeException">Negative or not finite.</exception>
    public double LearningRate
    {
        get => _learningRate;
        set
        {
            if (!(value >= 0) || double.IsInfinity(value))
            {
                throw new ArgumentOutOfRangeException(nameof(value), value, "learning rate must be finite and non-negative");
            }

            _learningRate = value;
        }
    }

    /// <summary>The learning rate given at construction (PyTorch <c>initial_lr</c>, the base of schedules).</summary>
    public double InitialLearningRate { get; }

    /// <summary>Steps taken so far (PyTorch's per-parameter <c>state['step']</c>; all parameters step together here).</summary>
    public long StepCount { get; private set; }

    /// <summary>A short lower-case name stored in checkpoints: <c>sgd</c>, <c>adam</c> or <c>adamw</c>.</summary>
    public abstract string Kind { get; }

    /// <summary>Applies one update to every parameter from its gradient. Never allocates.</summary>
    public void Step()
    {
        StepCount++;
        Update(StepCount);
    }

    /// <summary>Sets every gradient to zero (PyTorch <c>optimizer.zero_grad(set_to_none=False)</c>).</summary>
    public void ZeroGrad() => Parameters.ZeroGrad();

    /// <summary>
    /// The state buffers, each named <c>{parameter}.{buffer}</c> with PyTorch's state key as buffer
    /// (<c>momentum_buffer</c>, <c>exp_avg</c>, <c>exp_avg_sq</c>, <c>max_exp_avg_sq</c>); each has its parameter's shape.
    /// Checkpoints save and restore them in place.
    /// </summary>
    public abstract IEnumerable<(string Name, Parameter Owner, Memory<float> Buffer)> StateBuffers();

    /// <summary>Sets the step count after a checkpoint restored the state buffers.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Negative.</exception>
    public void RestoreStepCount(long stepCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(stepCount);
        StepCount = stepCount;
    }

    /// <summary>Updates every parameter; <paramref name="stepNumber"/> is the 1-based number of this step.</summary>
    protected abstract void Update(long stepNumber);

    /// <summary>One zero-filled buffer per parameter, in order.</summary>
    protected float[][] NewBuffers()
    {
        var buffers = new float[Parameters.Count][];
        for (int i = 0; i < buffers.Length; i++)
        {
            buffers[i] = new float[Parameters[i].Length];
        }

        return buffers;
    }

    internal static void CheckNonNegative(double value, string name)
    {
        if (!(value >= 0) || double.IsInfinity(value))
        {
            throw new ArgumentOutOfRangeException(name, value, "must be finite and non-negative");
        }
    }
}
