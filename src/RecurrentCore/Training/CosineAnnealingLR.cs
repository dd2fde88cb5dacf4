namespace RecurrentCore.Training;

/// <summary>
/// PyTorch <c>CosineAnnealingLR</c> in its closed form (SGDR without restarts):
/// <c>γ_e = η_min + (γ₀ − η_min)·(1 + cos(π·e / T_max)) / 2</c>. Past T_max the cosine continues, as PyTorch's
/// recursive form does.
/// </summary>
public sealed class CosineAnnealingLR : LearningRateSchedule
{
    /// <summary>Creates the schedule.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="tMax"/> is not positive, or eta_min is negative or not finite.</exception>
    public CosineAnnealingLR(int tMax, double etaMin = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(tMax, 1);
        Optimizer.CheckNonNegative(etaMin, nameof(etaMin));
        TMax = tMax;
        EtaMin = etaMin;
    }

    /// <summary>Half-period in epochs.</summary>
    public int TMax { get; }

    /// <summary>Minimum learning rate.</summary>
    public double EtaMin { get; }

    /// <inheritdoc/>
    public override double LearningRate(double baseLearningRate, int epoch)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        return EtaMin + ((baseLearningRate - EtaMin) * (1 + Math.Cos(Math.PI * epoch / TMax)) / 2);
    }
}
