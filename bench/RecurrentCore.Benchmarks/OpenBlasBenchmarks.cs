using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Running;

namespace RecurrentCore.Benchmarks;

/// <summary>
/// Peer: OpenBLAS <c>cblas_sgemm</c> (row-major, <c>C = A·Bᵀ</c>) on the GEMM suites' shapes, single-threaded.
/// Run with <c>OPENBLAS_CORETYPE=SkylakeX OPENBLAS_NUM_THREADS=1</c> in the environment (the library reads them when it
/// loads; the in-process job inherits them). Without <c>libopenblas.so.0</c> (<c>apt-get install -y libopenblas0</c>)
/// set-up fails with a message and the rest of the run goes on.
/// </summary>
[Config(typeof(LongOperationConfig))]
public unsafe class GemmOpenBlasBenchmarks
{
    private delegate* unmanaged<int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void> _sgemm;
    private float* _a;
    private float* _b;
    private float* _c;
    private int _m;
    private int _n;
    private int _k;

    /// <summary>M×N×K: the projection shapes (T = 100, B ∈ {1,16,64}, H ∈ {256,1024}) and the squares.</summary>
    [Params("100x1024x256", "1600x1024x256", "6400x1024x256", "100x4096x1024", "1600x4096x1024", "6400x4096x1024", "256x256x256", "1024x1024x1024")]
    public string Shape { get; set; } = "";

    public static Work Work(BenchmarkCase benchmarkCase)
    {
        var d = Params.Get<string>(benchmarkCase, nameof(Shape)).Split('x').Select(double.Parse).ToArray();
        return new Work(2 * d[0] * d[1] * d[2], 4 * ((d[0] * d[2]) + (d[1] * d[2])));
    }

    [GlobalSetup]
    public void Setup()
    {
        if (!NativeLibrary.TryLoad("libopenblas.so.0", out var lib))
        {
            throw new InvalidOperationException("OpenBLAS peer skipped: libopenblas.so.0 not found (apt-get install -y libopenblas0)");
        }

        _sgemm = (delegate* unmanaged<int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void>)NativeLibrary.GetExport(lib, "cblas_sgemm");
        if (NativeLibrary.TryGetExport(lib, "openblas_set_num_threads", out var setThreads))
        {
            ((delegate* unmanaged<int, void>)setThreads)(1);
        }

        if (NativeLibrary.TryGetExport(lib, "openblas_get_corename", out var coreName))
        {
            Console.WriteLine($"// OpenBLAS core: {Marshal.PtrToStringAnsi((nint)((delegate* unmanaged<byte*>)coreName)())}");
        }

        var d = Shape.Split('x').Select(int.Parse).ToArray();
        (_m, _n, _k) = (d[0], d[1], d[2]);
        _a = Alloc((nint)_m * _k);
        _b = Alloc((nint)_n * _k);
        _c = Alloc((nint)_m * _n);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        NativeMemory.AlignedFree(_a);
        NativeMemory.AlignedFree(_b);
        NativeMemory.AlignedFree(_c);
    }

    /// <summary>C = A·Bᵀ: CblasRowMajor (101), NoTrans (111), Trans (112).</summary>
    [Benchmark]
    public void Sgemm() => _sgemm(101, 111, 112, _m, _n, _k, 1f, _a, _k, _b, _k, 0f, _c, _n);

    private static float* Alloc(nint count)
    {
        var p = (float*)NativeMemory.AlignedAlloc((nuint)(count * sizeof(float)), 64);
        new Span<float>(p, (int)count).Fill(0.01f);
        return p;
    }
}
