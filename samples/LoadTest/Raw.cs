using System.Globalization;

namespace RecurrentCore.Samples.LoadTest;

/// <summary>The ceiling the pool works under: one <c>StreamState(B).Step</c> per call on this thread, per row, in CPU time.</summary>
internal static class Raw
{
    public static int Run(Args a)
    {
        int input = a.Int("input", DemoModel.DefaultInput), hidden = a.Int("hidden", DemoModel.DefaultHidden), calls = a.Int("calls", 2000);
        var layer = DemoModel.Seeded(a.Int("seed", 1, int.MinValue), input, hidden);
        Console.WriteLine($"# raw StreamState.Step, LSTM I={input} H={hidden}, kernel {Kernels.KernelCatalog.Name(layer.Variant)}, {calls} calls per B (CPU time of this thread)");
        Console.WriteLine("| B | µs per call | µs per row | rows/CPU-s |");
        Console.WriteLine("|---:|---:|---:|---:|");
        foreach (int b in new[] { 1, 2, 8, 16, 32, 64 })
        {
            var s = layer.CreateStream(b);
            var x = new float[b * input];
            var y = new float[b * hidden];
            new Random(3).NextBytes(new byte[1]);
            for (int i = 0; i < x.Length; i++)
            {
                x[i] = (float)Math.Sin(i);
            }

            int n = Math.Max(50, calls / b);
            for (int i = 0; i < n / 5; i++)
            {
                s.Step(x, y);
            }

            var t0 = Environment.CpuUsage.UserTime + Environment.CpuUsage.PrivilegedTime;
            for (int i = 0; i < n; i++)
            {
                s.Step(x, y);
            }

            double us = (Environment.CpuUsage.TotalTime - t0).TotalMicroseconds / n;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {b} | {us:0.0} | {us / b:0.00} | {b * 1e6 / us:0} |"));
        }

        return 0;
    }
}
