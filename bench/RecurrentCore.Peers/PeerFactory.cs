namespace RecurrentCore.Peers;

/// <summary>
/// The peers of a run and their long-lived servers: which engines take part (--engines), the Python servers per
/// (interpreter, thread count), started on first use, and RTNeural's per-backend servers.
/// </summary>
internal sealed class PeerFactory : IDisposable
{
    /// <summary>Every engine key in table order; ours is always first.</summary>
    public static readonly string[] AllKeys = ["ours", "ours-bf16", "ours-int8", "rtneural", "ort", "ort-int8", "onednn", "torch2", "torch1"];

    private readonly HashSet<string> _keys;
    private readonly Dictionary<(string Python, int Threads), PythonServer?> _python = [];
    private readonly RtNeuralServers? _rtneural;
    private readonly string _modernPython, _legacyPython;
    private readonly TextWriter _log;

    public PeerFactory(IEnumerable<string> keys, string modernPython, string legacyPython, RtNeuralServers? rtneural, TextWriter log)
    {
        _keys = new HashSet<string>(keys, StringComparer.Ordinal);
        _modernPython = modernPython;
        _legacyPython = legacyPython;
        _rtneural = rtneural;
        _log = log;
    }

    /// <summary>One line per engine family that was asked for and could not run (why).</summary>
    public List<string> Notes { get; } = [];

    /// <summary>Versions and paths of what ran, for the report.</summary>
    public Dictionary<string, string> Versions { get; } = new(StringComparer.Ordinal);

    public bool Wants(string key) => _keys.Contains(key);

    /// <summary>The peer engines for one scenario (ours is not among them); an engine that fails to start is left out with a note.</summary>
    public IEnumerable<IPeerEngine> Create(ScenarioData data, string dir)
    {
        ArgumentNullException.ThrowIfNull(data);
        var s = data.Scenario;
        var list = new List<IPeerEngine>();
        if (Wants("rtneural") && _rtneural is not null && RtNeuralEngine.Supports(s))
        {
            list.Add(new RtNeuralEngine(_rtneural, data, dir));
        }

#if !PEERS_OURS_ONLY
        foreach (var format in new[] { WeightFormat.BFloat16, WeightFormat.Int8 })
        {
            if (Wants(OursFormatEngine.KeyOf(format)) && OursFormatEngine.Supports(s))
            {
                list.Add(new OursFormatEngine(data, format));
            }
        }

        foreach (bool quantized in new[] { false, true })
        {
            if (Wants(quantized ? "ort-int8" : "ort") && OrtEngine.Supports(s, quantized))
            {
                list.Add(new OrtEngine(data, quantized));
                Versions["ort"] = "Microsoft.ML.OnnxRuntime " + OrtEngine.OrtVersion + " (NuGet, in process)";
            }
        }
#endif

        foreach (string key in new[] { "onednn", "torch2", "torch1" })
        {
            if (!Wants(key) || !PythonEngine.Supports(key, s))
            {
                continue;
            }

            var server = Python(key == "torch1" ? _legacyPython : _modernPython, s.Threads);
            if (server is null || (key == "onednn" && server.OneDnnVersion is null))
            {
                Note(key == "onednn" && server is not null ? $"oneDNN skipped: libdnnl does not load in {server.Python}" : null);
                continue;
            }

            Versions[key] = key == "onednn" ? $"oneDNN {server.OneDnnVersion} via {server.Python}" : $"torch {server.TorchVersion} via {server.Python}";
            list.Add(new PythonEngine(key, server, data, dir));
        }

        return list;
    }

    public void Dispose()
    {
        foreach (var s in _python.Values)
        {
            s?.Dispose();
        }
    }

    private PythonServer? Python(string python, int threads)
    {
        if (!_python.TryGetValue((python, threads), out var server))
        {
            server = PythonServer.TryStart(python, threads, out string why);
            if (server is null)
            {
                Note($"{python} skipped: {why}");
            }
            else
            {
                _log.WriteLine($"peers: started {python} peer_server.py --threads {threads} (torch {server.TorchVersion}, oneDNN {server.OneDnnVersion ?? "absent"})");
            }

            _python[(python, threads)] = server;
        }

        return server;
    }

    private void Note(string? text)
    {
        if (text is not null && !Notes.Contains(text))
        {
            Notes.Add(text);
            _log.WriteLine("peers: " + text);
        }
    }
}
