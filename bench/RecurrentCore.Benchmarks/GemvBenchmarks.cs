using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Running;
using RecurrentCore.Kernels;

namespace RecurrentCore.Benchmarks;

/// <summary>
/// The recurrent GEMV: <c>W</c> of <c>Gates·H × H</c> (4 for LSTM, 3 for GRU), forward <c>y = W·x</c> and backward
/// <c>y = Wᵀ·x</c>, one row per variant. GB/s counts the bytes of <c>W</c> (the stream that bounds it).
/// </summary>
[Config(typeof(ShortConfig))]
public class GemvBenchmarks
{
    private float[] _w = [];
    private float[] _x = [];
    private float[] _y = [];

    [Params(16, 32, 64, 256, 1024)]
    public int H { get; set; }

    [Params(4, 3)]
    public int Gates { get; set; }

    [ParamsSource(nameof(Variants))]
    public KernelVariant Variant { get; set; }

    public static IEnumerable<KernelVariant> Variants => KernelCatalog.Supported;

    public static Work Work(BenchmarkCase benchmarkCase)
    {
        double h = Params.Get<int>(benchmarkCase, nameof(H));
        double g = Params.Get<int>(benchmarkCase, nameof(Gates));
        return new Work(2 * g * h * h, 4 * g * h * h);
    }

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(1);
        int rows = Gates * H;
        _w = new float[rows * H];
        _x = new float[rows];
        _y = new float[rows];
        for (int i = 0; i < _w.Length; i++)
        {
            _w[i] = (float)(rng.NextDouble() - 0.5);
        }

        _x.AsSpan().Fill(0.5f);
    }

    [Benchmark]
    public void Multiply() => Gemv.Multiply(_w, Gates * H, H, _x, _y, false, Variant);

    [Benchmark]
    public void MultiplyTransposed() => Gemv.MultiplyTransposed(_w, Gates * H, H, _x, _y, false, Variant);
}
