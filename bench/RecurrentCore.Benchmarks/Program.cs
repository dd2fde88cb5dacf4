using BenchmarkDotNet.Running;

namespace RecurrentCore.Benchmarks;

/// <summary>
/// BenchmarkDotNet entry point, e.g. <c>dotnet run -c Release --project bench/RecurrentCore.Benchmarks -- --filter '*Gemv*'</c>.
/// Suites: <c>*Roofline*</c> (this machine's FMA peak and read bandwidths), <c>*Gemv*</c>, <c>*Gemm*</c>.
/// <c>quick-gemv [H,…]</c> runs <see cref="QuickGemv"/> instead (no BenchmarkDotNet), <c>quick-quant</c> <see cref="QuickQuantized"/>, <c>quick-seq [H,…]</c> <see cref="QuickSequence"/>, <c>quick-gemm [MxNxK,…]</c> <see cref="QuickGemm"/>.
/// </summary>
internal static class Program
{
    private static void Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "quick-gemv")
        {
            QuickGemv.Run(args[1..]);
            return;
        }

        if (args.Length > 0 && args[0] == "quick-quant")
        {
            QuickQuantized.Run();
            return;
        }

        if (args.Length > 0 && args[0] == "quick-gemm")
        {
            QuickGemm.Run(args[1..]);
            return;
        }

        if (args.Length > 0 && args[0] == "quick-seq")
        {
            QuickSequence.Run(args[1..]);
            return;
        }

        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
    }
}
