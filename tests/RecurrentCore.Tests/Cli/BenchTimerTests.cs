using System.Diagnostics;
using RecurrentCore.Cli.Bench;
using Xunit;

namespace RecurrentCore.Tests.Cli;

/// <summary>`recurrent bench` times what it was asked to: stable code, for the requested seconds.</summary>
public class BenchTimerTests
{
    /// <summary>
    /// A call that is slow for its first 0.3 s (like code waiting for tier-up in a process pinned to one CPU) and fast
    /// afterwards: warm-up must outlast the slow phase, and measuring must last the requested time (a sample buffer sized
    /// from the slow calls filled up in milliseconds and stopped the run early).
    /// </summary>
    [Fact]
    public void Measures_for_the_requested_seconds_after_the_calls_speed_up()
    {
        const double seconds = 0.5;
        var clock = Stopwatch.StartNew();
        void Call()
        {
            double until = clock.Elapsed.TotalSeconds + (clock.Elapsed.TotalSeconds < 0.3 ? 1e-3 : 2e-6);
            while (clock.Elapsed.TotalSeconds < until)
            {
            }
        }

        var r = BenchTimer.Measure(Call, seconds);
        Assert.True(r.WarmupSeconds >= 0.3, $"warm-up stopped at {r.WarmupSeconds:0.000} s, inside the slow phase");
        Assert.True(r.MeasuredSeconds >= 0.95 * seconds, $"measured {r.MeasuredSeconds:0.000} s of the requested {seconds} s");
        Assert.True(r.MedianNs < 0.5e6, $"the median {r.MedianNs:0} ns timed the slow phase");
        Assert.Equal(0, r.AllocatedBytesPerIteration);
    }
}
