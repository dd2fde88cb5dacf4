using RecurrentCore.Peers;
using Xunit;

namespace RecurrentCore.Tests.Peers;

/// <summary>
/// The peer benchmark's engines on small shapes: ours and ONNX Runtime (the model our exporter writes, state carried by
/// swapped IoBindings in the step case) agree within the benchmark's tolerance, so its timings compare equal work.
/// </summary>
[Trait("Category", "Peers")]
public sealed class PeersSmokeTests
{
    [Theory]
    [InlineData(PeerMode.Step, CellKind.Lstm, 16, 1, 1)]
    [InlineData(PeerMode.Step, CellKind.Gru, 16, 1, 1)]
    [InlineData(PeerMode.Step, CellKind.RnnTanh, 8, 1, 1)]
    [InlineData(PeerMode.Sequence, CellKind.Lstm, 8, 3, 7)]
    [InlineData(PeerMode.Sequence, CellKind.Gru, 8, 3, 7)]
    internal void Ours_and_onnx_runtime_agree(PeerMode mode, CellKind cell, int hidden, int batch, int seqLen)
    {
        var data = new ScenarioData(new PeerScenario(mode, cell, hidden, batch, seqLen));
        using var ours = new OursEngine(data);
        using var ort = new OrtEngine(data);
        var expected = ours.Check();
        double err = PeerRunner.MaxError(expected, ort.Check(), ort.Name);
        Assert.True(err <= PeerRunner.Tolerance, $"max relative difference {err:E2}");

        // After timing calls (which carry the state), a second check starts again from zero.
        ort.Warm(0.001);
        ours.Warm(0.001);
        Assert.True(PeerRunner.MaxError(ours.Check(), ort.Check(), ort.Name) <= PeerRunner.Tolerance);
        Assert.Equal(expected["output"].Length, (mode == PeerMode.Step ? PeerScenario.CheckSteps : seqLen) * batch * hidden);
    }

    [Fact]
    public void Timing_and_report_cover_every_engine()
    {
        var scenario = new PeerScenario(PeerMode.Sequence, CellKind.Lstm, 8, 2, 5);
        var result = PeerRunner.Run(scenario, peers: null, Path.GetTempPath(), seconds: 0.02, rounds: 2, TextWriter.Null);
        Assert.True(result.Agrees);
        Assert.True(result.Ours.MedianNs > 0 && result.Ort!.MedianNs > 0);
        Assert.Null(result.Torch);
        string table = Table.Markdown([result]);
        Assert.Contains("LSTM seq T=5 B=2 H=8", table, StringComparison.Ordinal);
        Assert.Contains("ORT (peer / ours)", table, StringComparison.Ordinal);
    }

    /// <summary>
    /// The issue-11 peer: ONNX Runtime's com.microsoft.DynamicQuantizeLSTM on int8 per-channel weights built from the same
    /// parameters stays within the documented quantization bound of ours (float32), and is not float32 in disguise.
    /// </summary>
    [Theory]
    [InlineData(PeerMode.Step, 16, 1, 1)]
    [InlineData(PeerMode.Sequence, 24, 3, 9)]
    internal void Onnx_runtime_int8_lstm_is_within_its_quantization_bound(PeerMode mode, int hidden, int batch, int seqLen)
    {
        var data = new ScenarioData(new PeerScenario(mode, CellKind.Lstm, hidden, batch, seqLen));
        using var ours = new OursEngine(data);
        using var int8 = new OrtEngine(data, quantized: true);
        double err = PeerRunner.MaxError(ours.Check(), int8.Check(), int8.Name);
        Assert.True(err <= OrtEngine.QuantizedTolerance, $"max relative difference {err:E2}");
        Assert.True(err > 1e-5, $"max relative difference {err:E2}: the model is not quantized");
        int8.Warm(0.001);
        Assert.True(PeerRunner.MaxError(ours.Check(), int8.Check(), int8.Name) <= OrtEngine.QuantizedTolerance);
    }

    /// <summary>Issue 11's engines of ours: the bf16 and int8 layers stay within the quantization bound of ours float32 and are really quantized.</summary>
    [Theory]
    [InlineData(PeerMode.Step, CellKind.Lstm, WeightFormat.BFloat16)]
    [InlineData(PeerMode.Step, CellKind.Gru, WeightFormat.Int8)]
    [InlineData(PeerMode.Sequence, CellKind.Lstm, WeightFormat.Int8)]
    [InlineData(PeerMode.Sequence, CellKind.Gru, WeightFormat.BFloat16)]
    internal void Our_formats_are_within_their_quantization_bound(PeerMode mode, CellKind cell, WeightFormat format)
    {
        var data = new ScenarioData(new PeerScenario(mode, cell, 24, mode == PeerMode.Step ? 1 : 3, mode == PeerMode.Step ? 1 : 9));
        using var ours = new OursEngine(data);
        using var quantized = new OursFormatEngine(data, format);
        Assert.Equal(format == WeightFormat.Int8 ? "ours-int8" : "ours-bf16", quantized.Key);
        double err = PeerRunner.MaxError(ours.Check(), quantized.Check(), quantized.Name);
        Assert.True(err <= quantized.Tolerance, $"max relative difference {err:E2}");
        Assert.True(err > 1e-6, $"max relative difference {err:E2}: the layer is not quantized");
        quantized.Warm(0.001);
        Assert.True(PeerRunner.MaxError(ours.Check(), quantized.Check(), quantized.Name) <= quantized.Tolerance);
    }
}
