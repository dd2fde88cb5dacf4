namespace RecurrentCore.Training;

/// <summary>
/// A learning-rate schedule in closed form: the rate for epoch e (0-based, the value PyTorch's scheduler holds after
/// e calls of <c>scheduler.step()</c>) given the optimiser's initial rate.
/// </summary>
public abstract class LearningRateSchedule
{
    /// <summary>The learning rate at <paramref name="epoch"/> for base rate <paramref name="baseLearningRate"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="epoch"/> is negative.</exception>
    public abstract double LearningRate(double baseLearningRate, int epoch);

    /// <summary>Sets <paramref name="optimizer"/>'s rate for <paramref name="epoch"/> from its initial rate.</summary>
    public void Apply(Optimizer optimizer, int epoch)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        optimizer.LearningRate = LearningRate(optimizer.InitialLearningRate, epoch);
    }
}
