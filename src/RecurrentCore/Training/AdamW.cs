namespace RecurrentCore.Training;

/// <summary>
/// AdamW (Loshchilov and Hutter, "Decoupled Weight Decay Regularization") with PyTorch <c>torch.optim.AdamW</c>'s
/// update: first <c>θ ← θ·(1 − γλ)</c>, then the Adam step of <see cref="AdamKernel"/> without any L2 term.
/// λ defaults to 0.01 as in PyTorch.
/// </summary>
public sealed class AdamW : Optimizer
{
    /// <summary>PyTorch's default weight decay for AdamW.</summary>
    public const double DefaultWeightDecay = 0.01;

    private readonly float[][] _m;
    private readonly float[][] _v;
    private readonly float[][]? _vMax;

    /// <summary>Creates the optimiser.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A hyper-parameter is out of range.</exception>
    public AdamW(ParameterSet parameters, AdamOptions? options = null)
        : base(parameters, (options ?? new AdamOptions()).LearningRate)
    {
        Options = options ?? new AdamOptions();
        Options.Validate();
        _m = NewBuffers();
        _v = NewBuffers();
        _vMax = Options.AmsGrad ? NewBuffers() : null;
    }

    /// <summary>The hyper-parameters (the learning rate in use is <see cref="Optimizer.LearningRate"/>).</summary>
    public AdamOptions Options { get; }

    /// <summary>λ in use: <see cref="AdamOptions.WeightDecay"/>, or 0.01 when unset.</summary>
    public double WeightDecay => Options.WeightDecay ?? DefaultWeightDecay;

    /// <inheritdoc/>
    public override string Kind => "adamw";

    /// <inheritdoc/>
    public override IEnumerable<(string Name, Parameter Owner, Memory<float> Buffer)> StateBuffers() => Adam.AdamState(Parameters, _m, _v, _vMax);

    /// <inheritdoc/>
    protected override void Update(long stepNumber)
    {
        float decay = (float)(1 - (LearningRate * WeightDecay));
        for (int i = 0; i < Parameters.Count; i++)
        {
            Span<float> theta = Parameters[i].Value.Span;
            if (decay != 1)
            {
                for (int k = 0; k < theta.Length; k++)
                {
                    theta[k] *= decay;
                }
            }

            AdamKernel.Step(
                theta, Parameters[i].Grad.Span, _m[i], _v[i], _vMax is null ? default : _vMax[i],
                stepNumber, LearningRate, Options.Beta1, Options.Beta2, Options.Epsilon, 0);
        }
    }
}
