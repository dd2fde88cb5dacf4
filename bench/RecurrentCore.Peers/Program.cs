using System.Diagnostics;
using System.Globalization;
using RecurrentCore;
using RecurrentCore.Peers;

// dotnet run -c Release --project bench/RecurrentCore.Peers -- [options]   (see --help and docs/peers.md)
// Times RecurrentCore against RTNeural, ONNX Runtime (float32 and DynamicQuantizeLSTM int8, in process), oneDNN and
// PyTorch 2 on identical weights and inputs, checks the outputs agree, prints one markdown table. Exit code 0, 1 on bad
// arguments, 3 when some outputs disagree.
var o = PeerOptions.Parse(args, Console.Error);
if (o is null)
{
    return 1;
}

if (o.Help)
{
    Console.WriteLine(PeerOptions.Usage);
    return 0;
}

const string PinnedVariable = "RECURRENTCORE_PEERS_PINNED";
if (o.Pin && Environment.GetEnvironmentVariable(PinnedVariable) != "1")
{
    // The whole harness (ours in process, and every peer server it starts) runs under taskset -c 0.
    var info = new ProcessStartInfo("taskset") { UseShellExecute = false };
    info.ArgumentList.Add("-c");
    info.ArgumentList.Add("0");
    string self = Environment.ProcessPath!;
    info.ArgumentList.Add(self);
    if (Path.GetFileNameWithoutExtension(self) == "dotnet")
    {
        info.ArgumentList.Add(Environment.GetCommandLineArgs()[0]);
    }

    foreach (string a in args)
    {
        info.ArgumentList.Add(a);
    }

    info.Environment[PinnedVariable] = "1";
    try
    {
        using var child = Process.Start(info)!;
        child.WaitForExit();
        return child.ExitCode;
    }
    catch (System.ComponentModel.Win32Exception e)
    {
        Console.Error.WriteLine($"peers: error: --pin needs taskset: {e.Message}");
        return 1;
    }
}

var log = Console.Error;
var scenarios = o.Scenarios();
if (scenarios.Count == 0)
{
    log.WriteLine("peers: error: no scenario selected (see --filter, --modes, --threads)");
    return 1;
}

string loadBefore = Machine.LoadAverage();
InProcessEngine.MaxWarmSeconds = o.Pin ? 5.0 : 2.5;
log.WriteLine($"peers: {scenarios.Count} scenarios, {o.Seconds.ToString(CultureInfo.InvariantCulture)} s per engine each in {o.Rounds} interleaved rounds; {Environment.ProcessorCount} CPUs visible{(o.Pin ? " (pinned to CPU 0)" : string.Empty)}; load average {loadBefore}");
RtNeuralServers? rtneural = null;
var notes = new List<string>();
if (o.Engines.Contains("rtneural") && scenarios.Any(RtNeuralEngine.Supports))
{
    rtneural = RtNeuralServers.TryStart(o.RtNeuralSrc, o.RtNeuralBin, o.CacheDir, log, out string why);
    if (why.Length != 0)
    {
        notes.Add(why);
        log.WriteLine("peers: " + why);
    }
}

string workDir = Path.Combine(Path.GetTempPath(), $"recurrentcore-peers-{Environment.ProcessId}");
var results = new List<ScenarioResult>();
var start = DateTime.UtcNow;
var factory = new PeerFactory(o.Engines, o.ModernPython, o.LegacyPython, rtneural, log);
try
{
    foreach (var s in scenarios)
    {
        results.Add(PeerRunner.Run(s, factory, workDir, o.Seconds, o.Rounds, log, warm: o.Warm));
    }
}
finally
{
    factory.Dispose();
    rtneural?.Dispose();
    if (Directory.Exists(workDir))
    {
        Directory.Delete(workDir, recursive: true);
    }
}

var final = PeerTargets.AddThreadScaling(results);
notes.AddRange(factory.Notes);
string loadAfter = Machine.LoadAverage();
log.WriteLine($"peers: {(DateTime.UtcNow - start).TotalSeconds:0} s; load average {loadAfter}");
var header = new List<string>
{
    $"Machine: {Machine.CpuModel()}; {Machine.Caches()}; {Environment.ProcessorCount} CPUs visible{(o.Pin ? ", pinned to CPU 0 (taskset -c 0)" : string.Empty)}; load average before {loadBefore}, after {loadAfter}.",
    $"Ours: RecurrentCore {OursEngine.VariantName(RecurrentCore.Layers.RecurrentLayer.FromParameters(new RecurrentParameters(new RecurrentConfig(CellKind.Lstm, 4, 4))))} kernels, .NET {Environment.Version}.",
};
header.AddRange(factory.Versions.OrderBy(kv => Array.IndexOf(PeerFactory.AllKeys, kv.Key)).Select(kv => kv.Value + "."));
if (rtneural is not null)
{
    header.Add($"RTNeural {rtneural.Commit} (servers in {rtneural.BinDir}).");
}

header.AddRange(notes.Select(n => n + "."));
string formats = o.Formats ? Environment.NewLine + "Formats (issue 11; ratios are peer / ours in that format, > 1 means ours is faster):" + Environment.NewLine + Environment.NewLine + Table.Formats(final) : string.Empty;
string markdown = Table.Markdown(final) + formats + Environment.NewLine + string.Join(Environment.NewLine, header) + Environment.NewLine;
Console.WriteLine(markdown);
if (o.OutPath is not null)
{
    File.WriteAllText(o.OutPath, ResultJson.Write(final, o, header, loadBefore, loadAfter));
    log.WriteLine($"peers: wrote {o.OutPath}");
}

if (o.MarkdownPath is not null)
{
    File.WriteAllText(o.MarkdownPath, markdown);
    log.WriteLine($"peers: wrote {o.MarkdownPath}");
}

bool agree = final.All(r => r.Agrees);
if (!agree)
{
    log.WriteLine("peers: error: outputs disagree beyond their tolerance in: " + string.Join(", ", final.Where(r => !r.Agrees).Select(r => r.Scenario.Name)));
}

return agree ? 0 : 3;
