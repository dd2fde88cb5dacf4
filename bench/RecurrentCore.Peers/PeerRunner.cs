namespace RecurrentCore.Peers;

/// <summary>One engine's numbers in one scenario.</summary>
internal sealed record EngineResult(string Name, string Detail, double MedianNs, double P90Ns, int Samples, double MaxError)
{
    /// <summary>PyTorch's module for the scenario (LSTMCell, nn.LSTM (T=1), ...); empty for the others.</summary>
    public string Variant { get; init; } = string.Empty;
}

/// <summary>One scenario's numbers: ours and the peers that ran (null when absent), and the targets.</summary>
internal sealed record ScenarioResult(PeerScenario Scenario, EngineResult Ours, EngineResult? Ort, EngineResult? Torch, IReadOnlyList<TargetCheck> Targets)
{
    public double? OrtRatio => Ort?.MedianNs / Ours.MedianNs;

    public double? TorchRatio => Torch?.MedianNs / Ours.MedianNs;

    /// <summary>Forward GFLOP/s of an engine (sequence scenarios).</summary>
    public double GFlops(EngineResult e) => Scenario.ForwardFlops / e.MedianNs;

    /// <summary>Whether every peer's outputs agree with ours within <see cref="PeerRunner.Tolerance"/>.</summary>
    public bool Agrees => (Ort?.MaxError ?? 0) <= PeerRunner.Tolerance && (Torch?.MaxError ?? 0) <= PeerRunner.Tolerance;
}

/// <summary>
/// Runs a scenario: builds the data, checks every peer's outputs against ours, then times the engines in interleaved
/// rounds (ours, ORT, PyTorch, then the next round starting one engine later), so that the host's throttling swings
/// fall on all of them alike; reports the median over all samples.
/// </summary>
internal static class PeerRunner
{
    /// <summary>Agreement: elementwise |ours − peer| ≤ 1e-4·max(1, |peer|).</summary>
    public const double Tolerance = 1e-4;

    public static ScenarioResult Run(PeerScenario scenario, TorchServer? torch, string workDir, double seconds, int rounds, TextWriter log)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        ArgumentNullException.ThrowIfNull(log);
        var data = new ScenarioData(scenario);
        string dir = Path.Combine(workDir, scenario.Name.Replace(' ', '_').Replace('=', '-'));
        var engines = new List<IPeerEngine>();
        try
        {
            engines.Add(new OursEngine(data));
            if (scenario.UsesOrt)
            {
                engines.Add(new OrtEngine(data));
            }

            if (torch is not null)
            {
                data.WriteNpy(dir);
                engines.Add(new TorchEngine(torch, data, dir));
            }

            var ours = engines[0].Check();
            var errors = new double[engines.Count];
            for (int e = 1; e < engines.Count; e++)
            {
                errors[e] = MaxError(ours, engines[e].Check(), engines[e].Name);
            }

            // In-process engines warm for 0.5 s whatever --seconds says: .NET's tiered JIT replaces the first, unoptimised
            // code of a method only after it has run 30 times and 100 ms have passed without new methods (a --quick run
            // otherwise times tier-0 kernels in its first scenario, ~20× slow).
            double slowest = 0;
            foreach (var e in engines)
            {
                slowest = Math.Max(slowest, e.Warm(e is InProcessEngine ? 0.5 : Math.Min(0.3, seconds / 4)));
            }

            // A slice runs at least one call: when the slowest engine's call is long, fewer rounds (at least 3) keep
            // the scenario near its time budget.
            rounds = Math.Max(Math.Min(3, rounds), (int)Math.Min(rounds, 3 * seconds / slowest));
            var samples = engines.Select(_ => new List<double>()).ToArray();
            double slice = seconds / rounds;
            for (int r = 0; r < rounds; r++)
            {
                for (int k = 0; k < engines.Count; k++)
                {
                    int e = (r + k) % engines.Count;
                    engines[e].Time(slice, samples[e]);
                }
            }

            var results = new EngineResult[engines.Count];
            for (int e = 0; e < engines.Count; e++)
            {
                var sorted = samples[e].Order().ToArray();
                results[e] = new EngineResult(engines[e].Name, engines[e].Detail, Quantile(sorted, 0.5), Quantile(sorted, 0.9), sorted.Length, errors[e])
                {
                    Variant = (engines[e] as TorchEngine)?.Variant ?? string.Empty,
                };
            }

            var ortResult = results.FirstOrDefault(x => x.Name == "ORT");
            var torchResult = results.FirstOrDefault(x => x.Name == "PyTorch");
            var result = new ScenarioResult(scenario, results[0], ortResult, torchResult, PeerTargets.Check(scenario, results[0].MedianNs, ortResult?.MedianNs, torchResult?.MedianNs));
            log.WriteLine(Table.Progress(result));
            return result;
        }
        finally
        {
            foreach (var e in engines)
            {
                e.Dispose();
            }

            if (Directory.Exists(dir))
            {
                Directory.Delete(dir, recursive: true);
            }
        }
    }

    /// <summary>max over every output of ours of |ours − peer| / max(1, |peer|).</summary>
    public static double MaxError(IReadOnlyDictionary<string, float[]> ours, IReadOnlyDictionary<string, float[]> peer, string peerName)
    {
        ArgumentNullException.ThrowIfNull(ours);
        ArgumentNullException.ThrowIfNull(peer);
        double max = 0;
        foreach (var (name, a) in ours)
        {
            if (!peer.TryGetValue(name, out var b))
            {
                throw new InvalidOperationException($"{peerName} did not produce '{name}'");
            }

            if (a.Length != b.Length)
            {
                throw new InvalidOperationException($"{peerName} '{name}' has {b.Length} values, ours {a.Length}");
            }

            for (int i = 0; i < a.Length; i++)
            {
                double err = Math.Abs((double)a[i] - b[i]) / Math.Max(1, Math.Abs((double)b[i]));
                if (!(err <= max))
                {
                    max = double.IsNaN(err) ? double.PositiveInfinity : err;
                }
            }
        }

        return max;
    }

    private static double Quantile(double[] sorted, double q)
    {
        if (sorted.Length == 0)
        {
            return double.NaN;
        }

        double pos = q * (sorted.Length - 1);
        int lo = (int)Math.Floor(pos);
        int hi = Math.Min(lo + 1, sorted.Length - 1);
        return sorted[lo] + ((sorted[hi] - sorted[lo]) * (pos - lo));
    }
}
