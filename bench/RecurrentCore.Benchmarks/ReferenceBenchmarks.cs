using BenchmarkDotNet.Attributes;
using RecurrentCore.Reference;

namespace RecurrentCore.Benchmarks;

/// <summary>
/// The scalar double-precision reference path: the floor every fast path is measured against.
/// Sequence forward and forward+backward at T=20, B=4 for each cell and a few hidden sizes.
/// </summary>
[MemoryDiagnoser]
public class ReferenceBenchmarks
{
    private RecurrentParameters _parameters = null!;
    private SequenceInputs _inputs = null!;
    private UpstreamGradients _upstream = null!;

    [Params(CellKind.Lstm, CellKind.Gru, CellKind.RnnTanh)]
    public CellKind Cell { get; set; }

    [Params(16, 64)]
    public int Hidden { get; set; }

    public const int SeqLen = 20;
    public const int Batch = 4;

    [GlobalSetup]
    public void Setup()
    {
        var cfg = new RecurrentConfig(Cell, Hidden, Hidden);
        var rng = new Random(1);
        _parameters = new RecurrentParameters(cfg);
        double bound = 1 / Math.Sqrt(Hidden);
        foreach (var (_, _, data) in _parameters.Named())
        {
            for (int i = 0; i < data.Length; i++)
            {
                data[i] = bound * ((2 * rng.NextDouble()) - 1);
            }
        }

        _inputs = new SequenceInputs(SeqLen, Batch, Random(rng, SeqLen * Batch * Hidden));
        _upstream = new UpstreamGradients(Random(rng, SeqLen * Batch * Hidden));
    }

    [Benchmark]
    public SequenceOutputs Forward() => ReferenceRnn.Forward(_parameters, _inputs);

    [Benchmark]
    public SequenceGradients ForwardBackward() => ReferenceRnn.Backward(_parameters, _inputs, _upstream).Gradients;

    private static double[] Random(Random rng, int n)
    {
        var a = new double[n];
        for (int i = 0; i < n; i++)
        {
            a[i] = (2 * rng.NextDouble()) - 1;
        }

        return a;
    }
}
