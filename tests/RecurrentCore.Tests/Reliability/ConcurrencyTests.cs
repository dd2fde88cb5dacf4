using RecurrentCore.Layers;
using RecurrentCore.Tests.Reference;
using Xunit;
using Xunit.Abstractions;
using static RecurrentCore.Tests.Layers.FastPathHarness;

namespace RecurrentCore.Tests.Reliability;

/// <summary>
/// One <see cref="RecurrentLayer"/> shared by many threads, each with its own stream or workspace, gives bitwise the
/// results of running the same work one call after another. CI: 16 streams on 4 threads × 5,000 steps; with
/// RECURRENTCORE_LONG_TESTS=1: 64 streams on 8 threads × 100,000 steps.
/// </summary>
[Trait("Category", "Reliability")]
public class ConcurrencyTests(ITestOutputHelper log)
{
    private static readonly int Streams = LongTests.Pick(16, 64);
    private static readonly int Threads = LongTests.Pick(4, 8);
    private static readonly int Steps = LongTests.Pick(5_000, 100_000);

    public static TheoryData<CellKind> AllCells() => new(CellKind.Lstm, CellKind.Gru, CellKind.RnnTanh, CellKind.RnnRelu);

    [Theory]
    [MemberData(nameof(AllCells))]
    public void Streams_on_many_threads_sharing_one_layer_match_a_sequential_run_bitwise(CellKind cell)
    {
        const int I = 5, H = 16;
        var cfg = new RecurrentConfig(cell, I, H, numLayers: 2);
        var layer = RecurrentLayer.FromParameters(Parameters(cfg, new Random(51), cell == CellKind.RnnRelu ? 0.2 : 0.5));
        var inputs = ToSingle(RandomData.Normal(new Random(52), 1013 * I));

        var sequential = new ulong[Streams][];
        for (int s = 0; s < Streams; s++)
        {
            sequential[s] = RunStream(layer, inputs, s, 0, Steps, null);
        }

        var concurrent = new ulong[Streams][];
        var barrier = new Barrier(Threads);
        var threads = Enumerable.Range(0, Threads).Select(th => new Thread(() =>
        {
            // Each thread owns streams th, th + Threads, ...; it steps them round-robin in slices of 97 steps so
            // that every thread is inside Step at the same time as the others, on the same layer.
            var mine = Enumerable.Range(0, Streams).Where(s => s % Threads == th).ToArray();
            var states = mine.Select(_ => layer.CreateStream()).ToArray();
            var hashes = new ulong[mine.Length];
            barrier.SignalAndWait();
            for (int start = 0; start < Steps; start += 97)
            {
                int count = Math.Min(97, Steps - start);
                for (int k = 0; k < mine.Length; k++)
                {
                    hashes[k] = Hash(hashes[k], RunStream(layer, inputs, mine[k], start, count, states[k]));
                }
            }

            for (int k = 0; k < mine.Length; k++)
            {
                concurrent[mine[k]] = [hashes[k], .. Bits(states[k])];
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());

        for (int s = 0; s < Streams; s++)
        {
            // The sequential run hashes its outputs in the same 97-step slices.
            Assert.Equal(sequential[s], concurrent[s]);
        }

        log.WriteLine($"{cell}: {Streams} streams on {Threads} threads × {Steps} steps: bitwise equal");
    }

    [Theory]
    [MemberData(nameof(AllCells))]
    public void Concurrent_forward_and_backward_calls_with_separate_workspaces_match_sequential_calls(CellKind cell)
    {
        const int T = 12, B = 3, Calls = 24;
        var cfg = new RecurrentConfig(cell, 6, 20, numLayers: 2, bidirectional: true);
        var layer = RecurrentLayer.FromParameters(Parameters(cfg, new Random(53), 0.4));
        var rng = new Random(54);
        var inputs = Enumerable.Range(0, Calls).Select(_ => ToSingle(RandomData.Normal(rng, T * B * cfg.InputSize))).ToArray();
        var dy = ToSingle(RandomData.Normal(rng, T * B * cfg.OutputSize));

        float[] Work(int call)
        {
            var ws = layer.CreateWorkspace(T, B, training: call % 2 == 0);
            var y = new float[T * B * cfg.OutputSize];
            var hn = new float[cfg.NumLayers * cfg.NumDirections * B * cfg.HiddenSize];
            int[] lengths = [T, 1 + (call % T), T - 1];
            layer.Forward(ws, inputs[call], T, B, y, hn, lengths: lengths);
            if (!ws.Training)
            {
                return [.. y, .. hn];
            }

            var g = new RecurrentGradients(cfg);
            var dx = new float[inputs[call].Length];
            layer.Backward(ws, dy, default, default, g, dx);
            return [.. y, .. hn, .. dx, .. g.Named().SelectMany(t => t.Data)];
        }

        var sequential = Enumerable.Range(0, Calls).Select(Work).ToArray();
        var parallel = new float[Calls][];
        Parallel.For(0, Calls, new ParallelOptions { MaxDegreeOfParallelism = 8 }, call => parallel[call] = Work(call));
        for (int call = 0; call < Calls; call++)
        {
            Assert.Equal(sequential[call], parallel[call]);
        }
    }

    /// <summary>Steps stream <paramref name="s"/> through [start, start + count); returns the hash of its outputs, then its state's bits when fresh.</summary>
    private static ulong[] RunStream(RecurrentLayer layer, float[] inputs, int s, int start, int count, StreamState? state)
    {
        int i = layer.Config.InputSize, h = layer.Config.HiddenSize;
        bool fresh = state is null;
        if (fresh)
        {
            // Sequential reference: the whole run, hashed in the same 97-step slices as the threads.
            state = layer.CreateStream();
            ulong hash = 0;
            for (int st = 0; st < count; st += 97)
            {
                hash = Hash(hash, RunStream(layer, inputs, s, st, Math.Min(97, count - st), state));
            }

            return [hash, .. Bits(state)];
        }

        var y = new float[h];
        ulong sliceHash = 0;
        for (int t = start; t < start + count; t++)
        {
            // Each stream reads the input cycle at its own offset, so no two streams see the same sequence.
            int at = ((t + (s * 131)) % 1013) * i;
            state!.Step(inputs.AsSpan(at, i), y);
            foreach (float v in y)
            {
                sliceHash = (sliceHash * 1099511628211UL) ^ BitConverter.SingleToUInt32Bits(v);
            }
        }

        return [sliceHash];
    }

    private static ulong Hash(ulong acc, ulong[] slice) => (acc * 31) + slice[0];

    private static ulong[] Bits(StreamState state) =>
        [.. state.HiddenState.ToArray().Select(v => (ulong)BitConverter.SingleToUInt32Bits(v)), .. state.CellState.ToArray().Select(v => (ulong)BitConverter.SingleToUInt32Bits(v))];
}
