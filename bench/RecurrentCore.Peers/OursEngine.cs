using RecurrentCore.Layers;
#if PEERS_WORKSPACE_IN_MEMORY
using RecurrentCore.Memory;
#endif

namespace RecurrentCore.Peers;

/// <summary>
/// RecurrentCore: <see cref="StreamState.Step(ReadOnlySpan{float}, Span{float})"/> for the step scenarios,
/// <see cref="RecurrentLayer.Forward"/> (and <see cref="RecurrentLayer.Backward"/>) on a workspace with the scenario's
/// thread count otherwise. Only the layer, workspace, stream and gradient API: this file builds against any revision
/// bench/peers/ab.sh compares.
/// </summary>
internal sealed class OursEngine : InProcessEngine
{
    private readonly ScenarioData _data;
    private readonly RecurrentLayer _layer;
    private readonly StreamState? _stream;
    private readonly RecurrentWorkspace? _workspace;
    private readonly RecurrentGradients? _grads;
    private readonly float[] _x0, _y, _hN, _cN, _dx;

    public OursEngine(ScenarioData data)
    {
        ArgumentNullException.ThrowIfNull(data);
        _data = data;
        var s = data.Scenario;
        _layer = RecurrentLayer.FromParameters(data.Parameters);
        int states = s.Batch * s.Hidden;
        _hN = new float[states];
        _cN = s.Cell == CellKind.Lstm ? new float[states] : [];
        switch (s.Mode)
        {
            case PeerMode.Step:
                _stream = _layer.CreateStream(1);
                _x0 = data.Input.AsSpan(0, s.Input).ToArray();
                _y = new float[s.Hidden];
                _dx = [];
                break;
            case PeerMode.Sequence:
                _workspace = _layer.CreateWorkspace(s.SeqLen, s.Batch, threads: s.Threads);
                _x0 = data.Input;
                _y = new float[s.SeqLen * s.Batch * s.Hidden];
                _dx = [];
                break;
            default:
                _workspace = _layer.CreateWorkspace(s.SeqLen, s.Batch, training: true, threads: s.Threads);
                _grads = new RecurrentGradients(s.Config);
                _x0 = data.Input;
                _y = new float[s.SeqLen * s.Batch * s.Hidden];
                _dx = new float[_x0.Length];
                break;
        }
    }

    public override string Key => "ours";

    public override string Name => "ours";

    public override string Detail
    {
        get
        {
            var s = _data.Scenario;
            string threads = s.Mode == PeerMode.Step ? ", StreamState.Step" : $", {s.Threads} thread{(s.Threads > 1 ? "s" : string.Empty)}";
            return "RecurrentCore " + VariantName(_layer) + threads;
        }
    }

    /// <summary>
    /// The layer's kernel variant, read by reflection: the property has moved between revisions, and the before/after
    /// builds must compile from the same source.
    /// </summary>
    public static string VariantName(object layer)
    {
        ArgumentNullException.ThrowIfNull(layer);
        object? v = layer.GetType().GetProperty("Variant")?.GetValue(layer);
        return v?.ToString()?.ToLowerInvariant() ?? "?";
    }

    public override IReadOnlyDictionary<string, float[]> Check()
    {
        var s = _data.Scenario;
        var result = new Dictionary<string, float[]>(StringComparer.Ordinal);
        if (s.Mode == PeerMode.Step)
        {
            _stream!.Reset();
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

        if (s.Mode == PeerMode.Train)
        {
            result["grad_input"] = (float[])_dx.Clone();
            foreach (var (name, _, data) in _grads!.Named())
            {
                result["grad_" + name] = (float[])data.Clone();
            }
        }

        return result;
    }

    public override void RunOnce()
    {
        var s = _data.Scenario;
        switch (s.Mode)
        {
            case PeerMode.Step:
                _stream!.Step(_x0, _y);
                break;
            case PeerMode.Sequence:
                _layer.Forward(_workspace!, _x0, s.SeqLen, s.Batch, _y, _hN, _cN);
                break;
            default:
                _layer.Forward(_workspace!, _x0, s.SeqLen, s.Batch, _y, _hN, _cN);
                _grads!.Clear();
                _layer.Backward(_workspace!, _data.GradOutput, _data.GradHN, _data.GradCN, _grads, _dx);
                break;
        }
    }
}
