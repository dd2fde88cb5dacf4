using System.Globalization;
using System.Text.Json;

namespace RecurrentCore.Peers;

/// <summary>The machine a run took place on, from lscpu and /proc (every figure in the docs names it).</summary>
internal static class Machine
{
    private static readonly string[] CacheLevels = ["L1d", "L2", "L3"];

    public static string CpuModel() => Lscpu("Model name") ?? "?";

    public static string Caches() =>
        string.Join(", ", CacheLevels.Select(c => $"{c} {Lscpu(c) ?? "?"}"));

    /// <summary>/proc/loadavg's 1, 5 and 15 minute averages.</summary>
    public static string LoadAverage()
    {
        try
        {
            return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "?";
        }
    }

    private static string? Lscpu(string field)
    {
        try
        {
            var info = new System.Diagnostics.ProcessStartInfo("lscpu") { RedirectStandardOutput = true, UseShellExecute = false };
            info.Environment["LC_ALL"] = "C";
            using var p = System.Diagnostics.Process.Start(info)!;
            string text = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            string key = field.StartsWith('L') ? field + " cache" : field;
            return text.Split('\n').Select(l => l.Split(':', 2)).Where(kv => kv.Length == 2 && kv[0].Trim() == key)
                .Select(kv => kv[1].Trim()).FirstOrDefault();
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }
}

/// <summary>The JSON of a run: machine and versions, then per scenario every engine's median, p10, p90, samples and agreement.</summary>
internal static class ResultJson
{
    public static string Write(IReadOnlyList<ScenarioResult> results, PeerOptions options, IReadOnlyList<string> header, string loadBefore, string loadAfter)
    {
        ArgumentNullException.ThrowIfNull(results);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(header);
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteString("utc", DateTime.UtcNow.ToString("u", CultureInfo.InvariantCulture));
            w.WriteString("command", "RecurrentCore.Peers " + options.CommandLine);
            w.WriteString("cpu", Machine.CpuModel());
            w.WriteString("caches", Machine.Caches());
            w.WriteNumber("cpus_visible", Environment.ProcessorCount);
            w.WriteBoolean("pinned", options.Pin);
            w.WriteString("load_before", loadBefore);
            w.WriteString("load_after", loadAfter);
            w.WriteNumber("seconds_per_engine", options.Seconds);
            w.WriteNumber("rounds", options.Rounds);
            w.WriteStartArray("notes");
            foreach (string h in header)
            {
                w.WriteStringValue(h);
            }

            w.WriteEndArray();
            w.WriteStartArray("scenarios");
            foreach (var r in results)
            {
                var s = r.Scenario;
                w.WriteStartObject();
                w.WriteString("name", s.Name);
                w.WriteString("shape", s.Shape);
                w.WriteString("cell", s.CellKey);
                w.WriteString("mode", s.ModeKey);
                w.WriteNumber("input", s.Input);
                w.WriteNumber("hidden", s.Hidden);
                w.WriteNumber("batch", s.Batch);
                w.WriteNumber("seq", s.Mode == PeerMode.Step ? 1 : s.SeqLen);
                w.WriteNumber("threads", s.Threads);
                w.WriteNumber("forward_flops", s.ForwardFlops);
                w.WriteStartObject("engines");
                foreach (var e in r.Engines)
                {
                    w.WriteStartObject(e.Key);
                    w.WriteString("name", e.Name);
                    w.WriteString("detail", e.Detail);
                    if (e.Variant.Length != 0)
                    {
                        w.WriteString("variant", e.Variant);
                    }

                    w.WriteNumber("median_ns", Math.Round(e.MedianNs, 1));
                    w.WriteNumber("p10_ns", Math.Round(e.P10Ns, 1));
                    w.WriteNumber("p90_ns", Math.Round(e.P90Ns, 1));
                    w.WriteNumber("samples", e.Samples);
                    if (!double.IsNaN(e.WarmSeconds))
                    {
                        w.WriteNumber("warm_s", Math.Round(e.WarmSeconds, 3));
                    }

                    if (s.Mode != PeerMode.Step)
                    {
                        w.WriteNumber("gflops", Math.Round(r.GFlops(e), 3));
                    }

                    if (e.Key != "ours")
                    {
                        w.WriteNumber("max_rel_diff_vs_ours", e.MaxError);
                        w.WriteNumber("tolerance", e.Tolerance);
                        w.WriteNumber("speedup_of_ours", Math.Round(e.MedianNs / r.Ours.MedianNs, 3));
                    }

                    if (e.Selection.Count != 0)
                    {
                        w.WriteStartObject("selection_median_ns");
                        foreach (var (config, ns) in e.Selection)
                        {
                            w.WriteNumber(config, Math.Round(ns, 1));
                        }

                        w.WriteEndObject();
                    }

                    w.WriteEndObject();
                }

                w.WriteEndObject();
                w.WriteStartArray("targets");
                foreach (var t in r.Targets)
                {
                    w.WriteStartObject();
                    w.WriteString("target", t.Text);
                    if (t.Met is bool met)
                    {
                        w.WriteBoolean("met", met);
                    }
                    else
                    {
                        w.WriteNull("met");
                    }

                    w.WriteEndObject();
                }

                w.WriteEndArray();
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }
}
