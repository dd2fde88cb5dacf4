using System.Globalization;
using RecurrentCore.Interop.Onnx;
using RecurrentCore.Layers;
using RecurrentCore.Reference;
using RecurrentCore.Tests.Kernels;
using RecurrentCore.Tests.Reference;
using Xunit;
using Xunit.Abstractions;

namespace RecurrentCore.Tests.Interop.Onnx;

/// <summary>
/// An int8 LSTM exported as com.microsoft.DynamicQuantizeLSTM and run by ONNX Runtime 1.31.1 in process. The weights
/// are exported exactly, so ORT's outputs sit within int8 activation-quantization noise of the double reference on the
/// stored weights (<see cref="QuantizedLayer.DequantizedParameters"/>), as this library's int8 layer does; ORT quantizes
/// the activations differently (uint8 with a zero point; X over the whole call, h per step over the batch), so the
/// two are not bit for bit equal. bf16 and int8 GRU/RNN are refused.
/// </summary>
public class OnnxQuantizedExportTests(ITestOutputHelper log)
{
    public static TheoryData<int, int, int, bool, bool> Cases() => new()
    {
        // layers, hidden, batch, bias, batch-first
        { 1, 16, 1, true, false },
        { 2, 24, 3, true, false },
        { 1, 64, 2, false, true },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Ort_runs_the_exported_int8_lstm_within_int8_noise_of_the_reference_on_the_stored_weights(int layers, int hidden, int batch, bool bias, bool batchFirst)
    {
        var rng = new Random(hidden + layers);
        var cfg = new RecurrentConfig(CellKind.Lstm, 12, hidden, layers, bias, batchFirst);
        var p = StandardInit(cfg, rng);
        const int T = 20;
        var x = Close.ToFloat(RandomData.Normal(rng, T * batch * cfg.InputSize));
        var h0 = Close.ToFloat(RandomData.Normal(rng, layers * batch * hidden, 0.3));
        var c0 = Close.ToFloat(RandomData.Normal(rng, layers * batch * hidden, 0.3));
        var lengths = Enumerable.Range(0, batch).Select(_ => T).ToArray();

        var q = QuantizedLayer.FromParameters(p, WeightFormat.Int8);
        var ort = OrtRunner.Run(
            q.ToOnnx(new OnnxExportOptions { SequenceLens = true, InitialStates = true }),
            new Dictionary<string, OrtTensor>
            {
                [OnnxModel.Names.Input] = OrtTensor.Float(x, batchFirst ? [batch, T, 12] : [T, batch, 12]),
                [OnnxModel.Names.SequenceLens] = OrtTensor.Int32(lengths, batch),
                [OnnxModel.Names.InitialH] = OrtTensor.Float(h0, layers, batch, hidden),
                [OnnxModel.Names.InitialC] = OrtTensor.Float(c0, layers, batch, hidden),
            });
        var seq = new SequenceInputs(T, batch, x, h0, c0);
        var stored = ReferenceRnn.Forward(q.DequantizedParameters(), seq);
        var full = ReferenceRnn.Forward(p, seq);

        var ours = new float[T * batch * hidden];
        q.Forward(q.CreateStream(batch), x.Select(v => (float)v).ToArray(), T, ours, default, default, h0.Select(v => (float)v).ToArray(), c0.Select(v => (float)v).ToArray());
        var oursD = Array.ConvertAll(ours, v => (double)v);

        double ortVsStored = MaxAbs(ort[OnnxModel.Names.Output].Values(), stored.Output);
        double oursVsStored = MaxAbs(oursD, stored.Output);
        double ortVsOurs = MaxAbs(ort[OnnxModel.Names.Output].Values(), oursD);
        double storedVsFull = MaxAbs(stored.Output, full.Output);
        log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"L={layers} H={hidden} B={batch}: max|ORT − ref(stored)| {ortVsStored:0.0e+0}, max|ours − ref(stored)| {oursVsStored:0.0e+0}, max|ORT − ours| {ortVsOurs:0.0e+0}, max|ref(stored) − ref(float)| {storedVsFull:0.0e+0}"));

        // Outputs are in (−1, 1). Both int8 implementations carry activation noise of the same order (a few 1e-3 here);
        // a wrong gate order, transposition or scale would be off by O(0.1–1).
        Assert.True(ortVsStored <= 2e-2, $"ORT vs reference on the stored weights: {ortVsStored:0.0e+0}");
        Assert.True(oursVsStored <= 2e-2, $"ours vs reference on the stored weights: {oursVsStored:0.0e+0}");
        Assert.True(MaxAbs(ort[OnnxModel.Names.HN].Values(), stored.HN) <= 2e-2, "h_n");
        Assert.True(MaxAbs(ort[OnnxModel.Names.CN].Values(), stored.CN!) <= 4e-2, "c_n");
    }

    [Fact]
    public void Float32_format_exports_the_float_graph()
    {
        var cfg = new RecurrentConfig(CellKind.Gru, 3, 5, numLayers: 2);
        var p = StandardInit(cfg, new Random(1));
        var options = new OnnxExportOptions { InitialStates = true };
        Assert.Equal(OnnxModel.Export(p, options), QuantizedLayer.FromParameters(p, WeightFormat.Float32).ToOnnx(options));
    }

    [Fact]
    public void The_exported_int8_graph_is_refused_by_load_and_import_in_one_line()
    {
        var q = QuantizedLayer.FromParameters(StandardInit(new RecurrentConfig(CellKind.Lstm, 3, 4), new Random(2)), WeightFormat.Int8);
        byte[] model = q.ToOnnx();
        InteropAssert.Fails(() => OnnxModel.Import(model, "q.onnx"), "q.onnx", "DynamicQuantizeLSTM");
        InteropAssert.Fails(() => OnnxModel.Load(model, "q.onnx"), "q.onnx");
    }

    [Theory]
    [InlineData(CellKind.Gru, WeightFormat.Int8, "DynamicQuantizeLSTM")]
    [InlineData(CellKind.RnnTanh, WeightFormat.Int8, "int8 rnn-tanh")]
    [InlineData(CellKind.Lstm, WeightFormat.BFloat16, "bf16 weights cannot be exported")]
    public void Formats_onnx_runtime_cannot_compute_are_refused_in_one_line(CellKind cell, WeightFormat format, string words)
    {
        var q = QuantizedLayer.FromParameters(StandardInit(new RecurrentConfig(cell, 3, 4), new Random(2)), format);
        var e = Assert.Throws<NotSupportedException>(() => q.ToOnnx());
        Assert.Contains(words, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    /// <summary>
    /// The measured differences for docs/onnx.md (RECURRENTCORE_QUANT_REPORT=1): standard-initialised LSTM, I = H,
    /// B = 1, T = 100, x ~ N(0, 1), zero initial state.
    /// </summary>
    [EnvironmentFact("RECURRENTCORE_QUANT_REPORT")]
    public void Ort_difference_report()
    {
        var lines = new List<string> { "| H | ORT − ref(stored) | ours − ref(stored) | ORT − ours | ORT − ref(float32) | ours − ref(float32) |", "|---|---|---|---|---|---|" };
        foreach (int h in new[] { 64, 256, 1024 })
        {
            var rng = new Random(h);
            var cfg = new RecurrentConfig(CellKind.Lstm, h, h);
            var p = StandardInit(cfg, rng);
            const int T = 100;
            var x = Close.ToFloat(RandomData.Normal(rng, T * h));
            var q = QuantizedLayer.FromParameters(p, WeightFormat.Int8);
            var ort = OrtRunner.Run(q.ToOnnx(), new Dictionary<string, OrtTensor> { [OnnxModel.Names.Input] = OrtTensor.Float(x, T, 1, h) })[OnnxModel.Names.Output].Values();
            var seq = new SequenceInputs(T, 1, x);
            var stored = ReferenceRnn.Forward(q.DequantizedParameters(), seq).Output;
            var full = ReferenceRnn.Forward(p, seq).Output;
            var ours = new float[T * h];
            q.Forward(q.CreateStream(), x.Select(v => (float)v).ToArray(), T, ours);
            var o = Array.ConvertAll(ours, v => (double)v);
            lines.Add(string.Create(CultureInfo.InvariantCulture, $"| {h} | {MaxAbs(ort, stored):0.0e+0} | {MaxAbs(o, stored):0.0e+0} | {MaxAbs(ort, o):0.0e+0} | {MaxAbs(ort, full):0.0e+0} | {MaxAbs(o, full):0.0e+0} |"));
        }

        File.WriteAllLines(Path.Combine(Path.GetTempPath(), "recurrentcore-quant-onnx.md"), lines);
        foreach (var l in lines)
        {
            log.WriteLine(l);
        }
    }

    private static RecurrentParameters StandardInit(RecurrentConfig cfg, Random rng)
    {
        var p = new RecurrentParameters(cfg);
        double bound = 1 / Math.Sqrt(cfg.HiddenSize);
        foreach (var (_, _, data) in p.Named())
        {
            for (int i = 0; i < data.Length; i++)
            {
                data[i] = (float)(bound * ((2 * rng.NextDouble()) - 1));
            }
        }

        return p;
    }

    private static double MaxAbs(double[] a, double[] b)
    {
        Assert.Equal(a.Length, b.Length);
        double m = 0;
        for (int i = 0; i < a.Length; i++)
        {
            m = Math.Max(m, Math.Abs(a[i] - b[i]));
        }

        return m;
    }
}
