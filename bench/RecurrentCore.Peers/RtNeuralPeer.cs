using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;

namespace RecurrentCore.Peers;

/// <summary>
/// RTNeural (github jatinchowdhury18/RTNeural, C++): bench/peers/rtneural/rtn_server.cpp built once per backend
/// (Eigen, xsimd, STL) by bench/peers/rtneural/build.sh from a source directory given on the command line, into a
/// cache directory keyed by the source's commit and the server's hash; one server process per backend for the run.
/// </summary>
internal sealed class RtNeuralServers : IDisposable
{
    public static readonly string[] Backends = ["eigen", "xsimd", "stl"];

    private RtNeuralServers(List<(string Backend, ServerProcess Server)> servers, string binDir)
    {
        Servers = servers;
        BinDir = binDir;
        BuildInfo = File.Exists(Path.Combine(binDir, "build_info.txt")) ? File.ReadAllText(Path.Combine(binDir, "build_info.txt")) : string.Empty;
    }

    public IReadOnlyList<(string Backend, ServerProcess Server)> Servers { get; }

    public string BinDir { get; }

    public string BuildInfo { get; }

    /// <summary>The RTNeural commit named in build_info.txt, abbreviated.</summary>
    public string Commit
    {
        get
        {
            string? line = BuildInfo.Split('\n').FirstOrDefault(l => l.StartsWith("rtneural_commit:", StringComparison.Ordinal));
            string c = line?.Split(':', 2)[1].Trim() ?? "?";
            return c.Length > 7 ? c[..7] : c;
        }
    }

    /// <summary>
    /// Builds (unless cached) and starts the servers: from <paramref name="binDir"/> when given, else from
    /// <paramref name="srcDir"/> into <paramref name="cacheRoot"/>; null with the reason when neither works.
    /// </summary>
    public static RtNeuralServers? TryStart(string? srcDir, string? binDir, string cacheRoot, TextWriter log, out string why)
    {
        ArgumentNullException.ThrowIfNull(log);
        if (binDir is null)
        {
            if (srcDir is null)
            {
                why = "RTNeural skipped (no --rtneural-src DIR or --rtneural-bin DIR)";
                return null;
            }

            if (!File.Exists(Path.Combine(srcDir, "RTNeural", "RTNeural.h")))
            {
                why = $"RTNeural skipped: {srcDir} has no RTNeural/RTNeural.h";
                return null;
            }

            binDir = Build(srcDir, cacheRoot, log, out why);
            if (binDir is null)
            {
                return null;
            }
        }

        var servers = new List<(string, ServerProcess)>();
        var missing = new List<string>();
        foreach (string b in Backends)
        {
            string exe = Path.Combine(binDir, "rtn_server_" + b);
            if (!File.Exists(exe))
            {
                missing.Add(b);
                continue;
            }

            var s = ServerProcess.TryStart(exe, [], new Dictionary<string, string>(), "rtn_server_" + b, "quit", out string w);
            if (s is null)
            {
                missing.Add($"{b} ({w})");
                continue;
            }

            servers.Add((b, s));
        }

        if (servers.Count == 0)
        {
            why = $"RTNeural skipped: no server in {binDir} started ({string.Join(", ", missing)})";
            return null;
        }

        why = missing.Count == 0 ? string.Empty : "RTNeural backends missing: " + string.Join(", ", missing);
        return new RtNeuralServers(servers, binDir);
    }

    public void Dispose()
    {
        foreach (var (_, s) in Servers)
        {
            s.Dispose();
        }
    }

    private static string? Build(string srcDir, string cacheRoot, TextWriter log, out string why)
    {
        string script = Path.Combine(AppContext.BaseDirectory, "rtneural", "build.sh");
        string server = Path.Combine(AppContext.BaseDirectory, "rtneural", "rtn_server.cpp");
        if (!File.Exists(script) || !File.Exists(server))
        {
            why = $"RTNeural skipped: {script} not found";
            return null;
        }

        string commit = RunText("git", ["-C", srcDir, "rev-parse", "HEAD"]).Trim();
        if (commit.Length == 0)
        {
            commit = "nogit";
        }

        string hash = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(server)))[..12];
        string dir = Path.Combine(cacheRoot, $"rtneural-{commit[..Math.Min(12, commit.Length)]}-{hash}");
        if (Backends.Any(b => File.Exists(Path.Combine(dir, "rtn_server_" + b))))
        {
            why = string.Empty;
            return dir;
        }

        log.WriteLine($"peers: building RTNeural servers from {srcDir} into {dir} (once; ~30 s)");
        var info = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(script);
        info.ArgumentList.Add(srcDir);
        info.ArgumentList.Add(dir);
        using var p = Process.Start(info)!;
        string stdout = p.StandardOutput.ReadToEnd();
        string stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0)
        {
            why = $"RTNeural skipped: build.sh failed: {stderr.Trim().Split('\n').LastOrDefault()}";
            return null;
        }

        log.Write(stdout);
        why = string.Empty;
        return dir;
    }

    private static string RunText(string file, string[] args)
    {
        try
        {
            var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (string a in args)
            {
                info.ArgumentList.Add(a);
            }

            using var p = Process.Start(info)!;
            string o = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            return p.ExitCode == 0 ? o : string.Empty;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return string.Empty;
        }
    }
}

/// <summary>
/// RTNeural for one step scenario: every (backend, kind) it has for the size — dynamic (run-time-sized layers) on
/// each backend, and static (compile-time-sized ModelT) where H is instantiated (16, 64, 256) — is checked against
/// ours; the warm-up times each for 0.2 s and keeps the fastest, which then takes part in the interleaved rounds
/// ("RTNeural's best configuration per size").
/// </summary>
internal sealed class RtNeuralEngine : IPeerEngine
{
    private static int s_slots;
    private readonly List<Candidate> _candidates = [];
    private readonly ScenarioData _data;
    private readonly string _dir;
    private Candidate? _best;

    public RtNeuralEngine(RtNeuralServers servers, ScenarioData data, string dir)
    {
        ArgumentNullException.ThrowIfNull(servers);
        ArgumentNullException.ThrowIfNull(data);
        _data = data;
        _dir = dir;
        int h = data.Scenario.Hidden;
        foreach (var (backend, server) in servers.Servers)
        {
            foreach (string kind in h is 16 or 64 or 256 ? new[] { "static", "dynamic" } : ["dynamic"])
            {
                _candidates.Add(new Candidate(backend, kind, server, "r" + Interlocked.Increment(ref s_slots).ToString(CultureInfo.InvariantCulture)));
            }
        }

        Commit = servers.Commit;
    }

    public string Key => "rtneural";

    public string Name => "RTNeural";

    public string Commit { get; }

    public string Detail => _best is null ? $"RTNeural {Commit}" : $"RTNeural {Commit} {_best.Backend} {_best.Kind}, g++ -O3 -march=native";

    /// <summary>The chosen configuration, "xsimd static" and so on.</summary>
    public string Variant => _best is null ? "?" : $"{_best.Backend} {_best.Kind}";

    /// <summary>Every configuration's median from the selection, ns per step.</summary>
    public IReadOnlyList<(string Config, double MedianNs)> Selection => _candidates.Select(c => ($"{c.Backend} {c.Kind}", c.SelectionNs)).ToList();

    /// <summary>Whether RTNeural runs the scenario: the streaming step of LSTM and GRU (one thread).</summary>
    public static bool Supports(PeerScenario s)
    {
        ArgumentNullException.ThrowIfNull(s);
        return s.Mode == PeerMode.Step && s.Cell is CellKind.Lstm or CellKind.Gru && s.Threads == 1;
    }

    /// <summary>Loads every configuration; returns the first one's outputs, and each configuration's own in <see cref="CheckAll"/>.</summary>
    public IReadOnlyDictionary<string, float[]> Check() => CheckAll()[0];

    /// <summary>The check outputs of every configuration (output over the K check steps, and h_n; no c_n: RTNeural keeps it private).</summary>
    public IReadOnlyList<IReadOnlyDictionary<string, float[]>> CheckAll()
    {
        var s = _data.Scenario;
        var all = new List<IReadOnlyDictionary<string, float[]>>();
        foreach (var c in _candidates)
        {
            string reply = c.Server.Request($"load {c.Slot} {c.Kind} {s.CellKey} {s.Hidden.ToString(CultureInfo.InvariantCulture)} {_dir}");
            Ok(reply, c);
            all.Add(new Dictionary<string, float[]>(StringComparer.Ordinal)
            {
                ["output"] = NpyFile.Read(Path.Combine(_dir, $"rtneural_{c.Slot}_output.npy")),
                ["h_n"] = NpyFile.Read(Path.Combine(_dir, $"rtneural_{c.Slot}_h_n.npy")),
            });
        }

        return all;
    }

    public double Warm(double seconds)
    {
        foreach (var c in _candidates)
        {
            Ok(c.Server.Request(string.Create(CultureInfo.InvariantCulture, $"warm {c.Slot} {Math.Max(0.05, Math.Min(seconds, 0.2))}")), c);
            var samples = new List<double>();
            TimeCandidate(c, 0.2, samples);
            c.SelectionNs = Median(samples);
        }

        _best = _candidates.MinBy(c => c.SelectionNs)!;
        return _best.SelectionNs * 1e-9;
    }

    public void Time(double seconds, List<double> samples)
    {
        ArgumentNullException.ThrowIfNull(samples);
        TimeCandidate(_best ?? throw new InvalidOperationException("Warm first"), seconds, samples);
    }

    public void Dispose()
    {
        foreach (var c in _candidates)
        {
            try
            {
                c.Server.Request("unload " + c.Slot);
            }
            catch (InvalidOperationException)
            {
            }
        }
    }

    private static void TimeCandidate(Candidate c, double seconds, List<double> samples)
    {
        string reply = c.Server.Request(string.Create(CultureInfo.InvariantCulture, $"time {c.Slot} {seconds}"));
        Ok(reply, c);
        foreach (string v in reply.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1))
        {
            samples.Add(double.Parse(v, CultureInfo.InvariantCulture));
        }
    }

    private static void Ok(string reply, Candidate c)
    {
        if (!reply.StartsWith("ok", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"rtn_server_{c.Backend} ({c.Kind}): {reply}");
        }
    }

    private static double Median(List<double> v)
    {
        var s = v.Order().ToArray();
        return s.Length == 0 ? double.NaN : s.Length % 2 == 1 ? s[s.Length / 2] : 0.5 * (s[(s.Length / 2) - 1] + s[s.Length / 2]);
    }

    private sealed class Candidate(string backend, string kind, ServerProcess server, string slot)
    {
        public string Backend { get; } = backend;

        public string Kind { get; } = kind;

        public ServerProcess Server { get; } = server;

        public string Slot { get; } = slot;

        public double SelectionNs { get; set; } = double.NaN;
    }
}
