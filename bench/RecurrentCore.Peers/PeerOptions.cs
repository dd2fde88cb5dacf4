using System.Globalization;

namespace RecurrentCore.Peers;

/// <summary>The command line of the peer benchmark.</summary>
internal sealed class PeerOptions
{
    public const string Usage = """
        usage: RecurrentCore.Peers [options]
          --quick                  a few scenarios, 0.4 s per engine (a look, not a measurement)
          --formats                issue 11's group: step H=256 and sequence T=100 B=1 H=1024 (LSTM, GRU) on ours
                                   f32/bf16/int8, ORT float32 and ORT DynamicQuantizeLSTM, one thread; adds the formats table
          --seconds S              measuring time per engine per scenario (default 1.5; --quick 0.4)
          --rounds N               interleaved rounds per scenario (default 6)
          --warm S                 least warm-up of in-process engines, then until steady (default 0.5)
          --engines LIST           of ours,ours-bf16,ours-int8,rtneural,ort,ort-int8,onednn,torch2,torch1 (default all
                                   but torch1 and our bf16/int8, which --formats selects; ours always runs)
          --modes LIST             of step,sequence,train (default all)
          --threads LIST           thread counts for the sequence and training rows (default 1,2; steps run on one)
          --filter TEXT            only scenarios whose name contains TEXT
          --hidden H1,H2,...       replace H in the selected scenarios (size sweeps)
          --pin                    run everything (ours and every peer process) on CPU 0 (taskset -c 0); 1 thread only
          --rtneural-src DIR       an RTNeural checkout: builds bench/peers/rtneural/rtn_server.cpp into --cache once
          --rtneural-bin DIR       a directory with rtn_server_{eigen,xsimd,stl} already built (build.sh)
          --cache DIR              build cache (default ~/.cache/recurrentcore-peers)
          --modern-python PATH     interpreter with PyTorch 2 and oneDNN (default /opt/peers-venv/bin/python)
          --python PATH            interpreter for torch1 (default /usr/bin/python3: Debian's torch 1.13)
          --no-torch               leave out torch2 and torch1
          --out FILE.json          all numbers (medians, p10, p90, samples, agreement, versions, machine)
          --md FILE.md             the markdown table (also printed on stdout)
        Exit code 0; 1 bad arguments; 3 some outputs disagree with ours beyond their tolerance.
        """;

    public bool Help { get; private set; }

    public bool Quick { get; private set; }

    /// <summary>Issue 11's formats group (<see cref="PeerScenario.Formats"/>) and its engines.</summary>
    public bool Formats { get; private set; }

    public bool Pin { get; private set; }

    public double Seconds { get; private set; } = 1.5;

    public int Rounds { get; private set; } = 6;

    public double Warm { get; private set; } = 0.5;

    public IReadOnlyList<string> Engines { get; private set; } = ["ours", "rtneural", "ort", "ort-int8", "onednn", "torch2"];

    public IReadOnlyList<PeerMode> Modes { get; private set; } = [PeerMode.Step, PeerMode.Sequence, PeerMode.Train];

    public IReadOnlyList<int> Threads { get; private set; } = [1, 2];

    public string? Filter { get; private set; }

    public IReadOnlyList<int>? Hidden { get; private set; }

    public string? RtNeuralSrc { get; private set; }

    public string? RtNeuralBin { get; private set; }

    public string CacheDir { get; private set; } = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "recurrentcore-peers");

    public string ModernPython { get; private set; } = "/opt/peers-venv/bin/python";

    public string LegacyPython { get; private set; } = "/usr/bin/python3";

    public string? OutPath { get; private set; }

    public string? MarkdownPath { get; private set; }

    /// <summary>The command line as given, for the JSON.</summary>
    public string CommandLine { get; private set; } = string.Empty;

    /// <summary>Parses <paramref name="args"/>; null after writing a one-line error to <paramref name="error"/>.</summary>
    public static PeerOptions? Parse(string[] args, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(error);
        var o = new PeerOptions { CommandLine = string.Join(' ', args) };
        double? seconds = null;
        bool noTorch = false, engines = false;
        try
        {
            for (int i = 0; i < args.Length; i++)
            {
                string a = args[i];
                string Next() => i + 1 < args.Length ? args[++i] : throw new FormatException($"{a} needs a value");
                switch (a)
                {
                    case "--quick": o.Quick = true; break;
                    case "--formats": o.Formats = true; break;
                    case "--pin": o.Pin = true; break;
                    case "--no-torch": noTorch = true; break;
                    case "--seconds": seconds = double.Parse(Next(), CultureInfo.InvariantCulture); break;
                    case "--rounds": o.Rounds = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                    case "--warm": o.Warm = double.Parse(Next(), CultureInfo.InvariantCulture); break;
                    case "--engines": o.Engines = ["ours", .. List(Next(), a).Where(k => k != "ours")]; engines = true; break;
                    case "--modes": o.Modes = List(Next(), a).Select(m => Enum.Parse<PeerMode>(m, ignoreCase: true)).ToList(); break;
                    case "--threads": o.Threads = Ints(Next(), a); break;
                    case "--filter": o.Filter = Next(); break;
                    case "--hidden": o.Hidden = Ints(Next(), a); break;
                    case "--rtneural-src": o.RtNeuralSrc = Next(); break;
                    case "--rtneural-bin": o.RtNeuralBin = Next(); break;
                    case "--cache": o.CacheDir = Next(); break;
                    case "--modern-python": o.ModernPython = Next(); break;
                    case "--python": o.LegacyPython = Next(); break;
                    case "--out": o.OutPath = Next(); break;
                    case "--md": o.MarkdownPath = Next(); break;
                    case "-h" or "--help": o.Help = true; break;
                    default: throw new FormatException($"unknown argument '{a}' (see --help)");
                }
            }
        }
        catch (Exception e) when (e is FormatException or ArgumentException or OverflowException)
        {
            error.WriteLine($"peers: error: {e.Message}");
            return null;
        }

        var unknown = o.Engines.Where(k => !PeerFactory.AllKeys.Contains(k)).ToList();
        if (unknown.Count != 0)
        {
            error.WriteLine($"peers: error: --engines: unknown engine '{unknown[0]}' (known: {string.Join(", ", PeerFactory.AllKeys)})");
            return null;
        }

        if (o.Formats && !engines)
        {
            o.Engines = ["ours", "ours-bf16", "ours-int8", "ort", "ort-int8"];
        }

        if (noTorch)
        {
            o.Engines = o.Engines.Where(k => k is not ("torch2" or "torch1")).ToList();
        }

        o.Seconds = seconds ?? (o.Quick ? 0.4 : 1.5);
        if (!(o.Seconds > 0) || !(o.Warm >= 0) || o.Rounds < 1 || o.Threads.Any(t => t < 1))
        {
            error.WriteLine("peers: error: --seconds must be positive, --warm not negative, --rounds and --threads at least 1");
            return null;
        }

        if (o.RtNeuralBin is not null && !Directory.Exists(o.RtNeuralBin))
        {
            error.WriteLine($"peers: error: --rtneural-bin: {o.RtNeuralBin} is not a directory");
            return null;
        }

        if (o.RtNeuralSrc is not null && !Directory.Exists(o.RtNeuralSrc))
        {
            error.WriteLine($"peers: error: --rtneural-src: {o.RtNeuralSrc} is not a directory");
            return null;
        }

        return o;
    }

    /// <summary>The selected scenarios: pinned runs keep the one-thread rows.</summary>
    public List<PeerScenario> Scenarios()
    {
        var threads = Pin ? [1] : Threads;
        IEnumerable<PeerScenario> list = Formats ? PeerScenario.Formats() : Quick ? PeerScenario.Quick() : PeerScenario.Full(threads);
        list = list.Where(s => Modes.Contains(s.Mode) && (s.Mode == PeerMode.Step || threads.Contains(s.Threads)))
            .Where(s => Filter is null || s.Name.Contains(Filter, StringComparison.OrdinalIgnoreCase));
        if (Hidden is not null)
        {
            var sizes = Hidden;
            list = list.Select(s => s with { Hidden = 0 }).Distinct().SelectMany(s => sizes.Select(h => s with { Hidden = h }));
        }

        return list.ToList();
    }

    private static List<string> List(string v, string option)
    {
        var items = v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
        return items.Count != 0 ? items : throw new FormatException($"{option}: empty list");
    }

    private static List<int> Ints(string v, string option) =>
        List(v, option).Select(x => int.TryParse(x, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) && n > 0 ? n : throw new FormatException($"{option}: '{x}' is not a positive integer")).ToList();
}
