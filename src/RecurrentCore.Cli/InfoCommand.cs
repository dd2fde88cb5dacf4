using System.CommandLine;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using RecurrentCore.Kernels;

namespace RecurrentCore.Cli;

/// <summary><c>recurrent info</c>: the CPU's features and the kernel variant each kernel uses.</summary>
internal static class InfoCommand
{
    private static readonly string[] Kernels = ["gemv", "gemm", "activations", "lstm gates", "gru gates", "rnn gates"];

    public static Command Create()
    {
        var command = new Command("info", "Print the CPU's SIMD features, the kernel variants this machine supports and the one each kernel uses.");
        command.SetAction(parse =>
        {
            var o = parse.InvocationConfiguration.Output;
            o.WriteLine($"runtime      {RuntimeInformation.FrameworkDescription} on {RuntimeInformation.OSDescription} ({RuntimeInformation.ProcessArchitecture})");
            o.WriteLine($"cpu          {CpuModel()} ({Environment.ProcessorCount} logical processors)");
            var features = new List<string>();
            void Add(bool supported, string name)
            {
                if (supported)
                {
                    features.Add(name);
                }
            }

            Add(Sse42.IsSupported, "sse4.2");
            Add(Avx.IsSupported, "avx");
            Add(Avx2.IsSupported, "avx2");
            Add(Fma.IsSupported, "fma");
            Add(Avx512F.IsSupported, "avx512f");
            Add(Avx512BW.IsSupported, "avx512bw");
            Add(Avx512DQ.IsSupported, "avx512dq");
            Add(Avx512Vbmi.IsSupported, "avx512vbmi");
            Add(AvxVnni.IsSupported, "avx-vnni");
            Add(System.Runtime.Intrinsics.Arm.AdvSimd.IsSupported, "advsimd");
            o.WriteLine($"features     {(features.Count == 0 ? "(none enabled)" : string.Join(' ', features))}");
            o.WriteLine($"vectors      Vector128 {Accel(Vector128.IsHardwareAccelerated)}, Vector256 {Accel(Vector256.IsHardwareAccelerated)}, Vector512 {Accel(Vector512.IsHardwareAccelerated)}, Vector<float> {Vector<float>.Count} lanes");
            o.WriteLine($"supported    {string.Join(", ", KernelCatalog.Supported.Select(KernelCatalog.Name))} (preference order)");
            string? forced = Environment.GetEnvironmentVariable(KernelCatalog.ForceVariable);
            o.WriteLine($"active       {KernelCatalog.Name(KernelCatalog.Active)}{(string.IsNullOrWhiteSpace(forced) ? string.Empty : $" ({KernelCatalog.ForceVariable}={forced})")}");
            foreach (var kernel in Kernels)
            {
                o.WriteLine($"  {kernel,-12} {KernelCatalog.Name(KernelCatalog.Active)}");
            }

            o.WriteLine("quantized    bf16 and int8 weights (--weights-format), per supported variant:");
            foreach (var v in KernelCatalog.Supported)
            {
                o.WriteLine($"  {KernelCatalog.Name(v),-12} {RecurrentCore.Kernels.Quantized.QuantizedKernels.Describe(v)}");
            }

            return 0;
        });
        return command;
    }

    private static string Accel(bool accelerated) => accelerated ? "yes" : "no";

    private static string CpuModel()
    {
        try
        {
            if (File.Exists("/proc/cpuinfo"))
            {
                foreach (var line in File.ReadLines("/proc/cpuinfo"))
                {
                    if (line.StartsWith("model name", StringComparison.Ordinal))
                    {
                        return line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
                    }
                }
            }
        }
        catch (IOException)
        {
        }

        return "unknown model";
    }
}
