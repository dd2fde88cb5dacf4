using System.Globalization;
using System.Text;

namespace RecurrentCore.Peers;

/// <summary>The report: one progress line per scenario while running, one markdown table at the end.</summary>
internal static class Table
{
    public static string Time(double ns) => double.IsNaN(ns) ? "—" : ns switch
    {
        < 1e3 => string.Create(CultureInfo.InvariantCulture, $"{ns:0} ns"),
        < 1e4 => string.Create(CultureInfo.InvariantCulture, $"{ns / 1e3:0.00} µs"),
        < 1e6 => string.Create(CultureInfo.InvariantCulture, $"{ns / 1e3:0.0} µs"),
        < 1e7 => string.Create(CultureInfo.InvariantCulture, $"{ns / 1e6:0.00} ms"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{ns / 1e6:0.0} ms"),
    };

    public static string Ratio(double? r) => r is double v ? string.Create(CultureInfo.InvariantCulture, $"{v:0.00}×") : "—";

    public static string Progress(ScenarioResult r)
    {
        ArgumentNullException.ThrowIfNull(r);
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"{r.Scenario.Name,-34} ours {Time(r.Ours.MedianNs),9}");
        foreach (var e in r.Engines.Skip(1))
        {
            sb.Append(CultureInfo.InvariantCulture, $"  {e.Name} {Time(e.MedianNs)} ({Ratio(r.Ratio(e.Key))}, err {Err(e.MaxError)})");
        }

        if (!r.Agrees)
        {
            sb.Append("  OUTPUTS DISAGREE: " + string.Join(", ", r.Engines.Where(e => !e.Agrees).Select(e => e.Name)));
        }

        return sb.ToString();
    }

    /// <summary>
    /// One row per scenario: ours, then each peer that ran anywhere as "time (peer / ours)", the forward GFLOP/s of ours
    /// and of the fastest float32 peer, the worst float32 agreement, and the targets; notes on variants below.
    /// </summary>
    public static string Markdown(IReadOnlyList<ScenarioResult> results)
    {
        ArgumentNullException.ThrowIfNull(results);
        var keys = PeerFactory.AllKeys.Skip(1).Where(k => results.Any(r => r.Get(k) is not null)).ToList();
        var names = keys.ToDictionary(k => k, k => results.Select(r => r.Get(k)).First(e => e is not null)!.Name, StringComparer.Ordinal);
        var sb = new StringBuilder();
        sb.Append("| scenario | ours |");
        foreach (var k in keys)
        {
            sb.Append(CultureInfo.InvariantCulture, $" {names[k]} (peer / ours) |");
        }

        sb.AppendLine(" GFLOP/s ours · best peer (sequences) | max rel. diff (float32 peers) | targets |");
        sb.Append("|---|---:|");
        foreach (var _ in keys)
        {
            sb.Append("---:|");
        }

        sb.AppendLine("---:|---:|---|");
        foreach (var r in results)
        {
            sb.Append(CultureInfo.InvariantCulture, $"| {r.Scenario.Name} | {Time(r.Ours.MedianNs)} |");
            foreach (var k in keys)
            {
                var e = r.Get(k);
                string cell = e is null ? "—" : $"{Time(e.MedianNs)} ({Ratio(r.Ratio(k))})";
                if (e is not null && !e.IsFloat32)
                {
                    cell += $", Δ {Err(e.MaxError)}";
                }

                sb.Append(CultureInfo.InvariantCulture, $" {cell} |");
            }

            var best = r.BestPeer;
            string gflops = r.Scenario.Mode != PeerMode.Sequence ? string.Empty
                : string.Create(CultureInfo.InvariantCulture, $"{r.GFlops(r.Ours):0.0} · {(best is null ? "—" : r.GFlops(best).ToString("0.0", CultureInfo.InvariantCulture))}");
            var floats = r.Engines.Skip(1).Where(e => e.IsFloat32).ToList();
            string err = floats.Count == 0 ? "—" : Err(floats.Max(e => e.MaxError));
            string targets = string.Join("; ", r.Targets.Select(t => t.Text + " " + (t.Met switch { true => "✓", false => "✗", null => "–" })));
            sb.AppendLine(CultureInfo.InvariantCulture, $" {gflops} | {err} | {targets} |");
        }

        var notes = new List<string>();
        foreach (var k in new[] { "rtneural", "torch2", "torch1" })
        {
            var groups = results.Where(r => r.Get(k) is { Variant.Length: > 0 } && r.Scenario.Mode == PeerMode.Step)
                .GroupBy(r => r.Get(k)!.Variant)
                .Select(g => $"{g.Key} in {string.Join(", ", g.Select(r => r.Scenario.CellName + " H=" + r.Scenario.Hidden.ToString(CultureInfo.InvariantCulture)))}").ToList();
            if (groups.Count != 0)
            {
                notes.Add($"{names.GetValueOrDefault(k, k)} step configuration (fastest of {(k == "rtneural" ? "every backend × kind, timed 0.2 s each before the rounds" : "the cell and nn.X with T = 1")}): {string.Join("; ", groups)}.");
            }
        }

        if (notes.Count != 0)
        {
            sb.AppendLine();
            foreach (var n in notes)
            {
                sb.AppendLine(n);
            }
        }

        return sb.ToString();
    }

    /// <summary>
    /// Issue 11's table: per scenario the medians of ours in float32, bf16 and int8 and of ORT float32 and
    /// DynamicQuantizeLSTM (same run, interleaved), ORT / ours in each format, every format's largest difference from
    /// ours float32 (Δ), the bytes of W_ih and W_hh in each format (bf16/int8 rows padded to 64), and the targets.
    /// </summary>
    public static string Formats(IReadOnlyList<ScenarioResult> results)
    {
        ArgumentNullException.ThrowIfNull(results);
        var sb = new StringBuilder();
        sb.AppendLine("| scenario | ours f32 | ours bf16 | ours int8 | ORT f32 | ORT int8 | ORT / ours bf16 | ORT / ours int8 | ORT int8 / ours int8 | Δ vs ours f32: bf16 · int8 · ORT int8 | W_ih + W_hh bytes f32 · bf16 · int8 | #11 targets |");
        sb.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
        foreach (var r in results)
        {
            string T(string key) => r.Get(key) is { } e ? Time(e.MedianNs) : "—";
            string R(string peer, string ours) => r.Get(peer) is { } p && r.Get(ours) is { } o ? Ratio(p.MedianNs / o.MedianNs) : "—";
            string D(string key) => r.Get(key) is { } e ? Err(e.MaxError) : "—";
            var s = r.Scenario;
            long weights = (long)s.Cell.GateCount() * s.Hidden * (s.Input + s.Hidden);
            long Padded(int n) => ((Math.Max(n, 1) + 63) / 64) * 64;
            long narrow = (long)s.Cell.GateCount() * s.Hidden * (Padded(s.Input) + Padded(s.Hidden));
            string bytes = string.Create(CultureInfo.InvariantCulture, $"{Bytes(4 * weights)} · {Bytes(2 * narrow)} · {Bytes(narrow)}");
            var targets = r.Targets.Where(t => t.Text.StartsWith("#11", StringComparison.Ordinal))
                .Select(t => t.Text + " " + (t.Met switch { true => "✓", false => "✗", null => "–" }));
            sb.AppendLine(CultureInfo.InvariantCulture, $"| {s.Name} | {T("ours")} | {T("ours-bf16")} | {T("ours-int8")} | {T("ort")} | {T("ort-int8")} | {R("ort", "ours-bf16")} | {R("ort", "ours-int8")} | {R("ort-int8", "ours-int8")} | {D("ours-bf16")} · {D("ours-int8")} · {D("ort-int8")} | {bytes} | {string.Join("; ", targets)} |");
        }

        return sb.ToString();
    }

    private static string Bytes(long b) => b >= 1 << 20
        ? string.Create(CultureInfo.InvariantCulture, $"{b / 1048576.0:0.##} MiB")
        : string.Create(CultureInfo.InvariantCulture, $"{b / 1024.0:0.#} KiB");

    public static string Err(double e) => double.IsNaN(e) ? "—" : string.Create(CultureInfo.InvariantCulture, $"{e:0.0e0}");
}
