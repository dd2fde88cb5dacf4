using System.Globalization;
using System.Text.Json;
using RecurrentCore.Kernels;
using RecurrentCore.Peers;

// dotnet run -c Release --project bench/RecurrentCore.Peers -- [--quick] [--seconds S] [--rounds N] [--out results.json]
//     [--filter TEXT] [--hidden H1,H2,...] [--python PATH] [--no-torch]
// Times RecurrentCore against ONNX Runtime (in process) and PyTorch (bench/peers/torch_bench.py) on identical weights
// and inputs, checks the outputs agree, prints one markdown table. Exit code 0, or 3 when some outputs disagree.
bool quick = false, noTorch = false;
double? seconds = null;
int rounds = 6;
string? outPath = null, filter = null, hiddenList = null;
string python = "/usr/bin/python3";
for (int i = 0; i < args.Length; i++)
{
    string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
    switch (args[i])
    {
        case "--quick": quick = true; break;
        case "--no-torch": noTorch = true; break;
        case "--seconds": seconds = double.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--rounds": rounds = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--out": outPath = Next(); break;
        case "--filter": filter = Next(); break;
        case "--hidden": hiddenList = Next(); break;
        case "--python": python = Next(); break;
        case "-h" or "--help":
            Console.WriteLine("usage: RecurrentCore.Peers [--quick] [--seconds S (per engine per scenario; 2, quick 0.4)] [--rounds N (6)] [--out results.json] [--filter TEXT] [--hidden H1,H2,... (replaces H in the selected scenarios)] [--python /usr/bin/python3] [--no-torch]");
            return 0;
        default:
            Console.Error.WriteLine($"peers: error: unknown argument '{args[i]}' (see --help)");
            return 1;
    }
}

double perEngine = seconds ?? (quick ? 0.4 : 2.0);
if (!(perEngine > 0) || rounds < 1)
{
    Console.Error.WriteLine("peers: error: --seconds must be positive and --rounds at least 1");
    return 1;
}

var scenarios = (quick ? PeerScenario.Quick() : PeerScenario.Full())
    .Where(s => filter is null || s.Name.Contains(filter, StringComparison.OrdinalIgnoreCase)).ToList();
if (hiddenList is not null)
{
    var sizes = hiddenList.Split(',').Select(v => int.Parse(v, CultureInfo.InvariantCulture)).ToArray();
    scenarios = scenarios.Select(s => s with { Hidden = 0 }).Distinct()
        .SelectMany(s => sizes.Select(h => s with { Hidden = h })).ToList();
}

var log = Console.Error;
log.WriteLine($"peers: {scenarios.Count} scenarios, {perEngine.ToString(CultureInfo.InvariantCulture)} s per engine each in {rounds} interleaved rounds; kernel {KernelCatalog.Name(KernelCatalog.Active)}; {Environment.ProcessorCount} cores");
TorchServer? torch = null;
string torchNote;
if (noTorch)
{
    torchNote = "PyTorch skipped (--no-torch)";
}
else
{
    string script = Path.Combine(AppContext.BaseDirectory, "torch_bench.py");
    torch = TorchServer.TryStart(python, script, out string why);
    torchNote = torch is null ? $"PyTorch skipped: {why}" : $"PyTorch {torch.Version} via {python}";
}

log.WriteLine("peers: " + torchNote);
string workDir = Path.Combine(Path.GetTempPath(), $"recurrentcore-peers-{Environment.ProcessId}");
var results = new List<ScenarioResult>();
var start = DateTime.UtcNow;
try
{
    foreach (var s in scenarios)
    {
        results.Add(PeerRunner.Run(s, torch, workDir, perEngine, rounds, log));
    }
}
finally
{
    torch?.Dispose();
    if (Directory.Exists(workDir))
    {
        Directory.Delete(workDir, recursive: true);
    }
}

log.WriteLine($"peers: {(DateTime.UtcNow - start).TotalSeconds:0} s");
Console.WriteLine(Table.Markdown(results));
Console.WriteLine(torchNote + ".");
if (outPath is not null)
{
    File.WriteAllText(outPath, Json(results, torchNote));
    log.WriteLine($"peers: wrote {outPath}");
}

bool agree = results.All(r => r.Agrees);
if (!agree)
{
    log.WriteLine($"peers: error: outputs disagree beyond {PeerRunner.Tolerance} in: " + string.Join(", ", results.Where(r => !r.Agrees).Select(r => r.Scenario.Name)));
}

return agree ? 0 : 3;

static string Json(IReadOnlyList<ScenarioResult> results, string torchNote)
{
    using var stream = new MemoryStream();
    using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
    {
        w.WriteStartObject();
        w.WriteString("kernel", KernelCatalog.Name(KernelCatalog.Active));
        w.WriteString("torch", torchNote);
        w.WriteString("utc", DateTime.UtcNow.ToString("u", CultureInfo.InvariantCulture));
        w.WriteStartArray("scenarios");
        foreach (var r in results)
        {
            var s = r.Scenario;
            w.WriteStartObject();
            w.WriteString("name", s.Name);
            w.WriteString("cell", s.CellKey);
            w.WriteString("mode", s.ModeKey);
            w.WriteNumber("input", s.Input);
            w.WriteNumber("hidden", s.Hidden);
            w.WriteNumber("batch", s.Batch);
            w.WriteNumber("seq", s.Mode == PeerMode.Step ? 1 : s.SeqLen);
            w.WriteNumber("forward_flops", s.ForwardFlops);
            foreach (var e in new[] { r.Ours, r.Ort, r.Torch })
            {
                if (e is null)
                {
                    continue;
                }

                w.WriteStartObject(e.Name == "ours" ? "ours" : e.Name == "ORT" ? "ort" : "torch");
                w.WriteString("detail", e.Detail);
                if (e.Variant.Length != 0)
                {
                    w.WriteString("module", e.Variant);
                }

                w.WriteNumber("median_ns", Math.Round(e.MedianNs, 1));
                w.WriteNumber("p90_ns", Math.Round(e.P90Ns, 1));
                w.WriteNumber("samples", e.Samples);
                w.WriteNumber("gflops", Math.Round(r.GFlops(e), 3));
                if (e.Name != "ours")
                {
                    w.WriteNumber("max_rel_diff_vs_ours", e.MaxError);
                    w.WriteNumber("speedup_of_ours", Math.Round(e.MedianNs / r.Ours.MedianNs, 3));
                }

                w.WriteEndObject();
            }

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
