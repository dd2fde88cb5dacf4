using RecurrentCore.Layers;
using RecurrentCore.Tests.Reference;
using Xunit;

namespace RecurrentCore.Tests.Layers;

/// <summary>In-place weight updates plus RefreshWeights give the same bits as building a fresh layer from the new values.</summary>
public class RefreshWeightsTests
{
    [Theory]
    [InlineData(CellKind.Lstm)]
    [InlineData(CellKind.Gru)]
    [InlineData(CellKind.RnnTanh)]
    public void Refreshed_layer_equals_a_rebuilt_one(CellKind cell)
    {
        var rng = new Random(9);
        var cfg = new RecurrentConfig(cell, 5, 9, numLayers: 2, bidirectional: true);
        var p = FastPathHarness.Parameters(cfg, rng, 0.4);
        var layer = RecurrentLayer.FromParameters(p);
        var p2 = FastPathHarness.Parameters(cfg, rng, 0.4);
        FastPathHarness.Overwrite(layer, p2);

        layer.RefreshWeights();
        var rebuilt = RecurrentLayer.FromParameters(p2);
        const int T = 4, B = 3;
        var x = FastPathHarness.ToSingle(RandomData.Normal(rng, T * B * 5));
        var a = new float[T * B * cfg.OutputSize];
        var b = new float[a.Length];
        layer.Forward(layer.CreateWorkspace(T, B), x, T, B, a);
        rebuilt.Forward(rebuilt.CreateWorkspace(T, B), x, T, B, b);
        Assert.Equal(b, a);
    }

    /// <summary>
    /// One stream at small H steps through the fused one-row layouts (LSTM [W_ihᵀ; W_hhᵀ], GRU [r | z | n_x | n_h]),
    /// which RefreshWeights must re-derive too.
    /// </summary>
    [Theory]
    [InlineData(CellKind.Lstm, 9)]
    [InlineData(CellKind.Gru, 9)]
    [InlineData(CellKind.RnnTanh, 9)]
    [InlineData(CellKind.Lstm, 16)]
    [InlineData(CellKind.Gru, 16)]
    [InlineData(CellKind.Lstm, 32)]
    [InlineData(CellKind.Gru, 32)]
    public void Refreshed_stream_equals_a_rebuilt_one(CellKind cell, int hidden)
    {
        var rng = new Random(11);
        var cfg = new RecurrentConfig(cell, 5, hidden, numLayers: 2);
        var p = FastPathHarness.Parameters(cfg, rng, 0.4);
        var layer = RecurrentLayer.FromParameters(p);

        // A stream made before the change (H = 16, 32: its gate panels, biases included, are laid out now) must see the new
        // weights too.
        var early = layer.CreateStream();
        var p2 = FastPathHarness.Parameters(cfg, rng, 0.4);
        FastPathHarness.Overwrite(layer, p2);

        layer.RefreshWeights();
        var rebuilt = RecurrentLayer.FromParameters(p2);
        const int T = 4;
        var x = FastPathHarness.ToSingle(RandomData.Normal(rng, T * 5));
        var a = new float[T * cfg.OutputSize];
        var b = new float[a.Length];
        layer.CreateStream().Step(x, T, a);
        rebuilt.CreateStream().Step(x, T, b);
        Assert.Equal(b, a);
        early.Step(x, T, a);
        Assert.Equal(b, a);
    }
}
