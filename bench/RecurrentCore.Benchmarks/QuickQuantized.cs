using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using RecurrentCore.Cells;
using RecurrentCore.Kernels;
using RecurrentCore.Kernels.Quantized;
using RecurrentCore.Kernels.Simd;

namespace RecurrentCore.Benchmarks;

/// <summary>
/// <c>quick-quant</c>: issue 11's roofline, outside BenchmarkDotNet, fastest of many short batches (on a shared host
/// contention only slows a batch down): the single-thread read bandwidth over buffers from L2-sized to L3-sized (a 512-bit sum
/// with 8 accumulators, as <see cref="RooflineReadBenchmarks"/>), then each format's product as a streaming step and a
/// sequence use it: the one-input GEMV of the G·H × H matrices (W_ih, W_hh) at H = 256 and 1024 and the 32-input
/// W_ih projection, in bytes of weights read per second; and the per-step int8 quantizer.
/// </summary>
internal static unsafe class QuickQuantized
{
    public static void Run()
    {
        Console.WriteLine($"quick-quant: {KernelCatalog.Name(KernelCatalog.Active)}, {Environment.ProcessorCount} CPUs, load {File.ReadAllText("/proc/loadavg").Trim()}");
        foreach (int kib in new[] { 256, 512, 768, 1024, 2048, 4096, 8192, 16384, 24576, 65536 })
        {
            nint n = (nint)kib * 256;
            float* p = (float*)NativeMemory.AlignedAlloc((nuint)(n * 4), 64);
            new Span<float>(p, (int)n).Fill(1e-3f);
            double best = Best(() => RooflineReadBenchmarks.Read512(p, n), 64L << 20, kib * 1024L);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"read {kib,6} KiB  {kib * 1024.0 / best / 1e9,6:F1} GB/s"));
            NativeMemory.AlignedFree(p);
        }

        var call = new Products();
        KernelCatalog.Visit<Products, bool>(KernelCatalog.Active, ref call);
    }

    /// <summary>
    /// Seconds per call: the fastest of many short batches (about 200 µs each, for 0.4 s), so that on a loaded host
    /// some batches run without being descheduled.
    /// </summary>
    private static double Best(Action body, long budgetBytes, long bytesPerCall)
    {
        _ = budgetBytes;
        _ = bytesPerCall;
        body();
        var sw = Stopwatch.StartNew();
        int reps = 1;
        while (sw.Elapsed.TotalSeconds < 2e-4)
        {
            body();
            reps++;
        }

        double best = double.MaxValue;
        var total = Stopwatch.StartNew();
        while (total.Elapsed.TotalSeconds < 0.4)
        {
            sw.Restart();
            for (int r = 0; r < reps; r++)
            {
                body();
            }

            best = Math.Min(best, sw.Elapsed.TotalSeconds / reps);
        }

        return best;
    }

    private struct Products : ISimdVisitor<bool>
    {
        public readonly bool Visit<TS, TV>()
            where TS : struct, ISimd<TV>
            where TV : unmanaged
        {
            foreach (int h in new[] { 256, 1024 })
            {
                int rows = 4 * h, cols = h, inputs = 32;
                var rng = new Random(5);
                var w = new float[rows * cols];
                for (int i = 0; i < w.Length; i++)
                {
                    w[i] = (float)(rng.NextDouble() - 0.5);
                }

                var f32 = new QuantizedMatrix(w, rows, cols, WeightFormat.Float32);
                var bf = new QuantizedMatrix(w, rows, cols, WeightFormat.BFloat16);
                var i8 = new QuantizedMatrix(w, rows, cols, WeightFormat.Int8);
                int stride = bf.Stride;
                var x = GC.AllocateArray<float>(inputs * stride, pinned: true);
                for (int i = 0; i < x.Length; i++)
                {
                    x[i] = (float)(rng.NextDouble() - 0.5);
                }

                var y = GC.AllocateArray<float>(inputs * rows, pinned: true);
                var u = GC.AllocateArray<byte>(inputs * stride, pinned: true);
                var scales = GC.AllocateArray<float>(inputs, pinned: true);
                var scratch = GC.AllocateArray<float>(stride, pinned: true);
                fixed (float* px = x)
                fixed (float* py = y)
                fixed (byte* pu = u)
                fixed (float* ps = scales)
                fixed (float* pscr = scratch)
                {
                    float* xp = px, yp = py, sp = ps, scr = pscr;
                    byte* up = pu;
                    for (int j = 0; j < inputs; j++)
                    {
                        sp[j] = Int8Quantizer.QuantizeUnsigned<TS, TV>(xp + (j * stride), cols, up + (j * stride), scr);
                    }

                    long n = (long)rows * cols;
                    Report(h, "f32  GEMV", 4 * n, Best(() => GemvKernel<TS, TV>.Multiply(f32.Float32, rows, cols, xp, yp, false), 256L << 20, 4 * n));
                    Report(h, "bf16 GEMV", 2 * n, Best(() => BFloat16GemvKernel<TS, TV>.Multiply(bf.BFloat16Bits, rows, stride, xp, yp, false), 256L << 20, 2 * n));
                    Report(h, "int8 GEMV", n, Best(() => Int8GemvKernel<TS, TV>.Multiply(i8.Int8, i8.RowSums, i8.Scales, rows, stride, up, sp[0], yp, false), 256L << 20, n));
                    sbyte* packed = i8.Int8Columns(TS.Count);
                    var sq = GC.AllocateArray<sbyte>(stride, pinned: true);
                    var mq = GC.AllocateArray<byte>(stride, pinned: true);
                    fixed (sbyte* psq = sq)
                    fixed (byte* pmq = mq)
                    {
                        sbyte* signedQ = psq;
                        byte* qm = pmq;
                        Int8Quantizer.SplitSigns(up, cols, signedQ, qm);
                        Report(h, "int8 cols", n, Best(() => Int8GemvKernel<TS, TV>.MultiplyColumns(packed, i8.Scales, rows, cols, qm, signedQ, sp[0], yp, false), 256L << 20, n));
                    }

                    ushort* bfc = bf.BFloat16Columns(TS.Count);
                    Report(h, "bf16 cols", 2 * n, Best(() => BFloat16GemvKernel<TS, TV>.MultiplyColumns(bfc, rows, cols, xp, yp, false), 256L << 20, 2 * n));
                    Report(h, "bf16 x32 ", 2 * n * inputs, Best(() => BFloat16GemvKernel<TS, TV>.MultiplyManyColumns(bfc, rows, cols, xp, stride, inputs, yp, rows), 256L << 20, 2 * n * inputs));
                    Report(h, "int8 x32 ", n * inputs, Best(() => Int8GemvKernel<TS, TV>.MultiplyMany(i8.Int8, i8.RowSums, i8.Scales, rows, stride, up, sp, inputs, yp, rows), 256L << 20, n * inputs));
                    double q = Best(() => Int8Quantizer.QuantizeUnsigned<TS, TV>(xp, cols, up, scr), 64L << 20, 4 * cols);
                    double qs = Best(() => Int8Quantizer.QuantizeUnsigned(xp, cols, up), 64L << 20, 4 * cols);
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"H={h,5} int8 quantize {cols} floats: {q * 1e9:F0} ns (scalar {qs * 1e9:F0} ns)"));
                }
            }

            return true;
        }

        private static void Report(int h, string what, long bytes, double seconds) =>
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"H={h,5} {what} {4 * h}x{h}: {seconds * 1e6,9:F2} us  {bytes / seconds / 1e9,6:F1} GB/s of weights  {bytes / 1048576.0,7:F2} MiB"));
    }
}
