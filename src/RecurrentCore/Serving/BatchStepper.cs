using RecurrentCore.Layers;

namespace RecurrentCore.Serving;

/// <summary>
/// One worker's batched step by gather/scatter: the k sessions of a batch are copied into rows 0..k−1 of a
/// <see cref="StreamState"/> of a bucketed batch size, stepped as one product, and copied back.
/// </summary>
/// <remarks>
/// Every bucket has at least two rows, so every step runs the batched product (GEMM), never the one-row GEMV: a GEMM
/// row's bits depend on the shapes and the variant only, never on the other rows or the row count, so a session's
/// outputs do not depend on which sessions share its batch. Rows past k hold stale but finite values and are ignored.
/// Buckets are exact up to 8 rows and multiples of 8 above, so at most 7 padding rows are stepped.
/// </remarks>
internal sealed class BatchStepper
{
    private readonly StreamState?[] _bySize; // index: batch rows
    private readonly int[] _bucketOf;        // k → rows stepped
    private readonly float[] _x;
    private readonly float[] _y;
    private readonly int _layers;
    private readonly int _input;
    private readonly int _hidden;
    private readonly bool _hasCell;

    public BatchStepper(RecurrentLayer layer, int maxBatch)
    {
        var cfg = layer.Config;
        _layers = cfg.NumLayers;
        _input = cfg.InputSize;
        _hidden = cfg.HiddenSize;
        _hasCell = cfg.Cell == CellKind.Lstm;
        _bucketOf = new int[maxBatch + 1];
        int largest = 2;
        for (int k = 1; k <= maxBatch; k++)
        {
            _bucketOf[k] = Bucket(k, maxBatch);
            largest = Math.Max(largest, _bucketOf[k]);
        }

        _bySize = new StreamState?[largest + 1];
        for (int k = 1; k <= maxBatch; k++)
        {
            int b = _bucketOf[k];
            _bySize[b] ??= layer.CreateStream(b);
        }

        _x = new float[largest * _input];
        _y = new float[largest * _hidden];
    }

    /// <summary>The rows stepped for a batch of k sessions.</summary>
    public static int Bucket(int k, int maxBatch)
    {
        if (k <= 2)
        {
            return 2;
        }

        return k <= 8 ? k : Math.Max(k, Math.Min((k + 7) & ~7, maxBatch));
    }

    /// <summary>Steps <c>slots[0..count)</c> as one batch: their x in, their y and new states out.</summary>
    public void Step(SessionSlot[] slots, int count)
    {
        int b = _bucketOf[count];
        var stream = _bySize[b]!;
        int h = _hidden, inSize = _input;
        var hs = stream.HiddenState;
        var cs = stream.CellState;
        for (int r = 0; r < count; r++)
        {
            var s = slots[r];
            s.X.CopyTo(_x.AsSpan(r * inSize, inSize));
            for (int l = 0; l < _layers; l++)
            {
                s.H.AsSpan(l * h, h).CopyTo(hs.Slice(((l * b) + r) * h, h));
                if (_hasCell)
                {
                    s.C.AsSpan(l * h, h).CopyTo(cs.Slice(((l * b) + r) * h, h));
                }
            }
        }

        stream.Step(_x.AsSpan(0, b * inSize), _y.AsSpan(0, b * h));

        for (int r = 0; r < count; r++)
        {
            var s = slots[r];
            _y.AsSpan(r * h, h).CopyTo(s.Y);
            for (int l = 0; l < _layers; l++)
            {
                hs.Slice(((l * b) + r) * h, h).CopyTo(s.H.AsSpan(l * h, h));
                if (_hasCell)
                {
                    cs.Slice(((l * b) + r) * h, h).CopyTo(s.C.AsSpan(l * h, h));
                }
            }
        }
    }
}
