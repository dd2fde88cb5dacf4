using System.Diagnostics;
using System.Text;

namespace RecurrentCore.Peers;

/// <summary>
/// A peer that runs in its own long-lived child process (peer_server.py, rtn_server): one request line on its stdin,
/// one reply line on its stdout. Started once per run, so that its start-up is outside every timing; the peer times
/// itself, so the pipe is not in its numbers either. The child inherits this process's CPU affinity (--pin).
/// </summary>
internal sealed class ServerProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _errors = new();
    private readonly string _quit;

    private ServerProcess(Process process, string label, string quit)
    {
        _process = process;
        Label = label;
        _quit = quit;
    }

    /// <summary>The first line the server printed (its versions).</summary>
    public string ReadyLine { get; private set; } = string.Empty;

    /// <summary>Names the server in messages.</summary>
    public string Label { get; }

    /// <summary>Starts <paramref name="file"/> and waits for its first line; null with the reason when it does not start.</summary>
    public static ServerProcess? TryStart(string file, IEnumerable<string> args, IReadOnlyDictionary<string, string> env, string label, string quit, out string why)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(env);
        var info = new ProcessStartInfo(file)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string a in args)
        {
            info.ArgumentList.Add(a);
        }

        foreach (var (k, v) in env)
        {
            info.Environment[k] = v;
        }

        Process? p;
        try
        {
            p = Process.Start(info);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            why = $"{file}: {e.Message}";
            return null;
        }

        if (p is null)
        {
            why = $"{file} did not start";
            return null;
        }

        var server = new ServerProcess(p, label, quit);
        p.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (server._errors)
                {
                    server._errors.AppendLine(e.Data);
                }
            }
        };
        p.BeginErrorReadLine();
        string? first = p.StandardOutput.ReadLine();
        if (first is null)
        {
            p.WaitForExit();
            why = $"{label} exited: {server.LastError()}";
            p.Dispose();
            return null;
        }

        why = string.Empty;
        server.ReadyLine = first;
        return server;
    }

    /// <summary>Sends one line, returns the reply line; throws <see cref="InvalidOperationException"/> when the server has gone.</summary>
    public string Request(string line)
    {
        _process.StandardInput.WriteLine(line);
        _process.StandardInput.Flush();
        return _process.StandardOutput.ReadLine() ?? throw new InvalidOperationException($"{Label} exited: {LastError()}");
    }

    public void Dispose()
    {
        try
        {
            _process.StandardInput.WriteLine(_quit);
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

    private string LastError()
    {
        lock (_errors)
        {
            return _errors.ToString().Trim().Split('\n').LastOrDefault() ?? string.Empty;
        }
    }
}
