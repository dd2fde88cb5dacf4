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

    public static string Progress(ScenarioResult r) => string.Create(
        CultureInfo.InvariantCulture,
        $"{r.Scenario.Name,-30} ours {Time(r.Ours.MedianNs),9}  ORT {Time(r.Ort?.MedianNs ?? double.NaN),9} ({Ratio(r.OrtRatio)})  PyTorch {Time(r.Torch?.MedianNs ?? double.NaN),9} ({Ratio(r.TorchRatio)})  err {Err(r.Ort)}/{Err(r.Torch)}{(r.Agrees ? string.Empty : "  OUTPUTS DISAGREE")}");

    public static string Markdown(IReadOnlyList<ScenarioResult> results)
    {
        var sb = new StringBuilder();
        sb.AppendLine("| scenario | ours | ORT | PyTorch | ORT / ours | PyTorch / ours | GFLOP/s ours · ORT · PyTorch | max rel. diff vs ORT · PyTorch | targets (issue 4) |");
        sb.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---|");
        foreach (var r in results)
        {
            string gflops = r.Scenario.Mode == PeerMode.Sequence
                ? $"{G(r, r.Ours)} · {G(r, r.Ort)} · {G(r, r.Torch)}"
                : string.Empty;
            string targets = string.Join("; ", r.Targets.Select(t => t.Text + " " + (t.Met switch { true => "✓", false => "✗", null => "?" })));
            sb.Append(CultureInfo.InvariantCulture, $"| {r.Scenario.Name} | {Time(r.Ours.MedianNs)} | {Time(r.Ort?.MedianNs ?? double.NaN)} | {Time(r.Torch?.MedianNs ?? double.NaN)} | ");
            sb.AppendLine(CultureInfo.InvariantCulture, $"{Ratio(r.OrtRatio)} | {Ratio(r.TorchRatio)} | {gflops} | {Err(r.Ort)} · {Err(r.Torch)} | {targets} |");
        }

        var variants = results.Where(r => r.Torch is not null && r.Scenario.Mode == PeerMode.Step)
            .GroupBy(r => r.Torch!.Variant)
            .Select(g => $"{g.Key} in {string.Join(", ", g.Select(r => r.Scenario.CellName + " H=" + r.Scenario.Hidden.ToString(CultureInfo.InvariantCulture)))}").ToList();
        if (variants.Count != 0)
        {
            sb.AppendLine();
            sb.AppendLine("PyTorch's step module, the faster of the cell (LSTMCell, ...) and nn.LSTM/GRU/RNN with T = 1, timed per scenario: " + string.Join("; ", variants) + ".");
        }

        return sb.ToString();
    }

    private static string G(ScenarioResult r, EngineResult? e) =>
        e is null ? "—" : string.Create(CultureInfo.InvariantCulture, $"{r.GFlops(e):0.0}");

    private static string Err(EngineResult? e) =>
        e is null ? "—" : string.Create(CultureInfo.InvariantCulture, $"{e.MaxError:0.0e0}");
}
