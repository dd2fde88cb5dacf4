using System.Globalization;
using System.Text;
using RecurrentCore.Kernels;
using RecurrentCore.Kernels.Operators;
using Xunit;
using Xunit.Abstractions;

namespace RecurrentCore.Tests.Kernels;

/// <summary>
/// Opt-in: evaluates exp, sigmoid and tanh on every one of the 2^32 float bit patterns (all finite floats, ±0, ±Inf,
/// NaNs) for every supported variant and prints max ULP / absolute / relative error against the double reference.
/// Run with <c>RECURRENTCORE_EXHAUSTIVE=1 dotnet test tests/RecurrentCore.Tests -c Release --filter Category=Exhaustive
/// --logger "console;verbosity=detailed"</c>; the table is also written to <c>TestResults/exhaustive-activations.md</c>.
/// Without the variable the test returns at once.
/// </summary>
[Trait("Category", "Exhaustive")]
public class ExhaustiveActivationSweep(ITestOutputHelper output)
{
    private const int Chunk = 1 << 20;

    [Fact]
    public void Every_float_within_documented_bounds()
    {
        if (Environment.GetEnvironmentVariable("RECURRENTCORE_EXHAUSTIVE") != "1")
        {
            return;
        }

        var only = Environment.GetEnvironmentVariable("RECURRENTCORE_EXHAUSTIVE_VARIANTS");
        var table = new StringBuilder();
        table.AppendLine("| function | variant | range | max ULP | at x | max abs error | max rel error (normal results) |");
        table.AppendLine("|---|---|---|---|---|---|---|");
        foreach (var name in new[] { "exp", "sigmoid", "tanh" })
        {
            var (kernel, reference, maxUlp) = ActivationTests.Function(name);
            foreach (var variant in KernelCatalog.Supported)
            {
                if (only is not null && !only.Split(',').Contains(KernelCatalog.Name(variant)))
                {
                    continue;
                }

                foreach (var (label, lo, hi) in new[] { ("[-30, 30]", -30.0, 30.0), ("all floats", double.NegativeInfinity, double.PositiveInfinity) })
                {
                    var s = Sweep(kernel, reference, variant, lo, hi);
                    table.AppendLine(CultureInfo.InvariantCulture, $"| {name} | {KernelCatalog.Name(variant)} | {label} | {s.MaxUlp:F3} | {s.AtX:R} | {s.MaxAbs:E2} | {s.MaxRel:E2} |");
                    Assert.True(s.MaxUlp <= maxUlp, $"{name} {variant} {label}: {s.MaxUlp} ulp at {s.AtX:R} exceeds {maxUlp}");
                    Assert.True(s.Failures == 0, $"{name} {variant}: {s.Failures} results NaN/Inf where the reference is not");
                }
            }
        }

        output.WriteLine(table.ToString());
        Directory.CreateDirectory("TestResults");
        File.WriteAllText(Path.Combine("TestResults", "exhaustive-activations.md"), table.ToString());
    }

    private static Stats Sweep(ActivationTests.Kernel kernel, Func<double, double> reference, KernelVariant variant, double lo, double hi)
    {
        const long total = 1L << 32;
        int chunks = (int)(total / Chunk);
        var partial = new Stats[chunks];
        Parallel.For(0, chunks, c =>
        {
            var x = new float[Chunk];
            var y = new float[Chunk];
            int m = 0;
            for (long b = (long)c * Chunk; b < ((long)c + 1) * Chunk; b++)
            {
                float v = BitConverter.Int32BitsToSingle(unchecked((int)b));
                if (float.IsNaN(v) || (v >= lo && v <= hi))
                {
                    x[m++] = v;
                }
            }

            kernel(x.AsSpan(0, m), y.AsSpan(0, m), variant);
            var s = default(Stats);
            for (int i = 0; i < m; i++)
            {
                double r = reference(x[i]);
                double e = Ulp.Error(y[i], r);
                if (double.IsInfinity(e))
                {
                    s.Failures++;
                    continue;
                }

                if (e > s.MaxUlp)
                {
                    s.MaxUlp = e;
                    s.AtX = x[i];
                }

                if (double.IsFinite(r))
                {
                    double abs = Math.Abs(y[i] - r);
                    s.MaxAbs = Math.Max(s.MaxAbs, abs);
                    if (Math.Abs(r) >= Math.ScaleB(1.0, -126) && (float)r is var rf && float.IsFinite(rf))
                    {
                        s.MaxRel = Math.Max(s.MaxRel, abs / Math.Abs(r));
                    }
                }
            }

            partial[c] = s;
        });

        var all = default(Stats);
        foreach (var s in partial)
        {
            if (s.MaxUlp > all.MaxUlp)
            {
                all.MaxUlp = s.MaxUlp;
                all.AtX = s.AtX;
            }

            all.MaxAbs = Math.Max(all.MaxAbs, s.MaxAbs);
            all.MaxRel = Math.Max(all.MaxRel, s.MaxRel);
            all.Failures += s.Failures;
        }

        return all;
    }

    private struct Stats
    {
        public double MaxUlp;
        public float AtX;
        public double MaxAbs;
        public double MaxRel;
        public long Failures;
    }
}
