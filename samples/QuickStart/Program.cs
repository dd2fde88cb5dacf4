using RecurrentCore;
using RecurrentCore.Interop;
using RecurrentCore.Kernels;
using RecurrentCore.Layers;

// A PyTorch nn.LSTM(input_size=4, hidden_size=6) with PyTorch's own results, committed by tests/fixtures/gen_torch.py:
// its state_dict as safetensors (weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0), inputs as .npy.
string dir = args.Length > 0 ? args[0] : Path.Combine("tests", "fixtures", "torch", "lstm_basic");
float[] Read(string file) => Npy.ReadFile(Path.Combine(dir, file)).ToSingle();
double[] Expected(string file) => Npy.ReadFile(Path.Combine(dir, "expected", file)).ToDouble();

var lstm = RecurrentLayer.Load(Path.Combine(dir, "weights.safetensors"), CellKind.Lstm); // immutable, shareable between threads
HostTensor inputTensor = Npy.ReadFile(Path.Combine(dir, "input.npy"));
int seqLen = inputTensor.Shape[0], batch = inputTensor.Shape[1], input = lstm.Config.InputSize, hidden = lstm.Config.HiddenSize;
float[] x = inputTensor.ToSingle();               // (T, B, I), time-major as in PyTorch's default
float[] h0 = Read("h0.npy"), c0 = Read("c0.npy"); // (L·D, B, H)
double[] expectedOutput = Expected("output.npy"); // (T, B, D·H), float64

// Whole sequences: one workspace per concurrent caller, sized once; Forward allocates nothing.
using var ws = lstm.CreateWorkspace(maxSeqLen: seqLen, maxBatch: batch);
var output = new float[seqLen * batch * hidden]; // (T, B, D·H)
var hN = new float[batch * hidden];              // (L·D, B, H)
var cN = new float[batch * hidden];
lstm.Forward(ws, x, seqLen, batch, output, hN, cN, h0, c0);
double forwardError = MaxAbsDiff(output, expectedOutput);

// Streaming: one state for B independent streams, one call per time step, the state carried between calls.
var stream = lstm.CreateStream(batch);
h0.CopyTo(stream.HiddenState);
c0.CopyTo(stream.CellState);
var y = new float[batch * hidden];               // (B, H)
double stepError = 0;
for (int t = 0; t < seqLen; t++)
{
    stream.Step(x.AsSpan(t * batch * input, batch * input), y);
    stepError = Math.Max(stepError, MaxAbsDiff(y, expectedOutput.AsSpan(t * batch * hidden, batch * hidden)));
}

// Training: a training workspace keeps what Backward needs; gradients accumulate into RecurrentGradients.
using var train = lstm.CreateWorkspace(seqLen, batch, training: true);
var grads = new RecurrentGradients(lstm.Config);
var gradInput = new float[x.Length];
lstm.Forward(train, x, seqLen, batch, output, hN, cN, h0, c0);
lstm.Backward(train, Read("grad_output.npy"), Read("grad_h_n.npy"), Read("grad_c_n.npy"), grads, gradInput);
double gradientError = MaxAbsDiff(gradInput, Expected("grad_input.npy"));

const double outputTolerance = 1e-5, gradientTolerance = 1e-4;
Console.WriteLine($"kernel {KernelCatalog.Name(lstm.Variant)}: max |ours - PyTorch| forward {forwardError:0.0e+0}, step {stepError:0.0e+0}, grad input {gradientError:0.0e+0}");
bool ok = forwardError <= outputTolerance && stepError <= outputTolerance && gradientError <= gradientTolerance;
Console.WriteLine(ok ? "agrees with PyTorch" : $"DISAGREES with PyTorch (tolerance {outputTolerance:0e+0} outputs, {gradientTolerance:0e+0} gradients)");
return ok ? 0 : 1;

static double MaxAbsDiff(ReadOnlySpan<float> ours, ReadOnlySpan<double> pytorch)
{
    if (ours.Length != pytorch.Length)
    {
        throw new ArgumentException($"{ours.Length} values, PyTorch has {pytorch.Length}");
    }

    double max = 0;
    for (int i = 0; i < ours.Length; i++)
    {
        max = Math.Max(max, Math.Abs(ours[i] - pytorch[i]));
    }

    return max;
}
