using System.Diagnostics;

namespace RecurrentCore.Peers;

/// <summary>One implementation under test for one scenario.</summary>
internal interface IPeerEngine : IDisposable
{
    /// <summary>"ours", "ORT" or "PyTorch".</summary>
    string Name { get; }

    /// <summary>What exactly runs (kernel variant, torch module), for the report.</summary>
    string Detail { get; }

    /// <summary>
    /// The agreement-check computation, by output name (output, h_n, c_n; training also grad_input and grad_&lt;param&gt;):
    /// step scenarios feed the K check inputs from zero state, the others run once.
    /// </summary>
    IReadOnlyDictionary<string, float[]> Check();

    /// <summary>Runs the timed call for about <paramref name="seconds"/> (at least twice) so that caches, JIT and the engine's own lazy setup settle; returns seconds per call.</summary>
    double Warm(double seconds);

    /// <summary>Times the call for about <paramref name="seconds"/> (at least one group), appending ns per call.</summary>
    void Time(double seconds, List<double> samples);
}

/// <summary>
/// An engine in this process: <see cref="RunOnce"/> is timed in groups of calls long enough (≥ 5 µs) for
/// Stopwatch's own cost to vanish; one sample is the group's time over its size.
/// </summary>
internal abstract class InProcessEngine : IPeerEngine
{
    private const double GroupSeconds = 5e-6;
    private int _group = 1;

    public abstract string Name { get; }

    public abstract string Detail { get; }

    public abstract IReadOnlyDictionary<string, float[]> Check();

    public abstract void RunOnce();

    public double Warm(double seconds)
    {
        long start = Stopwatch.GetTimestamp();
        int calls = 0;
        while (calls < 2 || Stopwatch.GetElapsedTime(start).TotalSeconds < seconds)
        {
            RunOnce();
            calls++;
        }

        double perCall = Stopwatch.GetElapsedTime(start).TotalSeconds / calls;
        _group = Math.Max(1, (int)Math.Ceiling(GroupSeconds / perCall));
        return perCall;
    }

    public void Time(double seconds, List<double> samples)
    {
        ArgumentNullException.ThrowIfNull(samples);
        double nsPerTick = 1e9 / Stopwatch.Frequency;
        long deadline = Stopwatch.GetTimestamp() + (long)(seconds * Stopwatch.Frequency);
        int taken = 0;
        while (taken == 0 || Stopwatch.GetTimestamp() < deadline)
        {
            long t0 = Stopwatch.GetTimestamp();
            for (int i = 0; i < _group; i++)
            {
                RunOnce();
            }

            long t1 = Stopwatch.GetTimestamp();
            samples.Add((t1 - t0) * nsPerTick / _group);
            taken++;
        }
    }

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
    }
}
