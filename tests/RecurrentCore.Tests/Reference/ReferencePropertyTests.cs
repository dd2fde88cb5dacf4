using RecurrentCore.Reference;
using Xunit;

namespace RecurrentCore.Tests.Reference;

/// <summary>Identities the reference must satisfy, each checked against an independent rearrangement of the data.</summary>
public class ReferencePropertyTests
{
    [Theory]
    [InlineData(CellKind.Lstm)]
    [InlineData(CellKind.Gru)]
    [InlineData(CellKind.RnnTanh)]
    public void Batch_first_is_a_transpose_of_time_major(CellKind cell)
    {
        var rng = new Random(7);
        var cfg = new RecurrentConfig(cell, 3, 5, numLayers: 2, bidirectional: true);
        var p = RandomData.Parameters(cfg, rng, 0.7);
        const int T = 4, B = 3;
        var x = RandomData.Normal(rng, T * B * 3);
        int[] lengths = [4, 2, 3];
        var tm = ReferenceRnn.Forward(p, new SequenceInputs(T, B, x, Lengths: lengths));

        var pbf = new RecurrentParameters(cfg with { BatchFirst = true });
        foreach (var ((_, _, dst), (_, _, src)) in pbf.Named().Zip(p.Named()))
        {
            src.CopyTo(dst, 0);
        }

        var bf = ReferenceRnn.Forward(pbf, new SequenceInputs(T, B, Transpose(x, T, B, 3), Lengths: lengths));
        Assert.Equal(Transpose(tm.Output, T, B, cfg.OutputSize), bf.Output);
        Assert.Equal(tm.HN, bf.HN);
    }

    [Theory]
    [InlineData(CellKind.Lstm)]
    [InlineData(CellKind.Gru)]
    [InlineData(CellKind.RnnRelu)]
    public void Variable_length_entry_equals_running_it_alone_truncated(CellKind cell)
    {
        var rng = new Random(11);
        var cfg = new RecurrentConfig(cell, 2, 4, bidirectional: true);
        var p = RandomData.Parameters(cfg, rng, 0.9);
        const int T = 5, B = 2;
        var x = RandomData.Normal(rng, T * B * 2);
        var batched = ReferenceRnn.Forward(p, new SequenceInputs(T, B, x, Lengths: [3, 5]));

        // Entry 0 alone, only its first 3 steps: same outputs there, zeros after, same h_n.
        var alone = new double[3 * 2];
        for (int t = 0; t < 3; t++)
        {
            alone[t * 2] = x[(t * B * 2) + 0];
            alone[(t * 2) + 1] = x[(t * B * 2) + 1];
        }

        var single = ReferenceRnn.Forward(p, new SequenceInputs(3, 1, alone));
        int f = cfg.OutputSize;
        for (int t = 0; t < T; t++)
        {
            for (int j = 0; j < f; j++)
            {
                double expected = t < 3 ? single.Output[(t * f) + j] : 0.0;
                Assert.Equal(expected, batched.Output[(((t * B) + 0) * f) + j]);
            }
        }

        for (int d = 0; d < 2; d++)
        {
            for (int j = 0; j < 4; j++)
            {
                Assert.Equal(single.HN[(d * 4) + j], batched.HN[(((d * B) + 0) * 4) + j]);
            }
        }
    }

    [Fact]
    public void Reverse_direction_is_the_forward_cell_on_the_reversed_sequence()
    {
        var rng = new Random(3);
        var bi = new RecurrentConfig(CellKind.Gru, 3, 4, bidirectional: true);
        var p = RandomData.Parameters(bi, rng, 0.8);
        const int T = 6;
        var x = RandomData.Normal(rng, T * 3);
        var both = ReferenceRnn.Forward(p, new SequenceInputs(T, 1, x));

        var uni = new RecurrentParameters(bi with { Bidirectional = false });
        foreach (var kind in RecurrentParameters.Kinds)
        {
            p[0, 1, kind].CopyTo(uni[0, 0, kind], 0);
        }

        var reversed = new double[x.Length];
        for (int t = 0; t < T; t++)
        {
            x.AsSpan((T - 1 - t) * 3, 3).CopyTo(reversed.AsSpan(t * 3));
        }

        var rev = ReferenceRnn.Forward(uni, new SequenceInputs(T, 1, reversed));
        for (int t = 0; t < T; t++)
        {
            for (int j = 0; j < 4; j++)
            {
                Assert.Equal(rev.Output[((T - 1 - t) * 4) + j], both.Output[(t * 8) + 4 + j]);
            }
        }
    }

    [Fact]
    public void Bad_lengths_and_sizes_are_refused_with_the_name_of_the_input()
    {
        var cfg = new RecurrentConfig(CellKind.Lstm, 2, 3);
        var p = new RecurrentParameters(cfg);
        var e = Assert.Throws<ArgumentException>(() => ReferenceRnn.Forward(p, new SequenceInputs(2, 1, new double[4], Lengths: [3])));
        Assert.Contains("lengths[0] = 3 is outside 1..2", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<ArgumentException>(() => ReferenceRnn.Forward(p, new SequenceInputs(2, 1, new double[5])));
        Assert.Contains("input has 5 values, expected 4", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<ArgumentException>(() => ReferenceRnn.Forward(new RecurrentParameters(cfg with { Cell = CellKind.Gru }), new SequenceInputs(2, 1, new double[4], C0: new double[3])));
        Assert.Contains("only an LSTM has a cell state", e.Message, StringComparison.Ordinal);
    }

    private static double[] Transpose(double[] a, int d0, int d1, int f)
    {
        var r = new double[a.Length];
        for (int i = 0; i < d0; i++)
        {
            for (int j = 0; j < d1; j++)
            {
                a.AsSpan(((i * d1) + j) * f, f).CopyTo(r.AsSpan(((j * d0) + i) * f));
            }
        }

        return r;
    }
}
