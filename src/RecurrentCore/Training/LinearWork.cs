using System.Numerics.Tensors;
using RecurrentCore.Kernels;
using RecurrentCore.Threading;

namespace RecurrentCore.Training;

/// <summary>
/// One stage of a <see cref="Linear"/> forward or backward, cut into parts over whole output rows, with the calling
/// thread's scratch. Per thread (so concurrent callers never share it) and reused, so dispatch allocates nothing; the
/// pointers are valid only while the caller that set them keeps its spans pinned.
/// </summary>
internal sealed unsafe class LinearWork : IParallelWork
{
    [ThreadStatic]
    private static LinearWork? t_current;

    private float[] _scratch = [];
    private Stage _stage;
    private int _rows, _in, _out;
    private float* _a, _c, _b, _bias, _dw;

    public enum Stage
    {
        /// <summary>a = x (rows, in), b = Wᵀ (in, out), c = y (rows, out), bias (out) or null; split over rows.</summary>
        Forward,

        /// <summary>a = x (rows, in), c = dy (rows, out), b = dyᵀ scratch (out, rows), bias = db or null, dw = dW (out, in); split over out.</summary>
        WeightGradient,

        /// <summary>a = dy (rows, out), c = dx (rows, in), b = W (out, in); split over rows.</summary>
        InputGradient,
    }

    public static LinearWork ForThisThread => t_current ??= new LinearWork();

    /// <summary>This thread's scratch of at least <paramref name="count"/> floats (grows, never shrinks).</summary>
    public Span<float> Scratch(int count)
    {
        if (_scratch.Length < count)
        {
            _scratch = GC.AllocateUninitializedArray<float>(count);
        }

        return _scratch.AsSpan(0, count);
    }

    public void Set(Stage stage, int rows, int inFeatures, int outFeatures, float* a, float* c, float* b, float* bias, float* dw)
    {
        _stage = stage;
        _rows = rows;
        _in = inFeatures;
        _out = outFeatures;
        _a = a;
        _c = c;
        _b = b;
        _bias = bias;
        _dw = dw;
    }

    public void Run(WorkerPool? pool, int parts)
    {
        if (pool is null || parts <= 1)
        {
            Execute(0, 1);
        }
        else
        {
            pool.Run(this, parts);
        }
    }

    public void Execute(int part, int parts)
    {
        int count = _stage == Stage.WeightGradient ? _out : _rows;
        int start = (int)((long)count * part / parts), end = (int)((long)count * (part + 1) / parts);
        if (end <= start)
        {
            return;
        }

        switch (_stage)
        {
            case Stage.Forward: ForwardRows(start, end); break;
            case Stage.WeightGradient: WeightGradientRows(start, end); break;
            default: InputGradientRows(start, end); break;
        }
    }

    private void ForwardRows(int r0, int r1)
    {
        int r = r1 - r0, n = _in, m = _out;
        var y = new Span<float>(_c + ((nint)r0 * m), r * m);
        if (_bias != null)
        {
            var bias = new ReadOnlySpan<float>(_bias, m);
            for (int i = 0; i < r; i++)
            {
                bias.CopyTo(y.Slice(i * m, m));
            }
        }

        Gemm.MultiplyNotTransposed(new ReadOnlySpan<float>(_a + ((nint)r0 * n), r * n), new ReadOnlySpan<float>(_b, n * m), r, n, m, y, accumulate: _bias != null);
    }

    private void WeightGradientRows(int o0, int o1)
    {
        int rows = _rows, n = _in, m = _out, o = o1 - o0;

        // dyᵀ rows o0..o1 from columns o0..o1 of dy, blocked over rows so both sides stay in cache.
        float* dyT = _b + ((nint)o0 * rows);
        const int Block = 64;
        for (int rb = 0; rb < rows; rb += Block)
        {
            int re = Math.Min(rows, rb + Block);
            for (int j = 0; j < o; j++)
            {
                float* src = _c + o0 + j;
                float* dst = dyT + ((nint)j * rows);
                for (int i = rb; i < re; i++)
                {
                    dst[i] = src[(nint)i * m];
                }
            }
        }

        if (_bias != null)
        {
            for (int j = 0; j < o; j++)
            {
                _bias[o0 + j] += TensorPrimitives.Sum(new ReadOnlySpan<float>(dyT + ((nint)j * rows), rows));
            }
        }

        Gemm.MultiplyNotTransposed(
            new ReadOnlySpan<float>(dyT, o * rows), new ReadOnlySpan<float>(_a, rows * n), o, rows, n, new Span<float>(_dw + ((nint)o0 * n), o * n), accumulate: true);
    }

    private void InputGradientRows(int r0, int r1)
    {
        int r = r1 - r0, n = _in, m = _out;
        Gemm.MultiplyNotTransposed(
            new ReadOnlySpan<float>(_a + ((nint)r0 * m), r * m), new ReadOnlySpan<float>(_b, m * n), r, m, n, new Span<float>(_c + ((nint)r0 * n), r * n), accumulate: false);
    }
}
