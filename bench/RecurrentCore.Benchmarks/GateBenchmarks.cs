using System.Globalization;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using RecurrentCore.Kernels;
using RecurrentCore.Kernels.Gates;

namespace RecurrentCore.Benchmarks;

/// <summary>
/// Fused LSTM/GRU gate kernels, forward (training: activations saved, biases added) and backward, per variant.
/// The GB/s column is the bytes each call must read and write (see <see cref="BytesPerCall"/>) over the median time.
/// Run: <c>dotnet run -c Release --project bench/RecurrentCore.Benchmarks -- --filter *GateBenchmarks* --inProcess</c>.
/// </summary>
[Config(typeof(Config))]
public class GateBenchmarks
{
    private float[] lstmGates = [];
    private float[] lstmBias = [];
    private float[] lstmDGates = [];
    private float[] gi = [];
    private float[] gh = [];
    private float[] bih = [];
    private float[] bhh = [];
    private float[] gruDGi = [];
    private float[] gruDGh = [];
    private float[] state = [];
    private float[] c = [];
    private float[] h = [];
    private float[] tanhC = [];
    private float[] dh = [];
    private float[] dc = [];
    private float[] dPrev = [];

    [Params(64, 256, 1024)]
    public int H { get; set; }

    [Params(1, 16)]
    public int B { get; set; }

    [ParamsSource(nameof(Variants))]
    public KernelVariant Variant { get; set; }

    public static IEnumerable<KernelVariant> Variants => KernelCatalog.Supported;

    /// <summary>Bytes read plus written by one call of <paramref name="method"/> (every stream counted once per row).</summary>
    public static long BytesPerCall(string method, int hidden, int batch) => sizeof(float) * (long)hidden * batch * method switch
    {
        // gates 4H + bias 4H + c_prev H read; gates 4H + c, h, tanh c written.
        nameof(LstmForward) => 16,
        // gates 4H + c_prev, tanh c, dh, dc read; dGates 4H + dc_prev written.
        nameof(LstmBackward) => 13,
        // gi, gh, b_ih, b_hh 3H each + h_prev read; r,z,n 3H + gh_n + h written.
        nameof(GruForward) => 20,
        // r,z,n 3H + gh_n, h_prev, dh read; dGi, dGh 3H each + dh_prev written.
        nameof(GruBackward) => 13,
        _ => 0,
    };

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(42);
        float[] R(int n)
        {
            var a = new float[n];
            for (int i = 0; i < n; i++)
            {
                a[i] = (float)((rng.NextDouble() * 4) - 2);
            }

            return a;
        }

        lstmGates = R(B * 4 * H);
        lstmBias = R(4 * H);
        lstmDGates = R(B * 4 * H);
        gi = R(B * 3 * H);
        gh = R(B * 3 * H);
        bih = R(3 * H);
        bhh = R(3 * H);
        gruDGi = R(B * 3 * H);
        gruDGh = R(B * 3 * H);
        state = R(B * H);
        c = R(B * H);
        h = R(B * H);
        tanhC = R(B * H);
        dh = R(B * H);
        dc = R(B * H);
        dPrev = R(B * H);
    }

    [Benchmark]
    public void LstmForward() =>
        LstmGates.Forward(B, H, lstmGates, 4 * H, lstmBias, state, H, c, H, h, H, tanhC, H, saveActivations: true, Variant);

    [Benchmark]
    public void LstmBackward() =>
        LstmGates.Backward(B, H, lstmGates, 4 * H, state, H, default, 0, tanhC, H, dh, H, dc, H, lstmDGates, 4 * H, dPrev, H, Variant);

    [Benchmark]
    public void GruForward() =>
        GruGates.Forward(B, H, gi, 3 * H, gh, 3 * H, bih, bhh, state, H, h, H, saveActivations: true, Variant);

    [Benchmark]
    public void GruBackward() =>
        GruGates.Backward(B, H, gi, 3 * H, gh.AsSpan(2 * H), 3 * H, state, H, dh, H, gruDGi, 3 * H, gruDGh, 3 * H, dPrev, H, Variant);

    private sealed class Config : ManualConfig
    {
        public Config()
        {
            AddColumn(new GigabytesPerSecondColumn());
            AddColumn(StatisticColumn.Median);
        }
    }

    /// <summary>Bytes read and written per call divided by the median time.</summary>
    private sealed class GigabytesPerSecondColumn : IColumn
    {
        public string Id => "GBps";

        public string ColumnName => "GB/s";

        public bool AlwaysShow => true;

        public ColumnCategory Category => ColumnCategory.Custom;

        public int PriorityInCategory => 0;

        public bool IsNumeric => true;

        public UnitType UnitType => UnitType.Dimensionless;

        public string Legend => "Bytes read + written per call / median time (bytes per ns)";

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
        {
            var stats = summary[benchmarkCase]?.ResultStatistics;
            if (stats is null)
            {
                return "-";
            }

            int hidden = (int)benchmarkCase.Parameters[nameof(H)];
            int batch = (int)benchmarkCase.Parameters[nameof(B)];
            long bytes = BytesPerCall(benchmarkCase.Descriptor.WorkloadMethod.Name, hidden, batch);
            return (bytes / stats.Median).ToString("F1", CultureInfo.InvariantCulture);
        }

        public bool IsAvailable(Summary summary) => true;

        public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    }
}
