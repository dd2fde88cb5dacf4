namespace RecurrentCore.Training;

/// <summary>Hyper-parameters of <see cref="Sgd"/>, with PyTorch <c>torch.optim.SGD</c>'s defaults.</summary>
public sealed record SgdOptions
{
    /// <summary>Learning rate γ (PyTorch ≥ 2.0 default 1e-3).</summary>
    public double LearningRate { get; init; } = 1e-3;

    /// <summary>Momentum μ; 0 disables the buffer.</summary>
    public double Momentum { get; init; }

    /// <summary>Dampening τ of the gradient added to the momentum buffer.</summary>
    public double Dampening { get; init; }

    /// <summary>L2 penalty λ added to the gradient.</summary>
    public double WeightDecay { get; init; }

    /// <summary>Nesterov momentum; needs μ &gt; 0 and τ = 0.</summary>
    public bool Nesterov { get; init; }
}

/// <summary>
/// Stochastic gradient descent with PyTorch <c>torch.optim.SGD</c>'s update, per element:
/// <c>d = g + λθ</c>; if μ ≠ 0: <c>b = d</c> on the first step, else <c>b = μb + (1 − τ)d</c>, and
/// <c>d = d + μb</c> (Nesterov) or <c>d = b</c>; then <c>θ = θ − γd</c>. Float32 arithmetic like PyTorch's CPU kernels.
/// </summary>
public sealed class Sgd : Optimizer
{
    private readonly float[][]? _momentum;

    /// <summary>Creates the optimiser; the momentum buffers (if μ ≠ 0) are allocated now.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A hyper-parameter is negative or not finite.</exception>
    /// <exception cref="ArgumentException">Nesterov without momentum or with dampening (as PyTorch).</exception>
    public Sgd(ParameterSet parameters, SgdOptions? options = null)
        : base(parameters, (options ?? new SgdOptions()).LearningRate)
    {
        Options = options ?? new SgdOptions();
        CheckNonNegative(Options.Momentum, nameof(SgdOptions.Momentum));
        CheckNonNegative(Options.WeightDecay, nameof(SgdOptions.WeightDecay));
        if (!double.IsFinite(Options.Dampening))
        {
            throw new ArgumentOutOfRangeException(nameof(options), Options.Dampening, "dampening must be finite");
        }

        if (Options.Nesterov && (Options.Momentum <= 0 || Options.Dampening != 0))
        {
            throw new ArgumentException("Nesterov momentum requires a momentum and zero dampening.", nameof(options));
        }

        _momentum = Options.Momentum != 0 ? NewBuffers() : null;
    }

    /// <summary>The hyper-parameters (the learning rate in use is <see cref="Optimizer.LearningRate"/>).</summary>
    public SgdOptions Options { get; }

    /// <inheritdoc/>
    public override string Kind => "sgd";

    /// <inheritdoc/>
    public override IEnumerable<(string Name, Parameter Owner, Memory<float> Buffer)> StateBuffers()
    {
        if (_momentum is null)
        {
            yield break;
        }

        for (int i = 0; i < Parameters.Count; i++)
        {
            yield return (Parameters[i].Name + ".momentum_buffer", Parameters[i], _momentum[i]);
        }
    }

    /// <inheritdoc/>
    protected override void Update(long stepNumber)
    {
        float lr = (float)LearningRate;
        float wd = (float)Options.WeightDecay;
        float mu = (float)Options.Momentum;
        float keep = (float)(1 - Options.Dampening);
        bool nesterov = Options.Nesterov;
        for (int i = 0; i < Parameters.Count; i++)
        {
            Span<float> theta = Parameters[i].Value.Span;
            ReadOnlySpan<float> g = Parameters[i].Grad.Span;
            Span<float> b = _momentum is null ? default : _momentum[i];
            for (int k = 0; k < theta.Length; k++)
            {
                float d = wd != 0 ? g[k] + (wd * theta[k]) : g[k];
                if (_momentum is not null)
                {
                    b[k] = stepNumber == 1 ? d : (b[k] * mu) + (keep * d);
                    d = nesterov ? d + (mu * b[k]) : b[k];
                }

                theta[k] += -lr * d;
            }
        }
    }
}
