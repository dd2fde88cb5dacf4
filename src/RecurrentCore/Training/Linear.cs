namespace RecurrentCore.Training;

/// <summary>
/// A dense layer over a batch of rows, PyTorch <c>nn.Linear</c>: <c>y = x·Wᵀ + b</c> with weight W of shape
/// (out, in) and bias b of shape (out), named <c>weight</c> and <c>bias</c>. Inputs and outputs are row-major
/// (rows, in) and (rows, out); "rows" is any flattening of the leading dimensions, e.g. T·B time steps.
/// Float32 storage, double accumulation. Forward and backward never allocate.
/// </summary>
public sealed class Linear
{
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
    /// <param name="y">Output, (rows, out); overwritten.</param>
    /// <param name="rows">Number of rows.</param>
    /// <exception cref="ArgumentException">A span length differs from its shape.</exception>
    public void Forward(ReadOnlySpan<float> x, Span<float> y, int rows)
    {
        Check(x.Length, rows, InFeatures, nameof(x));
        Check(y.Length, rows, OutFeatures, nameof(y));
        ReadOnlySpan<float> w = Weight.Value.Span;
        ReadOnlySpan<float> b = Bias is null ? default : Bias.Value.Span;
        int n = InFeatures;
        for (int r = 0; r < rows; r++)
        {
            var xr = x.Slice(r * n, n);
            for (int o = 0; o < OutFeatures; o++)
            {
                y[(r * OutFeatures) + o] = (float)((b.IsEmpty ? 0.0 : b[o]) + Dot(xr, w.Slice(o * n, n)));
            }
        }
    }

    /// <summary>
    /// Backward: accumulates <c>dW += dyᵀ·x</c> and <c>db += Σ_r dy[r, ·]</c> into the parameter gradients and
    /// writes <c>dx = dy·W</c>.
    /// </summary>
    /// <param name="x">The forward input, (rows, in).</param>
    /// <param name="dy">∂loss/∂y, (rows, out).</param>
    /// <param name="dx">∂loss/∂x, (rows, in); overwritten. Pass an empty span to skip it (first layer).</param>
    /// <param name="rows">Number of rows.</param>
    /// <exception cref="ArgumentException">A span length differs from its shape.</exception>
    public void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx, int rows)
    {
        Check(x.Length, rows, InFeatures, nameof(x));
        Check(dy.Length, rows, OutFeatures, nameof(dy));
        if (!dx.IsEmpty)
        {
            Check(dx.Length, rows, InFeatures, nameof(dx));
        }

        int n = InFeatures;
        int m = OutFeatures;
        Span<float> dw = Weight.Grad.Span;
        for (int o = 0; o < m; o++)
        {
            for (int i = 0; i < n; i++)
            {
                double s = 0;
                for (int r = 0; r < rows; r++)
                {
                    s += (double)dy[(r * m) + o] * x[(r * n) + i];
                }

                dw[(o * n) + i] += (float)s;
            }
        }

        if (Bias is not null)
        {
            Span<float> db = Bias.Grad.Span;
            for (int o = 0; o < m; o++)
            {
                double s = 0;
                for (int r = 0; r < rows; r++)
                {
                    s += dy[(r * m) + o];
                }

                db[o] += (float)s;
            }
        }

        if (!dx.IsEmpty)
        {
            ReadOnlySpan<float> w = Weight.Value.Span;
            for (int r = 0; r < rows; r++)
            {
                var dyr = dy.Slice(r * m, m);
                for (int i = 0; i < n; i++)
                {
                    double s = 0;
                    for (int o = 0; o < m; o++)
                    {
                        s += (double)dyr[o] * w[(o * n) + i];
                    }

                    dx[(r * n) + i] = (float)s;
                }
            }
        }
    }

    private static double Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++)
        {
            s += (double)a[i] * b[i];
        }

        return s;
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
