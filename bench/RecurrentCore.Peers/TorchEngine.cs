using System.Diagnostics;
using System.Text.Json.Nodes;
using RecurrentCore.Interop;

namespace RecurrentCore.Peers;

/// <summary>
/// The PyTorch server (bench/peers/torch_bench.py under /usr/bin/python3, started once per run): one JSON request
/// per line on its stdin, one reply per line on its stdout. PyTorch times itself (perf_counter_ns), so the pipe
/// is not in its numbers.
/// </summary>
internal sealed class TorchServer : IDisposable
{
    private readonly Process _process;

    private TorchServer(Process process, string version)
    {
        _process = process;
        Version = version;
    }

    public string Version { get; }

    /// <summary>Starts the server, or returns null with the reason when Python or torch is unavailable.</summary>
    public static TorchServer? TryStart(string python, string script, out string why)
    {
        if (!File.Exists(script))
        {
            why = $"{script} not found";
            return null;
        }

        var info = new ProcessStartInfo(python)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add("-u");
        info.ArgumentList.Add(script);
        info.Environment["OPENBLAS_CORETYPE"] = "SkylakeX";
        info.Environment["OMP_NUM_THREADS"] = "1";
        info.Environment["MKL_NUM_THREADS"] = "1";
        info.Environment["OPENBLAS_NUM_THREADS"] = "1";
        Process? p;
        try
        {
            p = Process.Start(info);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            why = $"{python}: {e.Message}";
            return null;
        }

        if (p is null)
        {
            why = $"{python} did not start";
            return null;
        }

        var errors = new System.Text.StringBuilder();
        p.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (errors)
                {
                    errors.AppendLine(e.Data);
                }
            }
        };
        p.BeginErrorReadLine();
        string? first = p.StandardOutput.ReadLine();
        if (first is null)
        {
            p.WaitForExit();
            string err;
            lock (errors)
            {
                err = errors.ToString().Trim();
            }

            why = $"{python} {Path.GetFileName(script)} exited: {err.Split('\n').LastOrDefault()}";
            p.Dispose();
            return null;
        }

        var ready = JsonNode.Parse(first)!;
        why = string.Empty;
        return new TorchServer(p, (string)ready["torch"]!);
    }

    public JsonNode Request(JsonObject request)
    {
        _process.StandardInput.WriteLine(request.ToJsonString());
        _process.StandardInput.Flush();
        string line = _process.StandardOutput.ReadLine() ?? throw new InvalidOperationException("torch_bench.py exited");
        var reply = JsonNode.Parse(line)!;
        if (!(bool)reply["ok"]!)
        {
            throw new InvalidOperationException("torch_bench.py: " + (string?)reply["error"]);
        }

        return reply;
    }

    public void Dispose()
    {
        try
        {
            _process.StandardInput.WriteLine("{\"cmd\":\"quit\"}");
            _process.StandardInput.Close();
            if (!_process.WaitForExit(5000))
            {
                _process.Kill();
            }
        }
        catch (IOException)
        {
        }
        catch (InvalidOperationException)
        {
        }

        _process.Dispose();
    }
}

/// <summary>PyTorch for one scenario: the server loads the scenario's .npy files and writes its outputs beside them.</summary>
internal sealed class TorchEngine : IPeerEngine
{
    private readonly TorchServer _server;
    private readonly ScenarioData _data;
    private readonly string _dir;
    private string _variant = "?";

    public TorchEngine(TorchServer server, ScenarioData data, string dir)
    {
        _server = server;
        _data = data;
        _dir = dir;
    }

    public string Name => "PyTorch";

    public string Detail => $"torch {_server.Version} {_variant}, 1 thread";

    /// <summary>torch's module for the step scenarios: the faster of the cell and nn.X with T = 1.</summary>
    public string Variant => _variant;

    public IReadOnlyDictionary<string, float[]> Check()
    {
        var s = _data.Scenario;
        var reply = _server.Request(new JsonObject
        {
            ["cmd"] = "load",
            ["dir"] = _dir,
            ["cell"] = s.CellKey,
            ["mode"] = s.ModeKey,
            ["input"] = s.Input,
            ["hidden"] = s.Hidden,
            ["batch"] = s.Batch,
            ["seq"] = s.SeqLen,
            ["steps"] = PeerScenario.CheckSteps,
        });
        _variant = (string)reply["variant"]!;
        var result = new Dictionary<string, float[]>(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(_dir, "torch_*.npy"))
        {
            string name = Path.GetFileNameWithoutExtension(file)["torch_".Length..];
            result[name] = Npy.ReadFile(file).ToSingle();
        }

        return result;
    }

    public double Warm(double seconds) =>
        _server.Request(new JsonObject { ["cmd"] = "warm", ["seconds"] = seconds })["per_call_ns"]!.GetValue<double>() * 1e-9;

    public void Time(double seconds, List<double> samples)
    {
        ArgumentNullException.ThrowIfNull(samples);
        var reply = _server.Request(new JsonObject { ["cmd"] = "time", ["seconds"] = seconds });
        foreach (var v in reply["samples"]!.AsArray())
        {
            samples.Add(v!.GetValue<double>());
        }
    }

    public void Dispose()
    {
    }
}
