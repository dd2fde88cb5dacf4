using Microsoft.ML.OnnxRuntime;
using RecurrentCore.Interop.Onnx;

namespace RecurrentCore.Peers;

/// <summary>
/// ONNX Runtime (CPU execution provider, in process) in its best case: the scenario's intra-op thread count, one
/// inter-op thread, sequential execution, every graph optimisation, and every input and output bound once through
/// <see cref="OrtIoBinding"/> to OrtValues over pinned arrays, so a call is one RunWithBinding. Float32: the model our
/// exporter writes. Int8 (<c>quantized</c>, LSTM only): <see cref="QuantizedLstmModel"/>'s DynamicQuantizeLSTM on the
/// same weights. The step scenarios run the T = 1 model with h0/c0 inputs; the state is carried by two bindings that
/// swap the h/c buffers: step k reads h0/c0 from the buffers step k − 1 wrote as h_n/c_n.
/// </summary>
internal sealed class OrtEngine : InProcessEngine
{
    private readonly ScenarioData _data;
    private readonly InferenceSession _session;
    private readonly RunOptions _run = new();
    private readonly List<IDisposable> _owned = [];
    private readonly OrtIoBinding[] _bindings;
    private readonly float[] _x, _y;
    private readonly float[][] _h = new float[2][], _c = new float[2][];
    private readonly bool _quantized;
    private int _parity;

    public OrtEngine(ScenarioData data, bool quantized = false)
    {
        ArgumentNullException.ThrowIfNull(data);
        _data = data;
        _quantized = quantized;
        var s = data.Scenario;
        bool step = s.Mode == PeerMode.Step, lstm = s.Cell == CellKind.Lstm;
        byte[] model = quantized
            ? QuantizedLstmModel.Build(data, initialStates: step)
            : OnnxModel.Export(data.Parameters, new OnnxExportOptions { InitialStates = step });
        var options = new SessionOptions
        {
            IntraOpNumThreads = s.Threads,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL,
        };
        _owned.Add(options);
        _session = new InferenceSession(model, options);
        _owned.Add(_session);
        _owned.Add(_run);

        int t = step ? 1 : s.SeqLen, b = s.Batch, h = s.Hidden;
        _x = step ? data.Input.AsSpan(0, s.Input).ToArray() : data.Input;
        _y = new float[t * b * h];
        long[] stateShape = [1, b, h];
        var x = Value(_x, [t, b, s.Input]);
        var y = Value(_y, quantized ? [t, 1, b, h] : [t, b, h]);
        var hv = new OrtValue[2];
        var cv = new OrtValue[2];
        for (int p = 0; p < 2; p++)
        {
            _h[p] = new float[b * h];
            _c[p] = lstm ? new float[b * h] : [];
            hv[p] = Value(_h[p], stateShape);
            cv[p] = lstm ? Value(_c[p], stateShape) : hv[p];
        }

        _bindings = new OrtIoBinding[step ? 2 : 1];
        for (int p = 0; p < _bindings.Length; p++)
        {
            var binding = _session.CreateIoBinding();
            _owned.Add(binding);
            binding.BindInput(OnnxModel.Names.Input, x);
            binding.BindOutput(OnnxModel.Names.Output, y);
            if (step)
            {
                binding.BindInput(OnnxModel.Names.InitialH, hv[p]);
                binding.BindOutput(OnnxModel.Names.HN, hv[1 - p]);
                if (lstm)
                {
                    binding.BindInput(OnnxModel.Names.InitialC, cv[p]);
                    binding.BindOutput(OnnxModel.Names.CN, cv[1 - p]);
                }
            }
            else
            {
                binding.BindOutput(OnnxModel.Names.HN, hv[0]);
                if (lstm)
                {
                    binding.BindOutput(OnnxModel.Names.CN, cv[0]);
                }
            }

            _bindings[p] = binding;
        }
    }

    /// <summary>Quantization error bound of the int8 model against float32, |Δ| / max(1, |ref|) (see docs/peers.md).</summary>
    public const double QuantizedTolerance = 0.02;

    public override string Key => _quantized ? "ort-int8" : "ort";

    public override string Name => _quantized ? "ORT int8" : "ORT";

    public override string Detail => $"Microsoft.ML.OnnxRuntime {OrtVersion} CPU{(_quantized ? " com.microsoft.DynamicQuantizeLSTM (int8 per-channel W/R, uint8 dynamic X/h)" : string.Empty)}, {_data.Scenario.Threads} thread{(_data.Scenario.Threads > 1 ? "s" : string.Empty)}, IoBinding";

    /// <summary>Native code: a second is enough for ORT's first-run allocations and weight pre-packing.</summary>
    protected override double WarmCap => 1.0;

    public override double Tolerance => _quantized ? QuantizedTolerance : PeerRunner.Tolerance;

    /// <summary>The native library's version string.</summary>
    public static string OrtVersion => OrtEnv.Instance().GetVersionString();

    /// <summary>Whether ORT runs the scenario: float32 everything but training; int8 LSTM step and sequence.</summary>
    public static bool Supports(PeerScenario s, bool quantized)
    {
        ArgumentNullException.ThrowIfNull(s);
        return s.Mode != PeerMode.Train && (!quantized || s.Cell == CellKind.Lstm);
    }

    public override IReadOnlyDictionary<string, float[]> Check()
    {
        var s = _data.Scenario;
        var result = new Dictionary<string, float[]>(StringComparer.Ordinal);
        if (s.Mode == PeerMode.Step)
        {
            int h = s.Hidden;
            var ys = new float[PeerScenario.CheckSteps * h];
            for (int p = 0; p < 2; p++)
            {
                Array.Clear(_h[p]);
                Array.Clear(_c[p]);
            }

            _parity = 0;
            for (int k = 0; k < PeerScenario.CheckSteps; k++)
            {
                _data.Input.AsSpan(k * s.Input, s.Input).CopyTo(_x);
                RunOnce();
                _y.CopyTo(ys, k * h);
            }

            _data.Input.AsSpan(0, s.Input).CopyTo(_x); // the timed step feeds the first input
            result["output"] = ys;
            result["h_n"] = (float[])_h[_parity].Clone();
            if (s.Cell == CellKind.Lstm)
            {
                result["c_n"] = (float[])_c[_parity].Clone();
            }

            return result;
        }

        RunOnce();
        result["output"] = (float[])_y.Clone();
        result["h_n"] = (float[])_h[0].Clone();
        if (s.Cell == CellKind.Lstm)
        {
            result["c_n"] = (float[])_c[0].Clone();
        }

        return result;
    }

    public override void RunOnce()
    {
        _session.RunWithBinding(_run, _bindings[_parity]);
        if (_bindings.Length == 2)
        {
            _parity ^= 1;
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            for (int i = _owned.Count - 1; i >= 0; i--)
            {
                _owned[i].Dispose();
            }

            _owned.Clear();
        }

        base.Dispose(disposing);
    }

    private OrtValue Value(float[] data, long[] shape)
    {
        var v = OrtValue.CreateTensorValueFromMemory(data, shape);
        _owned.Add(v);
        return v;
    }
}
