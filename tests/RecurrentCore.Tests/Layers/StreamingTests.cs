using RecurrentCore.Kernels;
using RecurrentCore.Layers;
using RecurrentCore.Reference;
using RecurrentCore.Tests.Reference;
using Xunit;
using static RecurrentCore.Tests.Layers.FastPathHarness;

namespace RecurrentCore.Tests.Layers;

/// <summary>Streaming steps against the reference sequence forward, and against themselves in chunks.</summary>
[Trait("Category", "Kernels")]
public class StreamingTests
{
    public static TheoryData<KernelVariant, CellKind, int, bool, int> Cases()
    {
        var data = new TheoryData<KernelVariant, CellKind, int, bool, int>();
        foreach (var v in KernelCatalog.Supported)
        {
            foreach (var cell in new[] { CellKind.Lstm, CellKind.Gru, CellKind.RnnTanh, CellKind.RnnRelu })
            {
                data.Add(v, cell, 1, true, 13);
                data.Add(v, cell, 3, true, 13);
            }

            // The GRU that resets before W_hn (ONNX linear_before_reset = 0).
            data.Add(v, CellKind.Gru, 1, false, 13);
            data.Add(v, CellKind.Gru, 3, false, 13);

            // One stream whose H fills whole registers of every width: the gates-from-panels step (LSTM, GRU) at
            // the column sizes (32, 48) and the row sizes (64, 80).
            foreach (int hidden in new[] { 32, 48, 64, 80 })
            {
                data.Add(v, CellKind.Lstm, 1, true, hidden);
                data.Add(v, CellKind.Gru, 1, true, hidden);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Steps_carry_state_like_a_sequence_forward(KernelVariant variant, CellKind cell, int batch, bool linearBeforeReset, int hidden)
    {
        var rng = new Random(17);
        var cfg = new RecurrentConfig(cell, 6, hidden, numLayers: 2) { LinearBeforeReset = linearBeforeReset };
        var p = Parameters(cfg, rng, 0.4);
        const int T = 12;
        var x = Round(RandomData.Normal(rng, T * batch * cfg.InputSize));
        var h0 = Round(RandomData.Normal(rng, cfg.NumLayers * batch * cfg.HiddenSize, 0.5));
        var c0 = cell == CellKind.Lstm ? Round(RandomData.Normal(rng, h0.Length, 0.5)) : null;
        var reference = ReferenceRnn.Forward(p, new SequenceInputs(T, batch, x, h0, c0));

        var layer = RecurrentLayer.FromParameters(p, variant);
        var stream = layer.CreateStream(batch);
        ToSingle(h0).CopyTo(stream.HiddenState);
        if (c0 is not null)
        {
            ToSingle(c0).CopyTo(stream.CellState);
        }

        var xs = ToSingle(x);
        var y = new float[T * batch * cfg.HiddenSize];
        int row = batch * cfg.InputSize, outRow = batch * cfg.HiddenSize;
        for (int t = 0; t < T; t++)
        {
            stream.Step(xs.AsSpan(t * row, row), y.AsSpan(t * outRow, outRow));
        }

        Assert.True(RelativeError(y, reference.Output) <= 1e-5, $"outputs {RelativeError(y, reference.Output):0.0e+0}");
        Assert.True(RelativeError(stream.HiddenState, reference.HN) <= 1e-5, "h_n");

        // The same steps as chunks of 5, 5 and 2 give the same bits.
        var chunked = layer.CreateStream(batch);
        ToSingle(h0).CopyTo(chunked.HiddenState);
        if (c0 is not null)
        {
            ToSingle(c0).CopyTo(chunked.CellState);
        }

        var y2 = new float[y.Length];
        int done = 0;
        foreach (int n in new[] { 5, 5, 2 })
        {
            chunked.Step(xs.AsSpan(done * row, n * row), n, y2.AsSpan(done * outRow, n * outRow));
            done += n;
        }

        Assert.Equal(y, y2);

        // Reset returns to the zero state: the next step equals a fresh stream's first step.
        chunked.Reset();
        var fresh = layer.CreateStream(batch);
        var a = new float[outRow];
        var b = new float[outRow];
        chunked.Step(xs.AsSpan(0, row), a);
        fresh.Step(xs.AsSpan(0, row), b);
        Assert.Equal(b, a);
    }

    [Fact]
    public void Bidirectional_layers_refuse_to_stream()
    {
        var layer = RecurrentLayer.FromParameters(new RecurrentParameters(new RecurrentConfig(CellKind.Gru, 2, 3, bidirectional: true)));
        var e = Assert.Throws<InvalidOperationException>(() => layer.CreateStream());
        Assert.Contains("bidirectional", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Wrong_step_sizes_name_the_argument()
    {
        var layer = RecurrentLayer.FromParameters(new RecurrentParameters(new RecurrentConfig(CellKind.Lstm, 2, 3)));
        var stream = layer.CreateStream(2);
        var e = Assert.Throws<ArgumentException>(() => stream.Step(new float[3], new float[6]));
        Assert.Equal("x", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => stream.Step(new float[4], new float[5]));
        Assert.Equal("y", e.ParamName);
    }
}
