using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Running;

namespace RecurrentCore.Benchmarks;

/// <summary>
/// This machine's single-thread FMA peak per vector width, measured by the project itself: 12 independent chains,
/// so FMA latency never binds.
/// </summary>
[Config(typeof(ShortConfig))]
public class RooflineFmaBenchmarks
{
    private const int FmaSteps = 1 << 15;
    private const int Chains = 12;

    public static Work Work(BenchmarkCase benchmarkCase)
    {
        int lanes = benchmarkCase.Descriptor.WorkloadMethod.Name switch { "Fma128" => 4, "Fma256" => 8, _ => 16 };
        return new Work(2.0 * FmaSteps * Chains * lanes, 0);
    }

    [Benchmark]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public float Fma128()
    {
        if (!Fma.IsSupported)
        {
            return 0;
        }

        var m = Vector128.Create(0.999f);
        var c = Vector128.Create(1e-3f);
        Vector128<float> a0 = c, a1 = c, a2 = c, a3 = c, a4 = c, a5 = c, a6 = c, a7 = c, a8 = c, a9 = c, a10 = c, a11 = c;
        for (int i = 0; i < FmaSteps; i++)
        {
            a0 = Fma.MultiplyAdd(a0, m, c); a1 = Fma.MultiplyAdd(a1, m, c); a2 = Fma.MultiplyAdd(a2, m, c); a3 = Fma.MultiplyAdd(a3, m, c);
            a4 = Fma.MultiplyAdd(a4, m, c); a5 = Fma.MultiplyAdd(a5, m, c); a6 = Fma.MultiplyAdd(a6, m, c); a7 = Fma.MultiplyAdd(a7, m, c);
            a8 = Fma.MultiplyAdd(a8, m, c); a9 = Fma.MultiplyAdd(a9, m, c); a10 = Fma.MultiplyAdd(a10, m, c); a11 = Fma.MultiplyAdd(a11, m, c);
        }

        return Vector128.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11);
    }

    [Benchmark]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public float Fma256()
    {
        if (!Fma.IsSupported)
        {
            return 0;
        }

        var m = Vector256.Create(0.999f);
        var c = Vector256.Create(1e-3f);
        Vector256<float> a0 = c, a1 = c, a2 = c, a3 = c, a4 = c, a5 = c, a6 = c, a7 = c, a8 = c, a9 = c, a10 = c, a11 = c;
        for (int i = 0; i < FmaSteps; i++)
        {
            a0 = Fma.MultiplyAdd(a0, m, c); a1 = Fma.MultiplyAdd(a1, m, c); a2 = Fma.MultiplyAdd(a2, m, c); a3 = Fma.MultiplyAdd(a3, m, c);
            a4 = Fma.MultiplyAdd(a4, m, c); a5 = Fma.MultiplyAdd(a5, m, c); a6 = Fma.MultiplyAdd(a6, m, c); a7 = Fma.MultiplyAdd(a7, m, c);
            a8 = Fma.MultiplyAdd(a8, m, c); a9 = Fma.MultiplyAdd(a9, m, c); a10 = Fma.MultiplyAdd(a10, m, c); a11 = Fma.MultiplyAdd(a11, m, c);
        }

        return Vector256.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11);
    }

    [Benchmark]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public float Fma512()
    {
        if (!Avx512F.IsSupported)
        {
            return 0;
        }

        var m = Vector512.Create(0.999f);
        var c = Vector512.Create(1e-3f);
        Vector512<float> a0 = c, a1 = c, a2 = c, a3 = c, a4 = c, a5 = c, a6 = c, a7 = c, a8 = c, a9 = c, a10 = c, a11 = c;
        for (int i = 0; i < FmaSteps; i++)
        {
            a0 = Avx512F.FusedMultiplyAdd(a0, m, c); a1 = Avx512F.FusedMultiplyAdd(a1, m, c); a2 = Avx512F.FusedMultiplyAdd(a2, m, c);
            a3 = Avx512F.FusedMultiplyAdd(a3, m, c); a4 = Avx512F.FusedMultiplyAdd(a4, m, c); a5 = Avx512F.FusedMultiplyAdd(a5, m, c);
            a6 = Avx512F.FusedMultiplyAdd(a6, m, c); a7 = Avx512F.FusedMultiplyAdd(a7, m, c); a8 = Avx512F.FusedMultiplyAdd(a8, m, c);
            a9 = Avx512F.FusedMultiplyAdd(a9, m, c); a10 = Avx512F.FusedMultiplyAdd(a10, m, c); a11 = Avx512F.FusedMultiplyAdd(a11, m, c);
        }

        return Vector512.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11);
    }
}

/// <summary>
/// This machine's single-thread read bandwidth from L1 (16 KiB), L2 (1 MiB), L3 (8 MiB) and memory (256 MiB): a
/// vector sum with 8 accumulators over a buffer of <see cref="ReadKiB"/>.
/// </summary>
[Config(typeof(ShortConfig))]
public unsafe class RooflineReadBenchmarks
{
    private float* _buffer;
    private nint _floats;

    [Params(16, 1024, 8192, 262144)]
    public int ReadKiB { get; set; }

    public static Work Work(BenchmarkCase benchmarkCase) => new(0, Params.Get<int>(benchmarkCase, nameof(ReadKiB)) * 1024.0);

    [GlobalSetup]
    public void Setup()
    {
        _floats = (nint)ReadKiB * 1024 / sizeof(float);
        _buffer = (float*)NativeMemory.AlignedAlloc((nuint)(_floats * sizeof(float)), 64);
        new Span<float>(_buffer, (int)_floats).Fill(1e-3f);
    }

    [GlobalCleanup]
    public void Cleanup() => NativeMemory.AlignedFree(_buffer);

    /// <summary>Sums the buffer with 512-bit loads (256-bit without AVX-512), 8 accumulators.</summary>
    [Benchmark]
    public float Read()
    {
        if (Vector512.IsHardwareAccelerated)
        {
            return Read512(_buffer, _floats);
        }

        return Read256(_buffer, _floats);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    internal static float Read512(float* p, nint n)
    {
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
        for (nint i = 0; i <= n - 128; i += 128)
        {
            a0 += Vector512.Load(p + i); a1 += Vector512.Load(p + i + 16); a2 += Vector512.Load(p + i + 32); a3 += Vector512.Load(p + i + 48);
            a4 += Vector512.Load(p + i + 64); a5 += Vector512.Load(p + i + 80); a6 += Vector512.Load(p + i + 96); a7 += Vector512.Load(p + i + 112);
        }

        return Vector512.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Read256(float* p, nint n)
    {
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
        for (nint i = 0; i <= n - 64; i += 64)
        {
            a0 += Vector256.Load(p + i); a1 += Vector256.Load(p + i + 8); a2 += Vector256.Load(p + i + 16); a3 += Vector256.Load(p + i + 24);
            a4 += Vector256.Load(p + i + 32); a5 += Vector256.Load(p + i + 40); a6 += Vector256.Load(p + i + 48); a7 += Vector256.Load(p + i + 56);
        }

        return Vector256.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7);
    }
}
