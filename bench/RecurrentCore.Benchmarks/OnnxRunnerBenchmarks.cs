using BenchmarkDotNet.Attributes;
using RecurrentCore.Interop.Onnx;

namespace RecurrentCore.Benchmarks;

/// <summary>
/// A service-sized request: an exported one-layer LSTM (I = 16, H = 32, T = 8, B = 1) with a Linear head on the final
/// state (Gemm + Softmax, 4 classes), run per call by <see cref="OnnxSession.Run"/> (fresh dictionaries and tensors, a
/// workspace per call) and by a planned <see cref="OnnxRunner"/> (caller buffers, nothing allocated).
/// <c>dotnet run -c Release --project bench/RecurrentCore.Benchmarks -- --filter '*OnnxRunner*' --job short --inProcess</c>.
/// </summary>
[MemoryDiagnoser]
public class OnnxRunnerBenchmarks
{
    private const int T = 8, B = 1, I = 16, H = 32, F = 4;
    private OnnxSession _session = null!;
    private OnnxRunner _runner = null!;
    private Dictionary<string, OnnxTensor> _feeds = null!;
    private OnnxBuffer[] _inputs = null!;
    private OnnxBuffer[] _outputs = null!;

    [Params("lstm", "gru")]
    public string Cell { get; set; } = "lstm";

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(3);
        double Rand(double scale) => (float)(scale * ((2 * rng.NextDouble()) - 1));
        var cfg = new RecurrentConfig(Cell == "lstm" ? CellKind.Lstm : CellKind.Gru, I, H);
        var p = new RecurrentParameters(cfg);
        foreach (var (_, _, data) in p.Named())
        {
            for (int j = 0; j < data.Length; j++)
            {
                data[j] = Rand(0.3);
            }
        }

        var head = new OnnxLinearHead([.. Enumerable.Range(0, F * H).Select(_ => Rand(0.5))], [.. Enumerable.Range(0, F).Select(_ => Rand(0.1))], F, OnnxHeadInput.FinalState, OnnxHeadActivation.Softmax);
        _session = OnnxModel.Load(OnnxModel.Export(p, new OnnxExportOptions { Head = head }), "bench.onnx");
        var x = Enumerable.Range(0, T * B * I).Select(_ => (float)Rand(1)).ToArray();
        _feeds = new() { [OnnxModel.Names.Input] = OnnxTensor.FromFloats([.. x.Select(v => (double)v)], T, B, I) };
        _runner = _session.CreateRunner(new Dictionary<string, int[]> { [OnnxModel.Names.Input] = [T, B, I] });
        _inputs = [x];
        _outputs = [.. _runner.Outputs.Select(v => (OnnxBuffer)new float[v.Length])];
    }

    [GlobalCleanup]
    public void Cleanup() => _runner.Dispose();

    [Benchmark(Baseline = true)]
    public IReadOnlyDictionary<string, OnnxTensor> SessionRun() => _session.Run(_feeds);

    [Benchmark]
    public void RunnerRun() => _runner.Run(_inputs, _outputs);
}
