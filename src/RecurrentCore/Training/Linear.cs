using System.Numerics.Tensors;
using RecurrentCore.Threading;

namespace RecurrentCore.Training;

/// <summary>
/// A dense layer over a batch of rows, PyTorch <c>nn.Linear</c>: <c>y = x·Wᵀ + b</c> with weight W of shape
/// (out, in) and bias b of shape (out), named <c>weight</c> and <c>bias</c>. Inputs and outputs are row-major
/// (rows, in) and (rows, out); "rows" is any flattening of the leading dimensions, e.g. T·B time steps.
/// </summary>
/// <remarks>
/// <para>Float32 throughout, on the GEMM kernels (<see cref="Kernels.Gemm"/>): forward and <c>dx</c> are
/// <see cref="Kernels.Gemm.MultiplyNotTransposed(ReadOnlySpan{float}, ReadOnlySpan{float}, int, int, int, Span{float}, bool)"/>
/// products split over rows, <c>dW</c> is one over output features (rows of <c>dyᵀ</c>, transposed into scratch), so
/// a trainer's threads (<see cref="Models.LanguageModelTrainer"/>) never split a reduction and every thread count
/// gives the same bits. Error: each output is a float32 reduction of length K (in for y, rows for dW, out for dx)
/// summed in chains of <see cref="Kernels.Gemm.DepthBlock"/>, so <c>|err| ≲ (min(K, 256) + K/256 + 1)·2⁻²⁴·Σ|terms|</c>
/// (docs/training.md); fewer than <see cref="GemmRows"/> rows take a dot-product path with the same bound.</para>
/// <para>Forward and backward read the current <see cref="Weight"/> values on every call (nothing to refresh after an
/// optimiser step) and allocate nothing once the calling thread's scratch has grown to the largest shape (one
/// per-thread buffer), so different threads may run the same layer at once.</para>
/// </remarks>
public sealed class Linear
{
    /// <summary>From this many rows on, forward runs as a GEMM (below it, one dot product per output).</summary>
    public const int GemmRows = 4;

    /// <summary>Rows (of x, or output features of dW) per thread part at least, so a part is worth its wake-up.</summary>
    private const int RowsPerPart = 32;

    /// <summary>Creates a zero-initialised layer (see <see cref="Initialization.PyTorchLinear"/> for PyTorch's init).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive.</exception>
    public Linear(int inFeatures, int outFeatures, bool bias = true)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(inFeatures, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(outFeatures, 1);
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        Weight = new Parameter("weight", [outFeatures, inFeatures]);
        Bias = bias ? new Parameter("bias", [outFeatures]) : null;
        Parameters = Bias is null ? new ParameterSet([Weight]) : new ParameterSet([Weight, Bias]);
    }

    /// <summary>Input features per row (in).</summary>
    public int InFeatures { get; }

    /// <summary>Output features per row (out).</summary>
    public int OutFeatures { get; }

    /// <summary>W, shape (out, in).</summary>
    public Parameter Weight { get; }

    /// <summary>b, shape (out); null when the layer has no bias.</summary>
    public Parameter? Bias { get; }

    /// <summary><c>weight</c> then <c>bias</c>, PyTorch order.</summary>
    public ParameterSet Parameters { get; }

    /// <summary>Forward: <c>y[r, o] = b[o] + Σᵢ x[r, i]·W[o, i]</c>.</summary>
    /// <param name="x">Input, (rows, in).</param>
    /// <param name="y">Output, (rows, out); overwritten. Must not overlap <paramref name="x"/>.</param>
    /// <param name="rows">Number of rows.</param>
    /// <exception cref="ArgumentException">A span length differs from its shape.</exception>
    public void Forward(ReadOnlySpan<float> x, Span<float> y, int rows) => Forward(x, y, rows, null);

    /// <summary>
    /// Backward: accumulates <c>dW += dyᵀ·x</c> and <c>db += Σ_r dy[r, ·]</c> into the parameter gradients and
    /// writes <c>dx = dy·W</c>.
    /// </summary>
    /// <param name="x">The forward input, (rows, in).</param>
    /// <param name="dy">∂loss/∂y, (rows, out).</param>
    /// <param name="dx">∂loss/∂x, (rows, in); overwritten. Pass an empty span to skip it (first layer).</param>
    /// <param name="rows">Number of rows.</param>
    /// <exception cref="ArgumentException">A span length differs from its shape.</exception>
    public void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx, int rows) => Backward(x, dy, dx, rows, null);

    /// <summary><see cref="Forward(ReadOnlySpan{float}, Span{float}, int)"/> with its rows split over <paramref name="pool"/>'s threads.</summary>
    internal unsafe void Forward(ReadOnlySpan<float> x, Span<float> y, int rows, WorkerPool? pool)
    {
        Check(x.Length, rows, InFeatures, nameof(x));
        Check(y.Length, rows, OutFeatures, nameof(y));
        ReadOnlySpan<float> w = Weight.Value.Span;
        ReadOnlySpan<float> b = Bias is null ? default : Bias.Value.Span;
        int n = InFeatures, m = OutFeatures;
        if (rows < GemmRows)
        {
            for (int r = 0; r < rows; r++)
            {
                var xr = x.Slice(r * n, n);
                var yr = y.Slice(r * m, m);
                for (int o = 0; o < m; o++)
                {
                    yr[o] = (b.IsEmpty ? 0f : b[o]) + TensorPrimitives.Dot(xr, w.Slice(o * n, n));
                }
            }

            return;
        }

        var work = LinearWork.ForThisThread;
        Span<float> wt = work.Scratch(n * m);
        Transpose(w, m, n, wt);
        fixed (float* px = x, py = y, pwt = wt, pb = b)
        {
            work.Set(LinearWork.Stage.Forward, rows, n, m, px, py, pwt, b.IsEmpty ? null : pb, null);
            work.Run(pool, Parts(rows, pool));
        }
    }

    /// <summary><see cref="Backward(ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, int)"/> split over <paramref name="pool"/>'s threads.</summary>
    internal unsafe void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx, int rows, WorkerPool? pool)
    {
        Check(x.Length, rows, InFeatures, nameof(x));
        Check(dy.Length, rows, OutFeatures, nameof(dy));
        if (!dx.IsEmpty)
        {
            Check(dx.Length, rows, InFeatures, nameof(dx));
        }

        if (rows == 0)
        {
            return;
        }

        int n = InFeatures, m = OutFeatures;
        var work = LinearWork.ForThisThread;
        Span<float> dyT = work.Scratch(m * rows);
        Span<float> dw = Weight.Grad.Span;
        Span<float> db = Bias is null ? default : Bias.Grad.Span;
        fixed (float* px = x, pdy = dy, pdyT = dyT, pdw = dw, pdb = db)
        {
            // dW and db over output features (each part transposes its columns of dy), then dx over rows.
            work.Set(LinearWork.Stage.WeightGradient, rows, n, m, px, pdy, pdyT, db.IsEmpty ? null : pdb, pdw);
            work.Run(pool, Parts(m, pool));
            if (!dx.IsEmpty)
            {
                fixed (float* pdx = dx, pw = Weight.Value.Span)
                {
                    work.Set(LinearWork.Stage.InputGradient, rows, n, m, pdy, pdx, pw, null, null);
                    work.Run(pool, Parts(rows, pool));
                }
            }
        }
    }

    private static int Parts(int count, WorkerPool? pool) => pool is null ? 1 : Math.Max(1, Math.Min(pool.Threads, count / RowsPerPart));

    /// <summary>(rows, cols) → (cols, rows).</summary>
    private static void Transpose(ReadOnlySpan<float> src, int rows, int cols, Span<float> dst)
    {
        for (int r = 0; r < rows; r++)
        {
            var s = src.Slice(r * cols, cols);
            for (int c = 0; c < cols; c++)
            {
                dst[(c * rows) + r] = s[c];
            }
        }
    }

    internal static void Check(int length, int rows, int width, string name)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        if (length != (long)rows * width)
        {
            throw new ArgumentException($"{name} has {length} elements; ({rows}, {width}) needs {(long)rows * width}.", name);
        }
    }
}
