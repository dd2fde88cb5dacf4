namespace RecurrentCore.Training;

/// <summary>
/// Adam (Kingma and Ba, 2014) with PyTorch <c>torch.optim.Adam</c>'s update: the L2 term is added to the gradient,
/// <c>g ← g + λθ</c>, before the moments; see <see cref="AdamKernel"/> for the rest. Buffers are allocated at construction.
/// </summary>
public sealed class Adam : Optimizer
{
    private readonly float[][] _m;
    private readonly float[][] _v;
    private readonly float[][]? _vMax;

    /// <summary>Creates the optimiser.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A hyper-parameter is out of range.</exception>
    public Adam(ParameterSet parameters, AdamOptions? options = null)
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

    /// <inheritdoc/>
    public override string Kind => "adam";

    /// <inheritdoc/>
    public override IEnumerable<(string Name, Parameter Owner, Memory<float> Buffer)> StateBuffers() => AdamState(Parameters, _m, _v, _vMax);

    /// <inheritdoc/>
    protected override void Update(long stepNumber)
    {
        for (int i = 0; i < Parameters.Count; i++)
        {
            AdamKernel.Step(
                Parameters[i].Value.Span, Parameters[i].Grad.Span, _m[i], _v[i], _vMax is null ? default : _vMax[i],
                stepNumber, LearningRate, Options.Beta1, Options.Beta2, Options.Epsilon, Options.WeightDecay ?? 0);
        }
    }

    internal static IEnumerable<(string Name, Parameter Owner, Memory<float> Buffer)> AdamState(ParameterSet parameters, float[][] m, float[][] v, float[][]? vMax)
    {
        for (int i = 0; i < parameters.Count; i++)
        {
            var p = parameters[i];
            yield return (p.Name + ".exp_avg", p, m[i]);
            yield return (p.Name + ".exp_avg_sq", p, v[i]);
            if (vMax is not null)
            {
                yield return (p.Name + ".max_exp_avg_sq", p, vMax[i]);
            }
        }
    }
}
