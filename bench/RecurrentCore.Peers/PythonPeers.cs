using System.Globalization;
using System.Text.Json.Nodes;

namespace RecurrentCore.Peers;

/// <summary>
/// One bench/peers/peer_server.py process: an interpreter (Debian's /usr/bin/python3 with torch 1.13, or
/// /opt/peers-venv/bin/python with torch 2.14 and oneDNN 3.12) at a fixed thread count.
/// </summary>
internal sealed class PythonServer : IDisposable
{
    private readonly ServerProcess _server;
    private int _slots;

    private PythonServer(ServerProcess server, JsonNode ready, string python, int threads)
    {
        _server = server;
        Python = python;
        Threads = threads;
        TorchVersion = (string?)ready["torch"] ?? "?";
        OneDnnVersion = (string?)ready["onednn"];
    }

    public string Python { get; }

    public int Threads { get; }

    public string TorchVersion { get; }

    /// <summary>oneDNN's version when libdnnl loads in this interpreter, else null.</summary>
    public string? OneDnnVersion { get; }

    public static PythonServer? TryStart(string python, int threads, out string why)
    {
        string script = Path.Combine(AppContext.BaseDirectory, "peer_server.py");
        if (!File.Exists(script))
        {
            why = $"{script} not found";
            return null;
        }

        if (!File.Exists(python))
        {
            why = $"{python} not found";
            return null;
        }

        string t = threads.ToString(CultureInfo.InvariantCulture);
        var env = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["OPENBLAS_CORETYPE"] = "SkylakeX",
            ["OMP_NUM_THREADS"] = t,
            ["MKL_NUM_THREADS"] = t,
            ["OPENBLAS_NUM_THREADS"] = t,
        };
        var server = ServerProcess.TryStart(python, ["-u", script, "--threads", t], env, $"{python} peer_server.py", "{\"cmd\":\"quit\"}", out why);
        if (server is null)
        {
            return null;
        }

        return new PythonServer(server, JsonNode.Parse(server.ReadyLine)!, python, threads);
    }

    public string NewSlot() => "s" + (++_slots).ToString(CultureInfo.InvariantCulture);

    public JsonNode Request(JsonObject request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var reply = JsonNode.Parse(_server.Request(request.ToJsonString()))!;
        if (!(bool)reply["ok"]!)
        {
            throw new InvalidOperationException($"{_server.Label}: " + (string?)reply["error"]);
        }

        return reply;
    }

    public void Dispose() => _server.Dispose();
}

/// <summary>PyTorch or oneDNN for one scenario, in a <see cref="PythonServer"/>: the server loads the scenario's .npy files and writes its outputs beside them.</summary>
internal sealed class PythonEngine : IPeerEngine
{
    private readonly PythonServer _server;
    private readonly ScenarioData _data;
    private readonly string _dir, _engine, _slot;
    private string _detail = "?";

    /// <summary>An engine of <paramref name="server"/> on <paramref name="data"/>, whose .npy files are in <paramref name="dir"/>; <paramref name="key"/> is torch2, torch1 or onednn.</summary>
    public PythonEngine(string key, PythonServer server, ScenarioData data, string dir)
    {
        Key = key;
        _server = server;
        _data = data;
        _dir = dir;
        _engine = key == "onednn" ? "onednn" : "torch";
        _slot = server.NewSlot();
        Name = key == "onednn" ? "oneDNN" : "PyTorch " + string.Join('.', server.TorchVersion.Split('.').Take(2));
    }

    public string Key { get; }

    public string Name { get; }

    public string Detail => _detail;

    /// <summary>torch's module for the step scenarios (the faster of the cell and nn.X with T = 1), oneDNN's primitive.</summary>
    public string Variant { get; private set; } = "?";

    /// <summary>Whether the engine runs the scenario: oneDNN LSTM/GRU inference; torch everything.</summary>
    public static bool Supports(string key, PeerScenario s)
    {
        ArgumentNullException.ThrowIfNull(s);
        return key != "onednn" || (s.Mode != PeerMode.Train && s.Cell is CellKind.Lstm or CellKind.Gru);
    }

    public IReadOnlyDictionary<string, float[]> Check()
    {
        var s = _data.Scenario;
        string prefix = Key + "_";
        var reply = _server.Request(new JsonObject
        {
            ["cmd"] = "load",
            ["id"] = _slot,
            ["engine"] = _engine,
            ["dir"] = _dir,
            ["prefix"] = prefix,
            ["cell"] = s.CellKey,
            ["mode"] = s.ModeKey,
            ["input"] = s.Input,
            ["hidden"] = s.Hidden,
            ["batch"] = s.Batch,
            ["seq"] = s.SeqLen,
            ["steps"] = PeerScenario.CheckSteps,
        });
        Variant = (string)reply["variant"]!;
        _detail = (string)reply["detail"]!;
        var result = new Dictionary<string, float[]>(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(_dir, prefix + "*.npy"))
        {
            result[Path.GetFileNameWithoutExtension(file)[prefix.Length..]] = NpyFile.Read(file);
        }

        return result;
    }

    public double Warm(double seconds) =>
        _server.Request(new JsonObject { ["cmd"] = "warm", ["id"] = _slot, ["seconds"] = seconds })["per_call_ns"]!.GetValue<double>() * 1e-9;

    public void Time(double seconds, List<double> samples)
    {
        ArgumentNullException.ThrowIfNull(samples);
        var reply = _server.Request(new JsonObject { ["cmd"] = "time", ["id"] = _slot, ["seconds"] = seconds });
        foreach (var v in reply["samples"]!.AsArray())
        {
            samples.Add(v!.GetValue<double>());
        }
    }

    public void Dispose()
    {
        try
        {
            _server.Request(new JsonObject { ["cmd"] = "unload", ["id"] = _slot });
        }
        catch (InvalidOperationException)
        {
        }
    }
}
