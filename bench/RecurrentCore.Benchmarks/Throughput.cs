using System.Globalization;
using System.Reflection;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Perfolizer.Horology;

namespace RecurrentCore.Benchmarks;

/// <summary>Floating-point operations and bytes moved by one benchmark operation.</summary>
public readonly record struct Work(double Flops, double Bytes);

/// <summary>
/// A column of GFLOP/s or GB/s from the median time; the benchmark type supplies its work through a static
/// <c>Work Work(BenchmarkCase)</c> method.
/// </summary>
internal sealed class ThroughputColumn(bool bytes, bool fromMin = false) : IColumn
{
    public string Id => (bytes ? "GBps" : "GFlops") + (fromMin ? "Min" : "");

    public string ColumnName => (bytes ? "GB/s" : "GFLOP/s") + (fromMin ? " @Min" : "");

    public bool AlwaysShow => true;

    public ColumnCategory Category => ColumnCategory.Custom;

    public int PriorityInCategory => (bytes ? 1 : 0) + (fromMin ? 2 : 0);

    public bool IsNumeric => true;

    public UnitType UnitType => UnitType.Dimensionless;

    public string Legend => (bytes ? "bytes of operands read" : "floating-point operations") + (fromMin ? " per second of the fastest iteration / 1e9 (the host is shared: contention only slows)" : " per median second / 1e9");

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var stats = summary[benchmarkCase]?.ResultStatistics;
        var method = benchmarkCase.Descriptor.Type.GetMethod("Work", BindingFlags.Public | BindingFlags.Static);
        if (stats is null || method is null)
        {
            return "-";
        }

        var work = (Work)method.Invoke(null, [benchmarkCase])!;
        double amount = bytes ? work.Bytes : work.Flops;
        return amount <= 0 ? "-" : (amount / (fromMin ? stats.Min : stats.Median)).ToString("F1", CultureInfo.InvariantCulture);
    }

    public bool IsAvailable(Summary summary) => true;

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
}

/// <summary>A short in-process job (the machine is shared: keep suites to minutes) with throughput columns.</summary>
internal class ShortConfig : ManualConfig
{
    public ShortConfig()
        : this(warmup: 3, iterations: 7)
    {
    }

    protected ShortConfig(int warmup, int iterations, bool singleInvocation = false)
    {
        var job = Job.Default.WithWarmupCount(warmup).WithIterationCount(iterations).WithLaunchCount(1)
            .WithToolchain(InProcessEmitToolchain.Instance).WithId("Short");
        if (singleInvocation)
        {
            job = job.WithInvocationCount(1).WithUnrollFactor(1);
        }
        else
        {
            // 80 ms iterations (BenchmarkDotNet's default is 500 ms) keep an 80-case suite to about two minutes.
            job = job.WithIterationTime(TimeInterval.FromMilliseconds(80));
        }

        AddJob(job);
        AddColumn(StatisticColumn.Median, StatisticColumn.Min, new ThroughputColumn(false), new ThroughputColumn(true), new ThroughputColumn(false, true), new ThroughputColumn(true, true));
        AddDiagnoser(MemoryDiagnoser.Default);
        WithOptions(ConfigOptions.DisableOptimizationsValidator);
    }
}

/// <summary>For operations of milliseconds and more: one invocation per iteration, no pilot stage.</summary>
internal sealed class LongOperationConfig : ShortConfig
{
    public LongOperationConfig()
        : base(warmup: 2, iterations: 5, singleInvocation: true)
    {
    }
}

internal static class Params
{
    public static T Get<T>(BenchmarkCase benchmarkCase, string name) => (T)benchmarkCase.Parameters[name];
}
