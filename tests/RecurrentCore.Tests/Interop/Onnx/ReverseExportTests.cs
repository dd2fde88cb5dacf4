using RecurrentCore.Interop.Onnx;
using RecurrentCore.Reference;
using RecurrentCore.Tests.Reference;
using Xunit;

namespace RecurrentCore.Tests.Interop.Onnx;

/// <summary>
/// Reverse-only stacks (<see cref="OnnxExportOptions.Reverse"/>): every node is written with direction = reverse; the
/// model runs on <c>OnnxModel.Load</c> as the reference forward on each
/// sequence reversed within its length (outputs reversed back), and on ONNX Runtime; taking its weights back out of
/// the loaded graph and exporting again gives the same bytes and bitwise the same outputs (import → export → import).
/// </summary>
public class ReverseExportTests
{
    [Theory]
    [InlineData(CellKind.Lstm, 2, false, true)]
    [InlineData(CellKind.Gru, 1, true, true)]
    [InlineData(CellKind.RnnTanh, 2, false, false)]
    public void Reverse_stack_round_trips_and_matches_the_reference_and_onnx_runtime(CellKind cell, int layers, bool batchFirst, bool bias)
    {
        var cfg = new RecurrentConfig(cell, 3, 5, layers, bias, batchFirst);
        var rng = new Random(17);
        var p = FloatParameters(cfg, rng);

        int t = 5, b = 3, states = layers * b * 5;
        int[] lengths = [5, 2, 4];
        var x = Round(RandomData.Normal(rng, t * b * 3));
        var h0 = Round(RandomData.Normal(rng, states));
        var c0 = Round(RandomData.Normal(rng, states));
        bool lstm = cell == CellKind.Lstm;
        var options = new OnnxExportOptions { Reverse = true, SequenceLens = true, InitialStates = true };
        byte[] a = OnnxModel.Export(p, options);

        var session = OnnxModel.Load(a, "reverse.onnx");
        Assert.All(session.RecurrentNodes, n => Assert.Equal(RecurrentDirection.Reverse, n.Spec!.Direction));
        var feeds = new Dictionary<string, OnnxTensor>(StringComparer.Ordinal)
        {
            [OnnxModel.Names.Input] = OnnxTensor.FromFloats(x, batchFirst ? [b, t, 3] : [t, b, 3]),
            [OnnxModel.Names.SequenceLens] = OnnxTensor.FromInt32s(lengths, b),
            [OnnxModel.Names.InitialH] = OnnxTensor.FromFloats(h0, layers, b, 5),
        };
        if (lstm)
        {
            feeds[OnnxModel.Names.InitialC] = OnnxTensor.FromFloats(c0, layers, b, 5);
        }

        var ours = session.Run(feeds);

        // The reference: a forward stack over each sequence reversed within its length, its outputs reversed back.
        var reversed = ReverseWithin(x, lengths, t, b, 3, batchFirst);
        var r = ReferenceRnn.Forward(p, new SequenceInputs(t, b, reversed, h0, lstm ? c0 : null, lengths));
        Close.Assert("output vs reference", ReverseWithin(r.Output, lengths, t, b, 5, batchFirst), ours[OnnxModel.Names.Output].Data, 1e-5);
        Close.Assert("h_n vs reference", r.HN, ours[OnnxModel.Names.HN].Data, 1e-5);

        var ortFeeds = new Dictionary<string, OrtTensor>(StringComparer.Ordinal)
        {
            [OnnxModel.Names.Input] = OrtTensor.Float(x, batchFirst ? [b, t, 3] : [t, b, 3]),
            [OnnxModel.Names.SequenceLens] = OrtTensor.Int32(lengths, b),
            [OnnxModel.Names.InitialH] = OrtTensor.Float(h0, layers, b, 5),
        };
        if (lstm)
        {
            ortFeeds[OnnxModel.Names.InitialC] = OrtTensor.Float(c0, layers, b, 5);
        }

        var ort = OrtRunner.Run(a, ortFeeds);
        Close.Assert("output vs ONNX Runtime", ort[OnnxModel.Names.Output].Values(), ours[OnnxModel.Names.Output].Data, 1e-5);
        Close.Assert("h_n vs ONNX Runtime", ort[OnnxModel.Names.HN].Values(), ours[OnnxModel.Names.HN].Data, 1e-5);
        if (lstm)
        {
            Close.Assert("c_n vs ONNX Runtime", ort[OnnxModel.Names.CN].Values(), ours[OnnxModel.Names.CN].Data, 1e-5);
        }

        // Import → export → import: the weights read back from the loaded graph export to the same model.
        var back = new RecurrentParameters(cfg);
        var init = session.Initializers.ToDictionary(e => e.Name, e => e.Value.Data, StringComparer.Ordinal);
        for (int l = 0; l < layers; l++)
        {
            OnnxGateOrder.LayerFromOnnx(back, l, init[$"W_l{l}"], init[$"R_l{l}"], bias ? init[$"B_l{l}"] : null);
        }

        byte[] again = OnnxModel.Export(back, options);
        Assert.Equal(a, again);
        var second = OnnxModel.Load(again, "again.onnx").Run(feeds);
        foreach (var (name, value) in ours)
        {
            Assert.Equal(value.Data, second[name].Data);
        }
    }

    [Theory]
    [InlineData(CellKind.Lstm, 2, false, true)]
    [InlineData(CellKind.Gru, 1, true, false)]
    [InlineData(CellKind.RnnRelu, 2, true, true)]
    public void Reverse_stack_imports_and_exports_back_bitwise_and_runs_as_onnx_runtime(CellKind cell, int layers, bool batchFirst, bool bias)
    {
        var cfg = new RecurrentConfig(cell, 3, 5, layers, bias, batchFirst);
        var rng = new Random(23);
        var p = FloatParameters(cfg, rng);

        var options = new OnnxExportOptions { Reverse = true, SequenceLens = true };
        byte[] a = OnnxModel.Export(p, options);
        var imported = OnnxModel.Import(a, "reverse.onnx");
        Assert.True(imported.Reverse);
        Assert.Equal(cfg, imported.Config);
        Assert.All(imported.Description.Nodes, n => Assert.Equal("reverse", n.Direction));
        foreach (var ((name, _, want), (_, _, got)) in p.Named().Zip(imported.Parameters.Named()))
        {
            Assert.True(want.SequenceEqual(got), $"{name} differs after import");
        }

        byte[] again = OnnxModel.Export(imported.Parameters, options with { Reverse = imported.Reverse });
        Assert.Equal(a, again);

        // What the imported stack computes, run from the re-exported bytes, against ONNX Runtime on the original.
        int t = 4, b = 3;
        int[] lengths = [4, 1, 3];
        var x = Round(RandomData.Normal(rng, t * b * 3));
        int[] xShape = batchFirst ? [b, t, 3] : [t, b, 3];
        var ours = OnnxModel.Load(again, "again.onnx").Run(new Dictionary<string, OnnxTensor>
        {
            [OnnxModel.Names.Input] = OnnxTensor.FromFloats(x, xShape),
            [OnnxModel.Names.SequenceLens] = OnnxTensor.FromInt32s(lengths, b),
        });
        var ort = OrtRunner.Run(a, new Dictionary<string, OrtTensor>
        {
            [OnnxModel.Names.Input] = OrtTensor.Float(x, [.. xShape.Select(d => (long)d)]),
            [OnnxModel.Names.SequenceLens] = OrtTensor.Int32(lengths, b),
        });
        foreach (string o in ours.Keys)
        {
            Close.Assert($"{o} vs ONNX Runtime", ort[o].Values(), ours[o].Data, 1e-5);
        }

        // A forward export of the same parameters imports as forward.
        Assert.False(OnnxModel.Import(OnnxModel.Export(p), "forward.onnx").Reverse);
    }

    [Fact]
    public void Stack_mixing_reverse_and_forward_layers_is_refused_in_one_line()
    {
        var p = RandomData.Parameters(new RecurrentConfig(CellKind.Gru, 3, 4, numLayers: 2), new Random(2), 0.5);
        var model = OnnxModelProto.Parse(OnnxModel.Export(p, new OnnxExportOptions { Reverse = true }), "m");
        var second = model.Graph!.Nodes.Where(n => n.OpType == "GRU").ElementAt(1);
        second.Attributes.RemoveAll(x => x.Name == "direction");
        second.Attributes.Add(OnnxAttributeProto.String("direction", "forward"));
        var e = Assert.Throws<InteropFormatException>(() => OnnxModel.Import(model.ToBytes(), "mixed.onnx"));
        Assert.StartsWith("mixed.onnx: node ", e.Message, StringComparison.Ordinal);
        Assert.Contains("(layer 1) differs from layer 0 in direction forward vs reverse", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void Reverse_of_a_bidirectional_stack_is_refused_in_one_line()
    {
        var p = RandomData.Parameters(new RecurrentConfig(CellKind.Lstm, 3, 4, bidirectional: true), new Random(1), 0.5);
        var e = Assert.Throws<ArgumentException>(() => OnnxModel.Export(p, new OnnxExportOptions { Reverse = true }));
        Assert.StartsWith("Reverse writes every layer with direction = reverse; a bidirectional stack already has its reverse direction", e.Message, StringComparison.Ordinal);
    }

    private static double[] Round(double[] a) => Array.ConvertAll(a, v => (double)(float)v);

    /// <summary>Random parameters rounded to float32, so an exported model holds them exactly.</summary>
    internal static RecurrentParameters FloatParameters(RecurrentConfig cfg, Random rng)
    {
        var p = RandomData.Parameters(cfg, rng, 0.6);
        foreach (var (_, _, data) in p.Named())
        {
            for (int i = 0; i < data.Length; i++)
            {
                data[i] = (float)data[i];
            }
        }

        return p;
    }

    /// <summary>Each sequence's first len steps in reverse order; padding stays in place.</summary>
    private static double[] ReverseWithin(double[] a, int[] lengths, int t, int b, int f, bool batchFirst)
    {
        var r = (double[])a.Clone();
        for (int bi = 0; bi < b; bi++)
        {
            for (int s = 0; s < lengths[bi]; s++)
            {
                int src = batchFirst ? (bi * t) + s : (s * b) + bi;
                int dst = batchFirst ? (bi * t) + (lengths[bi] - 1 - s) : ((lengths[bi] - 1 - s) * b) + bi;
                Array.Copy(a, src * f, r, dst * f, f);
            }
        }

        return r;
    }
}
