using System.Globalization;

namespace RecurrentCore.Peers;

/// <summary>One target of an issue for a scenario, and whether the measurement met it (null: a needed engine did not run, or ours lacks the format).</summary>
internal sealed record TargetCheck(string Text, bool? Met);

/// <summary>
/// The targets of issues 10, 15 and 11 that a row of the table can decide (ratios are peer / ours, so ≥ 1 means ours
/// is at least as fast):
/// <list type="bullet">
/// <item>#10: streaming step B = 1, LSTM and GRU, pinned to one CPU like the peer: ≥ 1.0× RTNeural's best configuration
/// at H = 16 and 64, ≥ 1.3× at H = 256; sequence LSTM T = 100 B = 1 H = 64 ≥ 1.0× the faster of ORT and oneDNN.</item>
/// <item>#15: sequence T = 100 B = 16, H = 256 and 1024, one thread: ≥ 1.15× the fastest of ORT, oneDNN and PyTorch 2;
/// training T = 50 B = 32 H = 256 ≥ 1.5× PyTorch 2 at one thread and at two; two threads ≥ 1.8× one thread for the
/// batched rows (<see cref="AddThreadScaling"/>).</item>
/// <item>#11, one thread, LSTM and GRU: step H = 256, ours int8 ≥ 3× ORT float32 (LSTM also ≥ 1.5× ORT
/// DynamicQuantizeLSTM), bf16 ≥ 1.7× ORT; sequence T = 100 B = 1 H = 1024, int8 ≥ 2.5× ORT, bf16 ≥ 1.6× ORT: decided
/// where our bf16/int8 engines ran (<c>--formats</c>), else listed undecided (<see cref="FormatTargets"/>).</item>
/// </list>
/// </summary>
internal static class PeerTargets
{
    public static IReadOnlyList<TargetCheck> Check(PeerScenario s, IReadOnlyList<EngineResult> engines)
    {
        ArgumentNullException.ThrowIfNull(s);
        ArgumentNullException.ThrowIfNull(engines);
        double ours = engines[0].MedianNs;
        double? Ratio(params string[] keys)
        {
            var peers = engines.Where(e => keys.Contains(e.Key)).ToList();
            return peers.Count == keys.Length ? peers.Min(e => e.MedianNs) / ours : null;
        }

        TargetCheck At(string text, double need, params string[] keys)
        {
            double? r = Ratio(keys);
            return new TargetCheck(text, r is double v ? v >= need : null);
        }

        var checks = new List<TargetCheck>();
        bool lstmOrGru = s.Cell is CellKind.Lstm or CellKind.Gru;
        switch (s.Mode)
        {
            case PeerMode.Step when lstmOrGru:
                double need = s.Hidden >= 256 ? 1.3 : 1.0;
                checks.Add(At(string.Create(CultureInfo.InvariantCulture, $"#10 ≥ {need:0.0}× RTNeural (pinned)"), need, "rtneural"));
                if (s.Hidden == 256)
                {
                    checks.AddRange(FormatTargets(s, engines));
                }

                break;
            case PeerMode.Sequence when s.Threads == 1:
                if (s.Cell == CellKind.Lstm && s.Batch == 1 && s.Hidden == 64)
                {
                    checks.Add(At("#10 ≥ 1.0× faster of ORT, oneDNN", 1.0, "ort", "onednn"));
                }

                if (s.Batch == 16)
                {
                    checks.Add(At("#15 ≥ 1.15× fastest of ORT, oneDNN, PyTorch 2", 1.15, "ort", "onednn", "torch2"));
                }

                if (s.Batch == 1 && s.Hidden == 1024 && lstmOrGru)
                {
                    checks.AddRange(FormatTargets(s, engines));
                }

                break;
            case PeerMode.Train:
                checks.Add(At("#15 ≥ 1.5× PyTorch 2", 1.5, "torch2"));
                break;
            default:
                break;
        }

        return checks;
    }

    /// <summary>
    /// Issue 11's ratios, peer / ours in the format: "#11 int8 ≥ 3× ORT (3.10×)" and the like; undecided (–) when our
    /// format or the peer did not run.
    /// </summary>
    public static IReadOnlyList<TargetCheck> FormatTargets(PeerScenario s, IReadOnlyList<EngineResult> engines)
    {
        ArgumentNullException.ThrowIfNull(s);
        ArgumentNullException.ThrowIfNull(engines);
        bool step = s.Mode == PeerMode.Step;
        var list = new List<(string Format, string Peer, string PeerName, double Need)>
        {
            ("int8", "ort", "ORT", step ? 3.0 : 2.5),
        };
        if (step && s.Cell == CellKind.Lstm)
        {
            list.Add(("int8", "ort-int8", "ORT int8", 1.5));
        }

        list.Add(("bf16", "ort", "ORT", step ? 1.7 : 1.6));
        return list.Select(t =>
        {
            var ours = engines.FirstOrDefault(e => e.Key == "ours-" + t.Format);
            var peer = engines.FirstOrDefault(e => e.Key == t.Peer);
            string text = string.Create(CultureInfo.InvariantCulture, $"#11 {t.Format} ≥ {t.Need:0.0#}× {t.PeerName}");
            if (ours is null || peer is null)
            {
                return new TargetCheck(text + (ours is null ? $" (ours {t.Format} not run)" : string.Empty), null);
            }

            double r = peer.MedianNs / ours.MedianNs;
            return new TargetCheck(string.Create(CultureInfo.InvariantCulture, $"{text} ({r:0.00}×)"), r >= t.Need);
        }).ToList();
    }

    /// <summary>Issue 15: each batched row at two threads gains "ours ≥ 1.8× ours at one thread" when the one-thread row ran.</summary>
    public static IReadOnlyList<ScenarioResult> AddThreadScaling(IReadOnlyList<ScenarioResult> results)
    {
        ArgumentNullException.ThrowIfNull(results);
        var one = results.Where(r => r.Scenario.Threads == 1).ToDictionary(r => r.Scenario.Shape, StringComparer.Ordinal);
        return results.Select(r =>
        {
            var s = r.Scenario;
            bool batched = s.Mode == PeerMode.Train || (s.Mode == PeerMode.Sequence && s.Batch >= 16);
            if (s.Threads != 2 || !batched || !one.TryGetValue(s.Shape, out var single))
            {
                return r;
            }

            double speedup = single.Ours.MedianNs / r.Ours.MedianNs;
            var text = string.Create(CultureInfo.InvariantCulture, $"#15 2 threads ≥ 1.8× 1 thread ({speedup:0.00}×)");
            return r with { Targets = [.. r.Targets, new TargetCheck(text, speedup >= 1.8)] };
        }).ToList();
    }
}
