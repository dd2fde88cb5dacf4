using RecurrentCore.Layers;

namespace RecurrentCore.Peers;

/// <summary>
/// RecurrentCore with reduced-precision weights (issue 11): <see cref="QuantizedLayer.FromLayer"/> of the scenario's
/// float32 layer in bf16 or int8, <see cref="QuantizedStreamState.Step"/> for the step scenarios and
/// <see cref="QuantizedLayer.Forward"/> on one stream for sequences. One thread (a quantized layer does not split rows);
/// held to the quantization bound against ours float32, like ORT int8.
/// </summary>
internal sealed class OursFormatEngine : InProcessEngine
{
    private readonly ScenarioData _data;
    private readonly QuantizedLayer _layer;
    private readonly QuantizedStreamState _stream;
    private readonly float[] _x0, _y, _hN, _cN;

    public OursFormatEngine(ScenarioData data, WeightFormat format)
    {
        ArgumentNullException.ThrowIfNull(data);
        _data = data;
        var s = data.Scenario;
        _layer = QuantizedLayer.FromParameters(data.Parameters, format);
        _stream = _layer.CreateStream(s.Batch);
        int states = s.Batch * s.Hidden;
        _hN = new float[states];
        _cN = s.Cell == CellKind.Lstm ? new float[states] : [];
        bool step = s.Mode == PeerMode.Step;
        _x0 = step ? data.Input.AsSpan(0, s.Input).ToArray() : data.Input;
        _y = new float[(step ? 1 : s.SeqLen) * s.Batch * s.Hidden];
    }

    /// <summary>The engine key of a format: ours-bf16, ours-int8.</summary>
    public static string KeyOf(WeightFormat format) => format == WeightFormat.Int8 ? "ours-int8" : "ours-bf16";

    /// <summary>Step (B = 1) and one-thread sequence inference of the cells a quantized layer runs.</summary>
    public static bool Supports(PeerScenario s)
    {
        ArgumentNullException.ThrowIfNull(s);
        return s.Mode != PeerMode.Train && s.Threads == 1;
    }

    public WeightFormat Format => _layer.Format;

    public override string Key => KeyOf(Format);

    public override string Name => Format == WeightFormat.Int8 ? "ours int8" : "ours bf16";

    public override string Detail => $"RecurrentCore QuantizedLayer {Format} ({_layer.WeightBytes} weight bytes), {OursEngine.VariantName(_layer)}, {(_data.Scenario.Mode == PeerMode.Step ? "QuantizedStreamState.Step" : "Forward, 1 thread")}";

    public override double Tolerance => OrtEngine.QuantizedTolerance;

    public override IReadOnlyDictionary<string, float[]> Check()
    {
        var s = _data.Scenario;
        var result = new Dictionary<string, float[]>(StringComparer.Ordinal);
        if (s.Mode == PeerMode.Step)
        {
            _stream.Reset();
            var ys = new float[PeerScenario.CheckSteps * s.Hidden];
            for (int k = 0; k < PeerScenario.CheckSteps; k++)
            {
                _stream.Step(_data.Input.AsSpan(k * s.Input, s.Input), ys.AsSpan(k * s.Hidden, s.Hidden));
            }

            result["output"] = ys;
            result["h_n"] = _stream.HiddenState.ToArray();
            if (s.Cell == CellKind.Lstm)
            {
                result["c_n"] = _stream.CellState.ToArray();
            }

            return result;
        }

        RunOnce();
        result["output"] = (float[])_y.Clone();
        result["h_n"] = (float[])_hN.Clone();
        if (_cN.Length != 0)
        {
            result["c_n"] = (float[])_cN.Clone();
        }

        return result;
    }

    public override void RunOnce()
    {
        if (_data.Scenario.Mode == PeerMode.Step)
        {
            _stream.Step(_x0, _y);
        }
        else
        {
            _layer.Forward(_stream, _x0, _data.Scenario.SeqLen, _y, _hN, _cN);
        }
    }
}
