using RecurrentCore.Kernels;
using RecurrentCore.Kernels.Gates;
using RecurrentCore.Kernels.Operators;
using System.Security.Cryptography;
using System.Runtime.InteropServices;

var rng = new Random(1234);
float[] R(int n, float s = 1f) { var a = new float[n]; for (int i = 0; i < n; i++) a[i] = (float)((rng.NextDouble() * 2 - 1) * s); return a; }
string H(params float[][] xs) { using var sha = SHA256.Create(); foreach (var x in xs) sha.TransformBlock(MemoryMarshal.AsBytes(x.AsSpan()).ToArray(), 0, x.Length * 4, null, 0); sha.TransformFinalBlock([], 0, 0); return Convert.ToHexString(sha.Hash!)[..16]; }
var only = args.Length > 0 ? args[0] : "all";
if (only == "bench") { Bench.Run(args[1]); return; }
if (only == "first") { Bench.First(); return; }
var sup = KernelCatalog.Supported;
for (int vi = 0; vi < sup.Count; vi++)
{
    var v = sup[vi];
    string tag = $"v{vi}";
    rng = new Random(42);
    if (only is "all" or "gemv")
    {
        int[] rs = [1, 2, 3, 4, 5, 6, 7, 9, 14, 16, 17, 33, 64, 66, 130];
        int[] cs = [1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 47, 63, 64, 65, 100, 129, 256, 257];
        foreach (var r in rs) foreach (var c in cs) foreach (var acc in new[] { false, true })
        {
            var w = R(r * c); var x = R(c); var xt = R(r); var y = R(r); var yt = R(c);
            Gemv.Multiply(w, r, c, x, y, acc, v);
            Gemv.MultiplyTransposed(w, r, c, xt, yt, acc, v);
            Console.WriteLine($"{tag} gemv {r}x{c} {acc} {H(y)} {H(yt)}");
        }
    }
    if (only is "all" or "gemm")
    {
        (int m, int n, int k)[] sh = [(1, 1, 1), (2, 33, 5), (11, 32, 17), (12, 64, 300), (13, 65, 257), (25, 100, 513), (6, 16, 8), (7, 17, 9), (3, 40, 600), (40, 3, 7), (100, 31, 64), (2,2,2)];
        foreach (var (m, n, k) in sh) foreach (var acc in new[] { false, true })
        {
            var a = R(m * k); var b = R(n * k); var bias = R(n); var c = R(m * n);
            var p = PackedMatrix.Pack(b, n, k, v);
            Gemm.Multiply(a, m, p, bias, c, acc);
            var c2 = R(m * n); Gemm.Multiply(a, m, p, default, c2, acc);
            var ta = R(m * n); var tb = R(m * k); var tc = R(n * k);
            Gemm.MultiplyTransposedA(ta, tb, m, n, k, tc, acc, v);
            var na = R(m * n); var nb = R(n * k); var nc = R(m * k);
            Gemm.MultiplyNotTransposed(na, nb, m, n, k, nc, acc, v);
            Console.WriteLine($"{tag} gemm {m}x{n}x{k} {acc} {H(c)} {H(c2)} {H(tc)} {H(nc)}");
        }
    }
    if (only is "all" or "act")
    {
        foreach (var n in new[] { 0, 1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33, 100, 1000 })
        {
            var x = R(n, 30f); var y1 = new float[n]; var y2 = new float[n]; var y3 = new float[n]; var y4 = new float[n]; var y5 = new float[n]; var y6 = new float[n];
            Activations.Exp(x, y1, v); Activations.Sigmoid(x, y2, v); Activations.Tanh(x, y3, v); Activations.Relu(x, y4, v);
            var s = R(n); Activations.SigmoidDerivativeFromOutput(s, y5, v); Activations.TanhDerivativeFromOutput(s, y6, v);
            Console.WriteLine($"{tag} act {n} {H(y1)} {H(y2)} {H(y3)} {H(y4)} {H(y5)} {H(y6)}");
        }
    }
    if (only is "all" or "gates")
    {
        foreach (var hs in new[] { 1, 3, 4, 5, 8, 13, 16, 17, 31, 32, 33, 64, 70 })
        foreach (var save in new[] { false, true })
        {
            var g = R(4 * hs, 4); var b = R(4 * hs); var cp = R(hs); var c = new float[hs]; var h = new float[hs]; var tc = new float[hs];
            LstmGates.Forward(hs, g, b, cp, c, h, tc, save, v);
            var dh = R(hs); var dc = R(hs); var dg = new float[4 * hs]; var dcp = new float[hs];
            var ga = R(4 * hs); for (int i = 0; i < ga.Length; i++) ga[i] = MathF.Abs(ga[i]);
            LstmGates.Backward(hs, ga, cp, c, save ? tc : default, dh, dc, dg, dcp, v);
            Console.WriteLine($"{tag} lstm {hs} {save} {H(g, c, h, tc)} {H(dg, dcp)}");

            var gi = R(3 * hs, 4); var gh = R(3 * hs, 4); var bi = R(3 * hs); var bh = R(3 * hs); var hp = R(hs); var hh = new float[hs];
            GruGates.Forward(hs, gi, gh, bi, bh, hp, hh, save, v);
            var dGi = new float[3 * hs]; var dGh = new float[3 * hs]; var dhp = new float[hs];
            var gg = R(3 * hs); for (int i = 0; i < gg.Length; i++) gg[i] = MathF.Abs(gg[i]);
            GruGates.Backward(hs, gg, R(hs), hp, dh, dGi, dGh, dhp, v);
            Console.WriteLine($"{tag} gru {hs} {save} {H(gi, gh, hh)} {H(dGi, dGh, dhp)}");

            var gi2 = R(3 * hs, 4); var ghrz = R(2 * hs, 4); var rh = new float[hs];
            GruResetBeforeGates.ForwardStage1(hs, gi2, ghrz, bi, bh, hp, rh, v);
            var ghn = R(hs, 3); var h2 = new float[hs];
            GruResetBeforeGates.ForwardStage2(hs, gi2, ghn, bi, bh, hp, h2, save, v);
            var dG2 = new float[3 * hs]; var dhp2 = new float[hs];
            GruResetBeforeGates.BackwardStage2(hs, gg, hp, dh, dG2, dhp2, v);
            var dhp3 = R(hs);
            GruResetBeforeGates.BackwardStage1(hs, gg, hp, R(hs), dG2, dhp3, v);
            Console.WriteLine($"{tag} grurb {hs} {save} {H(gi2, rh, h2)} {H(dG2, dhp2, dhp3)}");

            foreach (var nl in new[] { RnnNonlinearity.Tanh, RnnNonlinearity.Relu })
            {
                var a = R(hs, 4); var hb = new float[hs];
                ElmanGates.Forward(hs, a, b.AsSpan(0, hs), hb, nl, v);
                var da = new float[hs];
                ElmanGates.Backward(hs, hb, dh, da, nl, v);
                Console.WriteLine($"{tag} elman {hs} {save} {nl} {H(hb)} {H(da)}");
            }
        }
    }
}

static class Bench
{
    static double Median(List<double> v) { v.Sort(); return v[v.Count / 2]; }
    public static void Run(string variantName)
    {
        var v = KernelCatalog.Parse(variantName);
        if (!KernelCatalog.IsSupported(v)) return;
        foreach (var h in new[] { 16, 64, 256, 1024 })
        {
            int rows = 4 * h, cols = h;
            var w = new float[rows * cols]; for (int i = 0; i < w.Length; i++) w[i] = (i % 7) * 0.1f;
            var x = new float[rows]; x.AsSpan().Fill(0.5f); var y = new float[rows];
            int reps = Math.Max(1, 4_000_000 / (rows * cols));
            var a = new List<double>(); var t = new List<double>();
            for (int i = 0; i < 2000; i++) { Gemv.Multiply(w, rows, cols, x, y, false, v); Gemv.MultiplyTransposed(w, rows, cols, x, y, false, v); }
            for (int b = 0; b < 21; b++)
            {
                var sw = System.Diagnostics.Stopwatch.StartNew();
                for (int r = 0; r < reps; r++) Gemv.Multiply(w, rows, cols, x, y, false, v);
                a.Add(sw.Elapsed.TotalSeconds / reps * 1e9); sw.Restart();
                for (int r = 0; r < reps; r++) Gemv.MultiplyTransposed(w, rows, cols, x, y, false, v);
                t.Add(sw.Elapsed.TotalSeconds / reps * 1e9);
            }
            Console.WriteLine($"gemv {variantName} H={h} Wx {Median(a):F1} ns WTx {Median(t):F1} ns");
        }
        {
            int n = 256;
            var A = new float[n * n]; var B = new float[n * n]; var C = new float[n * n];
            for (int i = 0; i < A.Length; i++) { A[i] = (i % 5) * 0.1f; B[i] = (i % 3) * 0.2f; }
            var p = PackedMatrix.Pack(B, n, n, v);
            var a = new List<double>();
            for (int i = 0; i < 20; i++) Gemm.Multiply(A, n, p, default, C, false);
            for (int b = 0; b < 21; b++)
            {
                var sw = System.Diagnostics.Stopwatch.StartNew();
                for (int r = 0; r < 10; r++) Gemm.Multiply(A, n, p, default, C, false);
                a.Add(sw.Elapsed.TotalSeconds / 10 * 1e6);
            }
            double us = Median(a);
            Console.WriteLine($"gemm {variantName} 256^3 {us:F1} us {2.0 * n * n * n / us / 1e3:F1} GFLOP/s");
        }
    }
    public static void First()
    {
        int h = 64, rows = 4 * h;
        var w = new float[rows * h]; var x = new float[h]; var y = new float[rows]; x.AsSpan().Fill(0.5f);
        var g = new float[4 * h]; var bias = new float[4 * h]; var c = new float[h]; var hh = new float[h];
        var total = System.Diagnostics.Stopwatch.StartNew();
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var marks = new List<string>();
        for (int i = 1; i <= 20000; i++)
        {
            Gemv.Multiply(w, rows, h, x, y, false);
            y.AsSpan().CopyTo(g);
            LstmGates.Forward(h, g, bias, c, c, hh, default, false);
            if (i is 100 or 1000 or 5000 or 20000) { marks.Add($"{i}: {sw.Elapsed.TotalMilliseconds:F1} ms"); }
        }
        Console.WriteLine($"first steps (GEMV 256x64 + LSTM gates H=64): {string.Join(", ", marks)}");
    }
}
