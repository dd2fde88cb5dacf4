using System.Runtime.InteropServices;
using RecurrentCore; using RecurrentCore.Layers;
/// <summary>Per-thread CPU time (1 thread) or process CPU time (more) and wall time per call, median and min.</summary>
static class P {
  [StructLayout(LayoutKind.Sequential)] struct Ts { public long s, ns; }
  [DllImport("libc")] static extern int clock_gettime(int id, out Ts t);
  static double Cpu() { clock_gettime(3, out var t); return t.s + t.ns * 1e-9; } // CLOCK_THREAD_CPUTIME_ID
  static double ProcCpu() { clock_gettime(2, out var t); return t.s + t.ns * 1e-9; }
  static void Main(string[] a) {
    // cell mode H B T threads iters
    var cell = a[0] == "lstm" ? CellKind.Lstm : CellKind.Gru; string mode = a[1]; int h = int.Parse(a[2]), b = int.Parse(a[3]), T = int.Parse(a[4]), th = int.Parse(a[5]), it = int.Parse(a[6]);
    var cfg = new RecurrentConfig(cell, h, h);
    var p = new RecurrentParameters(cfg); var rng = new Random(1);
    foreach (var (_, _, d) in p.Named()) for (int i = 0; i < d.Length; i++) d[i] = (float)((rng.NextDouble()*2-1)/Math.Sqrt(h));
    var layer = RecurrentLayer.FromParameters(p);
    bool train = mode == "train";
    var ws = layer.CreateWorkspace(T, b, training: train, threads: th);
    var x = new float[T*b*h]; for (int i = 0; i < x.Length; i++) x[i] = (float)(rng.NextDouble()*2-1);
    var y = new float[T*b*h]; var hn = new float[b*h]; var cn = cell == CellKind.Lstm ? new float[b*h] : new float[0]; var dx = new float[x.Length];
    var g = train ? new RecurrentGradients(cfg) : null;
    void Run() { layer.Forward(ws, x, T, b, y, hn, cn); if (train) { g.Clear(); layer.Backward(ws, y, hn, cn, g, dx); } }
    for (int i = 0; i < Math.Max(5, it/3); i++) Run();
    var cpu = new List<double>(); var wall = new List<double>(); var main = new List<double>();
    for (int i = 0; i < it; i++) { double c0 = th == 1 ? Cpu() : ProcCpu(), m0 = Cpu(); var sw = System.Diagnostics.Stopwatch.StartNew(); Run(); wall.Add(sw.Elapsed.TotalMilliseconds); cpu.Add(((th == 1 ? Cpu() : ProcCpu()) - c0) * 1e3); main.Add((Cpu() - m0) * 1e3); }
    cpu.Sort(); wall.Sort(); main.Sort();
    // With several threads: the calling thread's share of the process CPU time (1/threads when the split is even).
    if (th > 1) Console.Write($"[calling thread cpu med {main[it/2]:F2} ms = {main[it/2] / cpu[it/2]:P0} of the process] ");
    Console.WriteLine($"{a[0]} {mode} H={h} B={b} T={T} th={th}: cpu med {cpu[it/2]:F2} min {cpu[0]:F2} ms | wall med {wall[it/2]:F2} min {wall[0]:F2} ms | y0={y[y.Length/3]:R} dx0={dx[dx.Length/3]:R}");
  }
}
