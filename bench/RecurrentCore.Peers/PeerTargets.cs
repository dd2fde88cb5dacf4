using System.Globalization;

namespace RecurrentCore.Peers;

/// <summary>One target of issue 4 for a scenario, and whether the measurement met it.</summary>
internal sealed record TargetCheck(string Text, bool? Met);

/// <summary>
/// Issue 4's single-thread targets: streaming step at least RTNeural's speed at H = 16/64 (LSTM 167 ns / 1.78 µs,
/// GRU 168 ns / 1.23 µs) and ≥ 3× ORT at H = 256; sequence T = 100 ≥ 1.5× ORT at B = 1 (H 64, 256), ≥ 1.2× ORT at
/// B = 16, faster than ORT at H = 1024; faster than PyTorch everywhere; training ≥ 2× PyTorch.
/// </summary>
internal static class PeerTargets
{
    public static IReadOnlyList<TargetCheck> Check(PeerScenario s, double ours, double? ort, double? torch)
    {
        var checks = new List<TargetCheck>();
        double? ortRatio = ort / ours, torchRatio = torch / ours;
        switch (s.Mode)
        {
            case PeerMode.Step:
                double? rtneural = RtNeuralNs(s);
                if (rtneural is double r)
                {
                    checks.Add(new TargetCheck(string.Create(CultureInfo.InvariantCulture, $"≤ {Table.Time(r)} (RTNeural)"), ours <= r));
                }

                if (s.Hidden == 256)
                {
                    checks.Add(new TargetCheck("≥ 3× ORT", ortRatio is double o ? o >= 3 : null));
                }

                checks.Add(new TargetCheck("> 1× PyTorch", torchRatio is double t ? t > 1 : null));
                break;
            case PeerMode.Sequence:
                (string text, double need) = s.Hidden == 1024 ? ("> 1× ORT", 1.0) : s.Batch == 1 ? ("≥ 1.5× ORT", 1.5) : ("≥ 1.2× ORT", 1.2);
                checks.Add(new TargetCheck(text, ortRatio is double o2 ? (need == 1.0 ? o2 > 1 : o2 >= need) : null));
                checks.Add(new TargetCheck("> 1× PyTorch", torchRatio is double t2 ? t2 > 1 : null));
                break;
            default:
                checks.Add(new TargetCheck("≥ 2× PyTorch", torchRatio is double t3 ? t3 >= 2 : null));
                break;
        }

        return checks;
    }

    /// <summary>RTNeural's single-step latency quoted in issue 4 (LSTM and GRU, H = 16 and 64), in ns.</summary>
    public static double? RtNeuralNs(PeerScenario s) => (s.Cell, s.Hidden) switch
    {
        (CellKind.Lstm, 16) => 167,
        (CellKind.Lstm, 64) => 1780,
        (CellKind.Gru, 16) => 168,
        (CellKind.Gru, 64) => 1230,
        _ => null,
    };
}
