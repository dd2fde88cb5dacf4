using RecurrentCore.Kernels;
using RecurrentCore.Layers;
using RecurrentCore.Reference;
using RecurrentCore.Tests.Reference;
using Xunit;
using static RecurrentCore.Tests.Layers.FastPathHarness;

namespace RecurrentCore.Tests.Quantized;

/// <summary>
/// Quantized layers on every variant and format: Forward and Step against the double reference on the weights the
/// kernels hold (<see cref="QuantizedLayer.DequantizedParameters"/>); streaming equals Forward bit for bit; no
/// allocation per step.
/// </summary>
[Trait("Category", "Kernels")]
public class QuantizedLayerTests
{
    private static readonly CellKind[] Cells = [CellKind.Lstm, CellKind.Gru, CellKind.RnnTanh, CellKind.RnnRelu];

    public static TheoryData<KernelVariant, CellKind, WeightFormat> Cases()
    {
        var data = new TheoryData<KernelVariant, CellKind, WeightFormat>();
        foreach (var v in KernelCatalog.Supported)
        {
            foreach (var cell in Cells)
            {
                foreach (var f in Enum.GetValues<WeightFormat>())
                {
                    data.Add(v, cell, f);
                }
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Forward_and_steps_match_the_reference_on_the_stored_weights(KernelVariant variant, CellKind cell, WeightFormat format)
    {
        var rng = new Random(23);
        var cfg = new RecurrentConfig(cell, 70, 37, numLayers: 2);
        var p = Parameters(cfg, rng, 0.3);
        const int T = 9, B = 2;
        var x = Round(RandomData.Normal(rng, T * B * cfg.InputSize));
        var h0 = Round(RandomData.Normal(rng, cfg.NumLayers * B * cfg.HiddenSize, 0.5));
        var c0 = cell == CellKind.Lstm ? Round(RandomData.Normal(rng, h0.Length, 0.5)) : null;

        var q = QuantizedLayer.FromParameters(p, format, variant);
        Assert.Equal(format, q.Format);
        var reference = ReferenceRnn.Forward(q.DequantizedParameters(), new SequenceInputs(T, B, x, h0, c0));
        var full = ReferenceRnn.Forward(p, new SequenceInputs(T, B, x, h0, c0));

        var ws = q.CreateStream(B);
        var y = new float[T * B * cfg.HiddenSize];
        var hN = new float[h0.Length];
        var cN = new float[c0?.Length ?? 0];
        q.Forward(ws, ToSingle(x), T, y, hN, cN, ToSingle(h0), c0 is null ? default : ToSingle(c0));

        // f32/bf16: only float32 arithmetic separates the kernels from the reference on the same weights. int8 also
        // quantizes x and h at every step (error ~ max|v|/254 per element, through the weights).
        double tol = format == WeightFormat.Int8 ? 8e-2 : 1e-5;
        double err = RelativeError(y, reference.Output);
        Assert.True(err <= tol, $"outputs vs reference on stored weights: {err:0.0e+0}");
        Assert.True(RelativeError(hN, reference.HN) <= tol, "h_n");
        if (c0 is not null)
        {
            Assert.True(RelativeError(cN, reference.CN) <= tol * 4, "c_n");
        }

        // Against the float32 weights: the format's own error, loose (bf16 keeps 8 bits of mantissa).
        double fullTol = format switch { WeightFormat.Float32 => 1e-5, WeightFormat.BFloat16 => 2e-2, _ => 8e-2 };
        Assert.True(RelativeError(y, full.Output) <= fullTol, $"outputs vs float32 weights: {RelativeError(y, full.Output):0.0e+0}");

        // Streaming the same steps gives the same bits.
        var stream = q.CreateStream(B);
        ToSingle(h0).CopyTo(stream.HiddenState);
        if (c0 is not null)
        {
            ToSingle(c0).CopyTo(stream.CellState);
        }

        var xs = ToSingle(x);
        var ys = new float[y.Length];
        int row = B * cfg.InputSize, outRow = B * cfg.HiddenSize;
        for (int t = 0; t < T; t++)
        {
            stream.Step(xs.AsSpan(t * row, row), ys.AsSpan(t * outRow, outRow));
        }

        Assert.Equal(y, ys);
    }

    [Fact]
    public void Float32_format_matches_the_float32_layer_stream()
    {
        var rng = new Random(4);
        var cfg = new RecurrentConfig(CellKind.Lstm, 33, 64);
        var p = Parameters(cfg, rng, 0.2);
        var layer = RecurrentLayer.FromParameters(p);
        var q = QuantizedLayer.FromLayer(layer, WeightFormat.Float32);
        var s1 = layer.CreateStream();
        var s2 = q.CreateStream();
        var x = ToSingle(RandomData.Normal(rng, cfg.InputSize));
        var y1 = new float[cfg.HiddenSize];
        var y2 = new float[cfg.HiddenSize];
        for (int t = 0; t < 20; t++)
        {
            s1.Step(x, y1);
            s2.Step(x, y2);
        }

        Assert.True(RelativeError(y2, Array.ConvertAll(y1, v => (double)v)) <= 1e-5);
    }

    public static TheoryData<CellKind, WeightFormat> Formats()
    {
        var data = new TheoryData<CellKind, WeightFormat>();
        foreach (var cell in Cells)
        {
            foreach (var f in Enum.GetValues<WeightFormat>())
            {
                data.Add(cell, f);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public void Step_and_forward_allocate_nothing(CellKind cell, WeightFormat format)
    {
        var cfg = new RecurrentConfig(cell, 40, 72, numLayers: 2);
        var q = QuantizedLayer.FromParameters(Parameters(cfg, new Random(1), 0.3), format);
        var stream = q.CreateStream(2);
        var x = new float[2 * cfg.InputSize];
        var y = new float[2 * cfg.HiddenSize];
        x.AsSpan().Fill(0.25f);
        AllocationAssert.Zero(() => stream.Step(x, y));
        var ws = q.CreateStream(2);
        var xs = new float[5 * x.Length];
        var ys = new float[5 * y.Length];
        AllocationAssert.Zero(() => q.Forward(ws, xs, 5, ys));
    }

    [Fact]
    public void Refuses_what_it_cannot_run()
    {
        var bi = RecurrentLayer.FromParameters(new RecurrentParameters(new RecurrentConfig(CellKind.Lstm, 3, 4, bidirectional: true)));
        var e = Assert.Throws<NotSupportedException>(() => QuantizedLayer.FromLayer(bi, WeightFormat.Int8));
        Assert.Contains("bidirectional", e.Message, StringComparison.Ordinal);

        var p = new RecurrentParameters(new RecurrentConfig(CellKind.Gru, 3, 4));
        p[0, 0, ParameterKind.WeightHh][5] = double.PositiveInfinity;
        Assert.Throws<ArgumentException>(() => QuantizedLayer.FromParameters(p, WeightFormat.Int8));

        var q = QuantizedLayer.FromParameters(new RecurrentParameters(new RecurrentConfig(CellKind.Gru, 3, 4)), WeightFormat.BFloat16);
        var s = q.CreateStream();
        var ex = Assert.Throws<ArgumentException>(() => s.Step(new float[2], new float[4]));
        Assert.Equal("x", ex.ParamName);
        Assert.Throws<ArgumentException>(() => q.Forward(QuantizedLayer.FromParameters(new RecurrentParameters(q.Config), WeightFormat.Int8).CreateStream(), new float[3], 1, new float[4]));
    }
}
