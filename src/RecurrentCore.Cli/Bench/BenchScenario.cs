using RecurrentCore.Layers;

namespace RecurrentCore.Cli.Bench;

/// <summary>What `recurrent bench` measures: one call of a layer in one of three modes, on random weights (fixed seed).</summary>
internal enum BenchMode
{
    /// <summary>One inference forward over the whole (T, B) sequence.</summary>
    Forward,

    /// <summary>A training forward plus full backward through time.</summary>
    Train,

    /// <summary>One streaming step of one time step for B streams, state carried.</summary>
    Step,
}

/// <summary>The measured result, named as the bench JSON contract names it.</summary>
internal sealed record BenchResult(long Iterations, double MedianNs, double P99Ns, double AllocatedBytesPerIteration, int SamplesPerIteration)
{
    /// <summary>How long warm-up ran before its timing was stable.</summary>
    public double WarmupSeconds { get; init; }

    /// <summary>How long the timed samples ran.</summary>
    public double MeasuredSeconds { get; init; }
}

/// <summary>Builds the layer and buffers for a scenario, then times it with <see cref="BenchTimer"/>.</summary>
internal sealed class BenchScenario : IDisposable
{
    private readonly RecurrentLayer _layer;
    private readonly BenchMode _mode;
    private readonly int _seqLen, _batch;
    private readonly float[] _x, _y, _hn, _cn, _dx;
    private readonly RecurrentWorkspace? _workspace;
    private readonly RecurrentGradients? _grads;
    private readonly StreamState? _stream;
    private readonly QuantizedLayer? _quantized;
    private readonly QuantizedStreamState? _quantizedStream;

    /// <param name="config">The shape (ignored when <paramref name="parameters"/> are given: theirs).</param>
    /// <param name="mode">What one iteration runs.</param>
    /// <param name="seqLen">T.</param>
    /// <param name="batch">B.</param>
    /// <param name="threads">Workspace threads.</param>
    /// <param name="seed">Seed of the random weights and input.</param>
    /// <param name="weightFormat">How W_ih and W_hh are stored.</param>
    /// <param name="parameters">A model's weights (bench --model); random ones when null.</param>
    public BenchScenario(
        RecurrentConfig config, BenchMode mode, int seqLen, int batch, int threads = 1, int seed = 42, WeightFormat weightFormat = WeightFormat.Float32,
        RecurrentParameters? parameters = null)
    {
        _mode = mode;
        _seqLen = mode == BenchMode.Step ? 1 : seqLen;
        _batch = batch;
        var rng = new Random(seed);
        var p = parameters;
        if (p is null)
        {
            p = new RecurrentParameters(config);
            double bound = 1 / Math.Sqrt(config.HiddenSize);
            foreach (var (_, _, data) in p.Named())
            {
                for (int i = 0; i < data.Length; i++)
                {
                    data[i] = bound * ((2 * rng.NextDouble()) - 1);
                }
            }
        }

        config = p.Config;
        _layer = RecurrentLayer.FromParameters(p);
        int states = config.NumLayers * config.NumDirections * batch;
        _x = Random(rng, _seqLen * batch * config.InputSize);
        _y = new float[_seqLen * batch * (mode == BenchMode.Step ? config.StateSize : config.OutputSize)];
        _hn = new float[states * config.StateSize];
        _cn = config.Cell.HasCellState() ? new float[states * config.HiddenSize] : [];
        _dx = new float[_x.Length];
        if (weightFormat != WeightFormat.Float32)
        {
            // bf16/int8: the same random weights converted; step and forward both run the quantized stream.
            _quantized = QuantizedLayer.FromLayer(_layer, weightFormat);
            _quantizedStream = _quantized.CreateStream(batch);
            return;
        }

        switch (mode)
        {
            case BenchMode.Step:
                _stream = _layer.CreateStream(batch);
                break;
            case BenchMode.Train:
                _workspace = _layer.CreateWorkspace(seqLen, batch, training: true, threads: threads);
                _grads = new RecurrentGradients(config);
                break;
            default:
                _workspace = _layer.CreateWorkspace(seqLen, batch, threads: threads);
                break;
        }
    }

    public void Dispose() => _workspace?.Dispose();

    public string Kernel => Kernels.KernelCatalog.Name(_layer.Variant);

    public void RunOnce()
    {
        if (_quantizedStream is not null)
        {
            if (_mode == BenchMode.Step)
            {
                _quantizedStream.Step(_x, _y);
            }
            else
            {
                _quantized!.Forward(_quantizedStream, _x, _seqLen, _y, _hn, _cn);
            }

            return;
        }

        switch (_mode)
        {
            case BenchMode.Step:
                _stream!.Step(_x, _y);
                break;
            case BenchMode.Train:
                _layer.Forward(_workspace!, _x, _seqLen, _batch, _y, _hn, _cn);
                _grads!.Clear();
                _layer.Backward(_workspace!, _y, _hn, _cn, _grads, _dx);
                break;
            default:
                _layer.Forward(_workspace!, _x, _seqLen, _batch, _y, _hn, _cn);
                break;
        }
    }

    public BenchResult Measure(double seconds) => BenchTimer.Measure(RunOnce, seconds);

    private static float[] Random(Random rng, int n)
    {
        var a = new float[n];
        for (int i = 0; i < n; i++)
        {
            a[i] = (float)((2 * rng.NextDouble()) - 1);
        }

        return a;
    }
}
