using System.Diagnostics;

namespace RecurrentCore.Peers;

/// <summary>One implementation under test for one scenario.</summary>
internal interface IPeerEngine : IDisposable
{
    /// <summary>The engine's key in the JSON and on the command line: ours, rtneural, ort, ort-int8, onednn, torch2, torch1.</summary>
    string Key { get; }

    /// <summary>The column name: "ours", "ORT", "PyTorch 2", ...</summary>
    string Name { get; }

    /// <summary>What exactly runs (kernel variant, torch module, RTNeural backend), for the report.</summary>
    string Detail { get; }

    /// <summary>Agreement bound on |ours − peer| / max(1, |peer|); float32 engines share <see cref="PeerRunner.Tolerance"/>.</summary>
    double Tolerance => PeerRunner.Tolerance;

    /// <summary>
    /// The agreement-check computation, by output name (output, h_n, c_n; training also grad_input and grad_&lt;param&gt;):
    /// step scenarios feed the K check inputs from zero state, the others run once. An engine may leave out c_n
    /// (RTNeural keeps its cell state private); it must give output.
    /// </summary>
    IReadOnlyDictionary<string, float[]> Check();

    /// <summary>Runs the timed call until its time per call is steady (at least <paramref name="seconds"/>); returns seconds per call.</summary>
    double Warm(double seconds);

    /// <summary>Times the call for about <paramref name="seconds"/> (at least one group), appending ns per call.</summary>
    void Time(double seconds, List<double> samples);
}

/// <summary>
/// An engine in this process: <see cref="RunOnce"/> is timed in groups of calls long enough (≥ 5 µs) for Stopwatch's own
/// cost to vanish; one sample is the group's time over its size.
/// </summary>
internal abstract class InProcessEngine : IPeerEngine
{
    private const double GroupSeconds = 5e-6;
    private const double WindowSeconds = 0.05;
    private int _group = 1;

    public abstract string Key { get; }

    public abstract string Name { get; }

    public abstract string Detail { get; }

    public virtual double Tolerance => PeerRunner.Tolerance;

    /// <summary>Seconds the last <see cref="Warm"/> took until the time per call was steady.</summary>
    public double WarmSeconds { get; private set; }

    /// <summary>Upper bound on a warm-up: .NET pinned to one CPU installs optimised code only after ~2 s (issue 10).</summary>
    public static double MaxWarmSeconds { get; set; } = 2.5;

    /// <summary>This engine's bound on a warm-up (native engines have no JIT to wait for).</summary>
    protected virtual double WarmCap => MaxWarmSeconds;

    public abstract IReadOnlyDictionary<string, float[]> Check();

    public abstract void RunOnce();

    /// <summary>
    /// Runs the call in 50 ms windows for at least <paramref name="seconds"/> and until three consecutive windows agree
    /// within 3 % (the tiered JIT has installed its final code), or for <see cref="WarmCap"/> (at most 8 ×
    /// <paramref name="seconds"/>, so that a token warm-up stays short).
    /// </summary>
    public double Warm(double seconds)
    {
        double cap = Math.Max(seconds, Math.Min(WarmCap, 8 * seconds));
        long start = Stopwatch.GetTimestamp();
        var windows = new List<double>();
        int calls = 0;
        double perCall;
        while (true)
        {
            long w0 = Stopwatch.GetTimestamp();
            int n = 0;
            while (n < 2 || Stopwatch.GetElapsedTime(w0).TotalSeconds < Math.Min(WindowSeconds, cap))
            {
                RunOnce();
                n++;
            }

            calls += n;
            perCall = Stopwatch.GetElapsedTime(w0).TotalSeconds / n;
            windows.Add(perCall);
            double elapsed = Stopwatch.GetElapsedTime(start).TotalSeconds;
            if (elapsed >= cap)
            {
                break;
            }

            if (elapsed >= seconds && windows.Count >= 3)
            {
                var last = windows.Skip(windows.Count - 3).ToArray();
                if (last.Max() <= last.Min() * 1.03)
                {
                    break;
                }
            }
        }

        WarmSeconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
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
