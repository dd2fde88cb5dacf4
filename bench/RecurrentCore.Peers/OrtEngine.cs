using Microsoft.ML.OnnxRuntime;
using RecurrentCore.Interop.Onnx;

namespace RecurrentCore.Peers;

/// <summary>
/// ONNX Runtime (CPU execution provider, in process) on the model our exporter writes, in its best case: one intra-op
/// and one inter-op thread, sequential execution, every graph optimisation, and every input and output bound once
/// through <see cref="OrtIoBinding"/> to OrtValues over pinned arrays, so a call is one RunWithBinding. The step
/// scenarios run the T = 1 model with h0/c0 inputs; the state is carried by two bindings that swap the h/c buffers:
/// step k reads h0/c0 from the buffers step k − 1 wrote as h_n/c_n.
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
    private int _parity;

    public OrtEngine(ScenarioData data)
    {
        _data = data;
        var s = data.Scenario;
        bool step = s.Mode == PeerMode.Step, lstm = s.Cell == CellKind.Lstm;
        byte[] model = OnnxModel.Export(data.Parameters, new OnnxExportOptions { InitialStates = step });
        var options = new SessionOptions
        {
            IntraOpNumThreads = 1,
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
        var y = Value(_y, [t, b, h]);
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

    public override string Name => "ORT";

    public override string Detail => "Microsoft.ML.OnnxRuntime 1.31.1 CPU, 1 thread, IoBinding";

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
