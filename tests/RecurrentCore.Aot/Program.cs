using System.Diagnostics;
using RecurrentCore;
using RecurrentCore.Interop;
using RecurrentCore.Kernels;
using RecurrentCore.Layers;

// Usage: RecurrentCore.Aot FIXTURE_DIR [--bench SECONDS]
// Prints key=value lines: how the code runs (aot, active variant, the layer's variant), its agreement with a PyTorch
// LSTM fixture (the AOT binary is trimmed: this is the check that loading and stepping still work), and with --bench
// the median ns per streaming step of an LSTM I = H = 64, B = 1.
if (args.Length < 1)
{
    Console.Error.WriteLine("usage: RecurrentCore.Aot FIXTURE_DIR [--bench SECONDS]");
    return 2;
}

string dir = args[0];
var lstm = RecurrentLayer.Load(Path.Combine(dir, "weights.safetensors"), CellKind.Lstm);
// PublishAot sets IsDynamicCodeSupported=false under the JIT too; a JIT has compiled methods by now, NativeAOT none.
Console.WriteLine($"aot={System.Runtime.JitInfo.GetCompiledMethodCount() == 0}".ToLowerInvariant());
Console.WriteLine($"active={KernelCatalog.Name(KernelCatalog.Active)}");
Console.WriteLine($"supported={string.Join(',', KernelCatalog.Supported.Select(KernelCatalog.Name))}");
Console.WriteLine($"layer={KernelCatalog.Name(lstm.Variant)}");

var input = Npy.ReadFile(Path.Combine(dir, "input.npy"));
int seqLen = input.Shape[0], batch = input.Shape[1], inputSize = lstm.Config.InputSize, hidden = lstm.Config.HiddenSize;
float[] x = input.ToSingle();
double[] expected = Npy.ReadFile(Path.Combine(dir, "expected", "output.npy")).ToDouble();
var stream = lstm.CreateStream(batch);
Npy.ReadFile(Path.Combine(dir, "h0.npy")).ToSingle().CopyTo(stream.HiddenState);
Npy.ReadFile(Path.Combine(dir, "c0.npy")).ToSingle().CopyTo(stream.CellState);
var y = new float[batch * hidden];
double error = 0;
for (int t = 0; t < seqLen; t++)
{
    stream.Step(x.AsSpan(t * batch * inputSize, batch * inputSize), y);
    for (int i = 0; i < y.Length; i++)
    {
        error = Math.Max(error, Math.Abs(y[i] - expected[(t * batch * hidden) + i]));
    }
}

Console.WriteLine($"fixture_max_abs_error={error:0.0e+0}");
if (error > 1e-5)
{
    Console.Error.WriteLine($"streaming steps disagree with PyTorch: max |error| {error:0.0e+0} > 1e-5");
    return 1;
}

if (args.Length >= 3 && args[1] == "--bench")
{
    double seconds = double.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture);
    Console.WriteLine($"step_ns_lstm_h64={StepNanoseconds(64, seconds):0}");
}

return 0;

// Median over rounds of 2,000 steps after a warm-up of a quarter of the time (tier-up under the JIT).
static double StepNanoseconds(int size, double seconds)
{
    var config = new RecurrentConfig(CellKind.Lstm, size, size);
    var random = new Random(1);
    var tensors = RecurrentParameters.Layout(config).ToDictionary(
        p => p.Name,
        p => Enumerable.Range(0, p.Shape.Aggregate(1, (a, b) => a * b)).Select(_ => (float)((random.NextDouble() * 0.2) - 0.1)).ToArray());
    var stream = RecurrentLayer.FromArrays(config, tensors).CreateStream(1);
    var xs = Enumerable.Range(0, size).Select(_ => (float)random.NextDouble()).ToArray();
    var ys = new float[size];
    const int steps = 2000;
    var rounds = new List<double>();
    var total = Stopwatch.StartNew();
    while (total.Elapsed.TotalSeconds < seconds)
    {
        long start = Stopwatch.GetTimestamp();
        for (int s = 0; s < steps; s++)
        {
            stream.Step(xs, ys);
        }

        if (total.Elapsed.TotalSeconds > seconds / 4)
        {
            rounds.Add(Stopwatch.GetElapsedTime(start).TotalNanoseconds / steps);
        }
    }

    rounds.Sort();
    return rounds.Count == 0 ? double.NaN : rounds[rounds.Count / 2];
}
