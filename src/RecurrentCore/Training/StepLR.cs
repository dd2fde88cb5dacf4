namespace RecurrentCore.Training;

/// <summary>PyTorch <c>StepLR</c>: <c>γ_e = γ₀ · gamma^⌊e / stepSize⌋</c>.</summary>
public sealed class StepLR : LearningRateSchedule
{
    /// <summary>Creates the schedule (PyTorch default gamma 0.1).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="stepSize"/> is not positive, or gamma is negative or not finite.</exception>
    public StepLR(int stepSize, double gamma = 0.1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(stepSize, 1);
        Optimizer.CheckNonNegative(gamma, nameof(gamma));
        StepSize = stepSize;
        Gamma = gamma;
    }

    /// <summary>Epochs between decays.</summary>
    public int StepSize { get; }

    /// <summary>Multiplicative decay.</summary>
    public double Gamma { get; }

    /// <inheritdoc/>
    public override double LearningRate(double baseLearningRate, int epoch)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        return baseLearningRate * Math.Pow(Gamma, epoch / StepSize);
    }
}
