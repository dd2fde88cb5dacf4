using RecurrentCore.Training;

namespace RecurrentCore.Models;

/// <summary>
/// A linear autoregression of order τ with intercept, AR(τ):
/// <c>x̂_t = c + Σ_{j=1..τ} φ_j · x_{t−j}</c>.
/// Fit by least squares over the n − τ windows of a series (<see cref="FitLeastSquares"/>) or by gradient descent with a
/// <see cref="Training"/> optimiser (<see cref="FitGradientDescent"/>); predict one step or forecast recursively, feeding
/// predictions back as inputs.
/// </summary>
public sealed class ArModel
{
    private readonly double[] _coefficients;

    /// <summary>Creates a model from known parameters.</summary>
    /// <param name="intercept">c.</param>
    /// <param name="coefficients">φ_1..φ_τ; φ_j multiplies x_{t−j}. τ ≥ 1.</param>
    /// <exception cref="ArgumentException">No coefficient is given.</exception>
    public ArModel(double intercept, ReadOnlySpan<double> coefficients)
    {
        if (coefficients.IsEmpty)
        {
            throw new ArgumentException("An AR model needs at least one coefficient.", nameof(coefficients));
        }

        Intercept = intercept;
        _coefficients = coefficients.ToArray();
    }

    /// <summary>τ, the window length.</summary>
    public int Order => _coefficients.Length;

    /// <summary>c.</summary>
    public double Intercept { get; }

    /// <summary>φ_1..φ_τ (φ_j multiplies x_{t−j}).</summary>
    public IReadOnlyList<double> Coefficients => _coefficients;

    /// <summary>
    /// Least-squares fit: minimises <c>Σ_{t=τ}^{n−1} (x_t − c − Σ_j φ_j x_{t−j})² + λ Σ_j φ_j²</c> in double
    /// (the intercept is not penalised).
    /// </summary>
    /// <param name="series">x_0..x_{n−1}; n ≥ 2τ + 1, so there are at least as many windows as unknowns.</param>
    /// <param name="order">τ ≥ 1.</param>
    /// <param name="ridge">λ ≥ 0.</param>
    /// <param name="solver">Cholesky of the normal equations or Householder QR; they agree to rounding.</param>
    /// <exception cref="ArgumentException">The series is too short or holds a non-finite value, or the problem is
    /// rank-deficient (e.g. a constant series with λ = 0).</exception>
    /// <exception cref="ArgumentOutOfRangeException">τ &lt; 1 or λ negative or not finite.</exception>
    public static ArModel FitLeastSquares(ReadOnlySpan<double> series, int order, double ridge = 0, LeastSquaresSolver solver = LeastSquaresSolver.Cholesky)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(order, 1);
        if (!(ridge >= 0) || double.IsInfinity(ridge))
        {
            throw new ArgumentOutOfRangeException(nameof(ridge), ridge, "must be finite and non-negative");
        }

        var (x, y, rows) = Design(series, order);
        double[] beta = LeastSquares.Solve(x, y, rows, order + 1, ridge, penalizeFirstColumn: false, solver);
        return new ArModel(beta[0], beta.AsSpan(1));
    }

    /// <summary>
    /// Gradient-descent fit in float32 with the training stack: a <see cref="Linear"/> (τ → 1) head over all windows,
    /// mean squared error, and the optimiser <paramref name="createOptimizer"/> builds over its parameters
    /// (<c>weight</c> = φ, <c>bias</c> = c, both starting at zero). Each epoch is one full-batch step; an optional
    /// <paramref name="schedule"/> sets the learning rate per epoch. Converges to the unregularised least-squares fit.
    /// </summary>
    /// <param name="series">x_0..x_{n−1}; n ≥ 2τ + 1.</param>
    /// <param name="order">τ ≥ 1.</param>
    /// <param name="createOptimizer">Builds the optimiser, e.g. <c>p =&gt; new Adam(p, new AdamOptions { LearningRate = 0.05 })</c>.</param>
    /// <param name="epochs">Full-batch steps, ≥ 1.</param>
    /// <param name="schedule">Learning-rate schedule applied before each epoch, or null.</param>
    /// <exception cref="ArgumentException">The series is too short or holds a non-finite value.</exception>
    public static ArModel FitGradientDescent(
        ReadOnlySpan<double> series,
        int order,
        Func<ParameterSet, Optimizer> createOptimizer,
        int epochs,
        LearningRateSchedule? schedule = null)
    {
        ArgumentNullException.ThrowIfNull(createOptimizer);
        ArgumentOutOfRangeException.ThrowIfLessThan(order, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(epochs, 1);
        var (design, target, rows) = Design(series, order);
        var inputs = new float[rows * order];
        var targets = new float[rows];
        for (int r = 0; r < rows; r++)
        {
            for (int j = 0; j < order; j++)
            {
                inputs[(r * order) + j] = (float)design[(r * (order + 1)) + 1 + j];
            }

            targets[r] = (float)target[r];
        }

        var head = new Linear(order, 1);
        var optimizer = createOptimizer(head.Parameters);
        var predictions = new float[rows];
        var gradient = new float[rows];
        for (int epoch = 0; epoch < epochs; epoch++)
        {
            schedule?.Apply(optimizer, epoch);
            optimizer.ZeroGrad();
            head.Forward(inputs, predictions, rows);
            MeanSquaredError.Compute(predictions, targets, gradient, rows);
            head.Backward(inputs, gradient, default, rows);
            optimizer.Step();
        }

        var phi = new double[order];
        for (int j = 0; j < order; j++)
        {
            phi[j] = head.Weight.Value.Span[j];
        }

        return new ArModel(head.Bias!.Value.Span[0], phi);
    }

    /// <summary>One-step prediction <c>c + Σ_j φ_j · history[^j]</c> from the last τ values of <paramref name="history"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="history"/> holds fewer than τ values.</exception>
    public double Predict(ReadOnlySpan<double> history)
    {
        if (history.Length < Order)
        {
            throw new ArgumentException($"AR({Order}) needs the last {Order} values, got {history.Length}.", nameof(history));
        }

        double s = Intercept;
        for (int j = 0; j < Order; j++)
        {
            s += _coefficients[j] * history[history.Length - 1 - j];
        }

        return s;
    }

    /// <summary>
    /// Recursive multi-step forecast: <c>forecast[k] = Predict(history ++ forecast[0..k))</c>, each prediction fed back
    /// as the newest input. Does not allocate.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="history"/> holds fewer than τ values.</exception>
    public void Forecast(ReadOnlySpan<double> history, Span<double> forecast)
    {
        if (history.Length < Order)
        {
            throw new ArgumentException($"AR({Order}) needs the last {Order} values, got {history.Length}.", nameof(history));
        }

        for (int k = 0; k < forecast.Length; k++)
        {
            double s = Intercept;
            for (int j = 0; j < Order; j++)
            {
                int back = k - 1 - j; // index into forecast; negative reaches into history
                s += _coefficients[j] * (back >= 0 ? forecast[back] : history[history.Length + back]);
            }

            forecast[k] = s;
        }
    }

    /// <summary>The forecast of <paramref name="steps"/> values as a new array; see <see cref="Forecast(ReadOnlySpan{double}, Span{double})"/>.</summary>
    public double[] Forecast(ReadOnlySpan<double> history, int steps)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(steps);
        var result = new double[steps];
        Forecast(history, result);
        return result;
    }

    /// <summary>Design (rows, 1 + τ) = [1, x_{t−1}, …, x_{t−τ}] and target x_t for t = τ..n−1.</summary>
    private static (double[] X, double[] Y, int Rows) Design(ReadOnlySpan<double> series, int order)
    {
        int needed = (2 * order) + 1;
        if (series.Length < needed)
        {
            throw new ArgumentException(
                $"A series of {series.Length} values is too short to fit AR({order}): it needs at least 2τ + 1 = {needed} (τ + 1 windows for τ + 1 unknowns).",
                nameof(series));
        }

        foreach (double v in series)
        {
            if (!double.IsFinite(v))
            {
                throw new ArgumentException("The series holds a NaN or infinite value.", nameof(series));
            }
        }

        int rows = series.Length - order;
        int p = order + 1;
        var x = new double[rows * p];
        var y = new double[rows];
        for (int r = 0; r < rows; r++)
        {
            int t = r + order;
            x[r * p] = 1;
            for (int j = 1; j <= order; j++)
            {
                x[(r * p) + j] = series[t - j];
            }

            y[r] = series[t];
        }

        return (x, y, rows);
    }
}
