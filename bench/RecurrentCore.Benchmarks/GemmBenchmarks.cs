using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Running;
using RecurrentCore.Kernels;

namespace RecurrentCore.Benchmarks;

/// <summary>Shared set-up: <c>C[M×N] = A[M×K]·Wᵀ + bias</c> against a packed <c>W</c> (<c>N×K</c>).</summary>
public abstract class GemmBenchmarkBase
{
    private float[] _a = [];
    private float[] _w = [];
    private float[] _c = [];
    private float[] _bias = [];
    private PackedMatrix? _packed;

    [ParamsSource(nameof(Variants))]
    public KernelVariant Variant { get; set; }

    public static IEnumerable<KernelVariant> Variants => KernelCatalog.Supported.Where(v => v != KernelVariant.Scalar);

    protected abstract (int M, int N, int K) Shape { get; }

    protected static Work WorkOf(int m, int n, int k) => new(2.0 * m * n * k, 4.0 * (((double)m * k) + ((double)n * k)));

    [GlobalSetup]
    public void Setup()
    {
        var (m, n, k) = Shape;
        var rng = new Random(2);
        _a = new float[m * k];
        _w = new float[n * k];
        _c = new float[m * n];
        _bias = new float[n];
        for (int i = 0; i < _a.Length; i++)
        {
            _a[i] = (float)(rng.NextDouble() - 0.5);
        }

        for (int i = 0; i < _w.Length; i++)
        {
            _w[i] = (float)(rng.NextDouble() - 0.5);
        }

        _packed = PackedMatrix.Pack(_w, n, k, Variant);
    }

    /// <summary>The forward input projection, bias folded in.</summary>
    [Benchmark]
    public void Multiply() => Gemm.Multiply(_a, Shape.M, _packed!, _bias, _c, false);
}

/// <summary>
/// The input projection of a whole sequence as one GEMM: <c>T = 100</c> steps, batch <c>B</c>, <c>M = T·B</c>,
/// <c>K = H</c>, <c>N = 4H</c> (LSTM gates), one row per vector variant.
/// </summary>
[Config(typeof(LongOperationConfig))]
public class GemmProjectionBenchmarks : GemmBenchmarkBase
{
    [Params(1, 16, 64)]
    public int B { get; set; }

    [Params(256, 1024)]
    public int H { get; set; }

    protected override (int M, int N, int K) Shape => (100 * B, 4 * H, H);

    public static Work Work(BenchmarkCase benchmarkCase)
    {
        int b = Params.Get<int>(benchmarkCase, nameof(B)), h = Params.Get<int>(benchmarkCase, nameof(H));
        return WorkOf(100 * b, 4 * h, h);
    }
}

/// <summary>Square <c>S×S×S</c> products, forward and the two backward shapes, per vector variant.</summary>
[Config(typeof(LongOperationConfig))]
public class GemmSquareBenchmarks : GemmBenchmarkBase
{
    private float[] _x = [];
    private float[] _g = [];
    private float[] _r = [];

    [Params(256, 1024)]
    public int S { get; set; }

    protected override (int M, int N, int K) Shape => (S, S, S);

    public static Work Work(BenchmarkCase benchmarkCase)
    {
        int s = Params.Get<int>(benchmarkCase, nameof(S));
        return WorkOf(s, s, s);
    }

    [GlobalSetup(Targets = [nameof(MultiplyTransposedA), nameof(MultiplyNotTransposed)])]
    public void SetupBackward()
    {
        Setup();
        _x = new float[S * S];
        _g = new float[S * S];
        _r = new float[S * S];
        _x.AsSpan().Fill(0.25f);
        _g.AsSpan().Fill(0.5f);
    }

    /// <summary>dW += dGᵀ·X.</summary>
    [Benchmark]
    public void MultiplyTransposedA() => Gemm.MultiplyTransposedA(_g, _x, S, S, S, _r, true, Variant);

    /// <summary>dX = dG·W.</summary>
    [Benchmark]
    public void MultiplyNotTransposed() => Gemm.MultiplyNotTransposed(_g, _x, S, S, S, _r, false, Variant);
}
