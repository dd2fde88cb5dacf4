namespace RecurrentCore.Peers;

/// <summary>One engine's numbers in one scenario.</summary>
internal sealed record EngineResult(string Key, string Name, string Detail, double MedianNs, double P10Ns, double P90Ns, int Samples, double MaxError, double Tolerance)
{
    /// <summary>PyTorch's module, oneDNN's primitive, RTNeural's chosen configuration; empty for the others.</summary>
    public string Variant { get; init; } = string.Empty;

    /// <summary>Seconds of warm-up until the time per call was steady (in-process engines), else NaN.</summary>
    public double WarmSeconds { get; init; } = double.NaN;

    /// <summary>RTNeural: every configuration's selection median (ns per step).</summary>
    public IReadOnlyList<(string Config, double MedianNs)> Selection { get; init; } = [];

    /// <summary>Whether the outputs agreed with ours within <see cref="Tolerance"/>.</summary>
    public bool Agrees => MaxError <= Tolerance;

    /// <summary>Float32 engines; ORT int8 and our bf16/int8 compute something else (their quantization error is their own column).</summary>
    public bool IsFloat32 => Key is not ("ort-int8" or "ours-bf16" or "ours-int8");
}

/// <summary>One scenario's numbers: ours first, then the peers that ran, and the targets.</summary>
internal sealed record ScenarioResult(PeerScenario Scenario, IReadOnlyList<EngineResult> Engines, IReadOnlyList<TargetCheck> Targets)
{
    public EngineResult Ours => Engines[0];

    public EngineResult? Ort => Get("ort");

    /// <summary>PyTorch 2 if it ran, else PyTorch 1.13.</summary>
    public EngineResult? Torch => Get("torch2") ?? Get("torch1");

    public EngineResult? Get(string key) => Engines.FirstOrDefault(e => e.Key == key);

    /// <summary>peer median / our median: above 1 means ours is faster.</summary>
    public double? Ratio(string key) => Get(key)?.MedianNs / Ours.MedianNs;

    public double? OrtRatio => Ratio("ort");

    public double? TorchRatio => Torch?.MedianNs / Ours.MedianNs;

    /// <summary>The fastest float32 peer (none when only ours ran).</summary>
    public EngineResult? BestPeer => Engines.Skip(1).Where(e => e.IsFloat32).MinBy(e => e.MedianNs);

    /// <summary>Forward GFLOP/s of an engine (sequence scenarios).</summary>
    public double GFlops(EngineResult e)
    {
        ArgumentNullException.ThrowIfNull(e);
        return Scenario.ForwardFlops / e.MedianNs;
    }

    /// <summary>Whether every peer's outputs agree with ours within its tolerance.</summary>
    public bool Agrees => Engines.All(e => e.Agrees);
}

/// <summary>
/// Runs a scenario: builds the data, checks every peer's outputs against ours, warms every engine, then times them in
/// interleaved rounds (A B C …, then the next round starting one engine later), so that the host's throttling swings
/// fall on all of them alike; reports the median (p10, p90) over all samples.
/// </summary>
internal static class PeerRunner
{
    /// <summary>Agreement of float32 engines: elementwise |ours − peer| ≤ 1e-4·max(1, |peer|).</summary>
    public const double Tolerance = 1e-4;

    /// <summary>Runs <paramref name="scenario"/> on ours and the peers <paramref name="peers"/> makes for it (in-process ORT when null and <paramref name="ort"/>).</summary>
    public static ScenarioResult Run(PeerScenario scenario, PeerFactory? peers, string workDir, double seconds, int rounds, TextWriter log, bool ort = true, double warm = 0.5)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        ArgumentNullException.ThrowIfNull(log);
        var data = new ScenarioData(scenario);
        string dir = Path.Combine(workDir, scenario.Name.Replace(' ', '_').Replace('=', '-'));
        var engines = new List<IPeerEngine>();
        try
        {
            engines.Add(new OursEngine(data));
            if (peers is not null)
            {
                data.WriteNpy(dir);
                engines.AddRange(peers.Create(data, dir));
            }
#if !PEERS_OURS_ONLY
            else if (ort && OrtEngine.Supports(scenario, quantized: false))
            {
                engines.Add(new OrtEngine(data));
            }
#endif

            var ours = engines[0].Check();
            bool? bitwise = null;
            if (scenario.Threads > 1)
            {
                // Issue 15: results bitwise identical for any thread count.
                using var single = new OursEngine(new ScenarioData(scenario with { Threads = 1 }));
                var one = single.Check();
                bitwise = ours.All(kv => one.TryGetValue(kv.Key, out var v) && v.AsSpan().SequenceEqual(kv.Value));
            }

            var errors = new double[engines.Count];
            for (int e = 1; e < engines.Count; e++)
            {
                errors[e] = engines[e] is RtNeuralEngine rtn
                    ? rtn.CheckAll().Max(c => MaxError(ours, c, rtn.Name))
                    : MaxError(ours, engines[e].Check(), engines[e].Name);
            }

            // In-process engines warm until their time per call is steady (at least `warm`, 0.5 s by default: .NET's tiered
            // JIT replaces the first, unoptimised code of a method only after it has run 30 times and 100 ms have passed
            // without new methods).
            var perCall = engines.Select(e => e.Warm(e is InProcessEngine ? warm : Math.Min(0.3, seconds / 4))).ToArray();

            // A slice runs at least one call: when the slowest engine's call is long, fewer rounds (at least 3) keep
            // the scenario near its time budget. An engine whose one call outlasts its whole budget three times over (a
            // peer's thread pool fighting a loaded host) is timed in the first round only, so one such engine cannot
            // stretch the run by minutes; its sample count (1) shows it.
            double budget = 3 * seconds;
            double slowest = perCall.Where(p => p <= budget).DefaultIfEmpty(perCall[0]).Max();
            rounds = Math.Max(Math.Min(3, rounds), (int)Math.Min(rounds, 3 * seconds / slowest));
            var samples = engines.Select(_ => new List<double>()).ToArray();
            double slice = seconds / rounds;
            for (int r = 0; r < rounds; r++)
            {
                for (int k = 0; k < engines.Count; k++)
                {
                    int e = (r + k) % engines.Count;
                    if (r == 0 || perCall[e] <= budget)
                    {
                        engines[e].Time(slice, samples[e]);
                    }
                }
            }

            var results = new EngineResult[engines.Count];
            for (int e = 0; e < engines.Count; e++)
            {
                var eng = engines[e];
                var sorted = samples[e].Order().ToArray();
                results[e] = new EngineResult(eng.Key, eng.Name, eng.Detail, Quantile(sorted, 0.5), Quantile(sorted, 0.1), Quantile(sorted, 0.9), sorted.Length, errors[e], eng.Tolerance)
                {
                    Variant = eng switch
                    {
                        PythonEngine p => p.Variant,
                        RtNeuralEngine r => r.Variant,
                        _ => string.Empty,
                    },
                    WarmSeconds = (eng as InProcessEngine)?.WarmSeconds ?? double.NaN,
                    Selection = (eng as RtNeuralEngine)?.Selection ?? [],
                };
            }

            var targets = PeerTargets.Check(scenario, results).ToList();
            if (bitwise is bool same)
            {
                targets.Add(new TargetCheck("#15 ours bitwise = 1 thread", same));
            }

            var result = new ScenarioResult(scenario, results, targets);
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

    /// <summary>
    /// max over the outputs the peer gives (it must give "output", and every gradient ours gives) of
    /// |ours − peer| / max(1, |peer|).
    /// </summary>
    public static double MaxError(IReadOnlyDictionary<string, float[]> ours, IReadOnlyDictionary<string, float[]> peer, string peerName)
    {
        ArgumentNullException.ThrowIfNull(ours);
        ArgumentNullException.ThrowIfNull(peer);
        double max = 0;
        foreach (var (name, a) in ours)
        {
            if (!peer.TryGetValue(name, out var b))
            {
                if (name == "c_n")
                {
                    continue; // RTNeural keeps its cell state private; the K outputs depend on it
                }

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
