namespace RecurrentCore.Training;

/// <summary>
/// Hyper-parameters of <see cref="Adam"/> and <see cref="AdamW"/>, with PyTorch's defaults (lr 1e-3, betas
/// (0.9, 0.999), eps 1e-8). <see cref="WeightDecay"/> defaults to 0 (Adam's default); <see cref="AdamW"/> uses
/// 0.01 when it is not set (<see cref="AdamW.DefaultWeightDecay"/>).
/// </summary>
public sealed record AdamOptions
{
    /// <summary>Learning rate γ.</summary>
    public double LearningRate { get; init; } = 1e-3;

    /// <summary>β₁, decay of the first moment.</summary>
    public double Beta1 { get; init; } = 0.9;

    /// <summary>β₂, decay of the second moment.</summary>
    public double Beta2 { get; init; } = 0.999;

    /// <summary>ε, added to the bias-corrected √v (outside the square root).</summary>
    public double Epsilon { get; init; } = 1e-8;

    /// <summary>λ: an L2 term added to the gradient (Adam) or decoupled decay θ ← θ(1 − γλ) (AdamW); null: the optimiser's default.</summary>
    public double? WeightDecay { get; init; }

    /// <summary>Use the running maximum of the second moment (Reddi et al., "On the Convergence of Adam and Beyond").</summary>
    public bool AmsGrad { get; init; }

    internal void Validate()
    {
        Optimizer.CheckNonNegative(Epsilon, nameof(Epsilon));
        Optimizer.CheckNonNegative(WeightDecay ?? 0, nameof(WeightDecay));
        if (!(Beta1 >= 0 && Beta1 < 1) || !(Beta2 >= 0 && Beta2 < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(Beta1), $"betas must lie in [0, 1), got ({Beta1}, {Beta2})");
        }
    }
}
