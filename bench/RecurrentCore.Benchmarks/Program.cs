using BenchmarkDotNet.Running;

namespace RecurrentCore.Benchmarks;

/// <summary>
/// BenchmarkDotNet entry point, e.g. <c>dotnet run -c Release --project bench/RecurrentCore.Benchmarks -- --filter '*Gemv*'</c>.
/// Suites: <c>*Roofline*</c> (this machine's FMA peak and read bandwidths), <c>*Gemv*</c>, <c>*Gemm*</c>.
/// </summary>
internal static class Program
{
    private static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}
