using System.Runtime.CompilerServices;
using RecurrentCore.Kernels.Operators;
using RecurrentCore.Kernels.Simd;

namespace RecurrentCore.Kernels.Gates;

/// <summary>The nonlinearity of an Elman RNN cell, as PyTorch's <c>nonlinearity</c> argument.</summary>
internal enum RnnNonlinearity
{
    /// <summary><c>h = tanh(a)</c>.</summary>
    Tanh,

    /// <summary><c>h = max(0, a)</c>.</summary>
    Relu,
}

/// <summary>
/// Elman RNN pointwise kernels, forward and backward side by side: <c>h = φ(a + b)</c> with φ = tanh or relu;
/// backward <c>da = dh⊙(1 − h²)</c> for tanh, <c>da = dh⊙[h &gt; 0]</c> for relu (zero at exactly 0, as PyTorch).
/// One pass, no allocation; batch overloads take B rows with a row stride per buffer.
/// </summary>
internal static unsafe class ElmanGates
{
    /// <summary>Elman forward for one row.</summary>
    /// <param name="hiddenSize">H.</param>
    /// <param name="a">[H] pre-activation <c>W_ih·x + W_hh·h_prev</c>.</param>
    /// <param name="bias">[H] <c>b_ih + b_hh</c>, or empty.</param>
    /// <param name="h">[H] receives φ(a + b); may be the same span as <paramref name="a"/>.</param>
    /// <param name="nonlinearity">φ.</param>
    /// <param name="variant">The kernel variant; <see cref="KernelCatalog.Active"/> when null.</param>
    /// <exception cref="ArgumentException">A span has the wrong length, or the variant is unsupported.</exception>
    public static void Forward(int hiddenSize, ReadOnlySpan<float> a, ReadOnlySpan<float> bias, Span<float> h, RnnNonlinearity nonlinearity, KernelVariant? variant = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(hiddenSize);
        Shapes.Row(a.Length, hiddenSize, nameof(a));
        Shapes.Row(h.Length, hiddenSize, nameof(h));
        Forward(1, hiddenSize, a, hiddenSize, bias, h, hiddenSize, nonlinearity, variant);
    }

    /// <summary>Elman forward for <paramref name="batch"/> rows.</summary>
    /// <param name="batch">B.</param>
    /// <param name="hiddenSize">H.</param>
    /// <param name="a">B rows of [H].</param>
    /// <param name="aStride">Row stride of <paramref name="a"/>.</param>
    /// <param name="bias">[H] shared by every row, or empty.</param>
    /// <param name="h">B rows of [H]; may be the same memory as <paramref name="a"/> with the same stride.</param>
    /// <param name="hStride">Row stride of <paramref name="h"/>.</param>
    /// <param name="nonlinearity">φ.</param>
    /// <param name="variant">The kernel variant; <see cref="KernelCatalog.Active"/> when null.</param>
    /// <exception cref="ArgumentException">A buffer is too short or a stride too small, or the variant is unsupported.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is negative or the nonlinearity unknown.</exception>
    public static void Forward(
        int batch, int hiddenSize, ReadOnlySpan<float> a, int aStride, ReadOnlySpan<float> bias, Span<float> h, int hStride,
        RnnNonlinearity nonlinearity, KernelVariant? variant = null)
    {
        var v = Variants.Resolve(variant);
        Shapes.Dimensions(batch, hiddenSize);
        Shapes.Rows(a.Length, batch, hiddenSize, aStride, nameof(a));
        Shapes.OptionalVector(bias.Length, hiddenSize, nameof(bias));
        Shapes.Rows(h.Length, batch, hiddenSize, hStride, nameof(h));
        fixed (float* pa = a)
        fixed (float* pb = bias)
        fixed (float* ph = h)
        {
            for (int b = 0; b < batch; b++)
            {
                float* ra = pa + ((nint)b * aStride);
                float* rh = ph + ((nint)b * hStride);
                switch (nonlinearity)
                {
                    case RnnNonlinearity.Tanh:
                        var kt = new ForwardRow<TanhOperator> { A = ra, Bias = pb, H = rh };
                        RowDriver.Run(ref kt, hiddenSize, v);
                        break;
                    case RnnNonlinearity.Relu:
                        var kr = new ForwardRow<ReluOperator> { A = ra, Bias = pb, H = rh };
                        RowDriver.Run(ref kr, hiddenSize, v);
                        break;
                    default:
                        throw new ArgumentOutOfRangeException(nameof(nonlinearity));
                }
            }
        }
    }

    /// <summary>Elman backward for one row.</summary>
    /// <param name="hiddenSize">H.</param>
    /// <param name="h">[H] forward output φ(a).</param>
    /// <param name="dh">[H] gradient flowing into h.</param>
    /// <param name="da">[H] receives the pre-activation gradient; may be the same span as <paramref name="dh"/>.</param>
    /// <param name="nonlinearity">φ.</param>
    /// <param name="variant">The kernel variant; <see cref="KernelCatalog.Active"/> when null.</param>
    /// <exception cref="ArgumentException">A span has the wrong length, or the variant is unsupported.</exception>
    public static void Backward(int hiddenSize, ReadOnlySpan<float> h, ReadOnlySpan<float> dh, Span<float> da, RnnNonlinearity nonlinearity, KernelVariant? variant = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(hiddenSize);
        Shapes.Row(h.Length, hiddenSize, nameof(h));
        Shapes.Row(dh.Length, hiddenSize, nameof(dh));
        Shapes.Row(da.Length, hiddenSize, nameof(da));
        Backward(1, hiddenSize, h, hiddenSize, dh, hiddenSize, da, hiddenSize, nonlinearity, variant);
    }

    /// <summary>Elman backward for <paramref name="batch"/> rows.</summary>
    /// <param name="batch">B.</param>
    /// <param name="hiddenSize">H.</param>
    /// <param name="h">B rows of [H].</param>
    /// <param name="hStride">Row stride of <paramref name="h"/>.</param>
    /// <param name="dh">B rows of [H].</param>
    /// <param name="dhStride">Row stride of <paramref name="dh"/>.</param>
    /// <param name="da">B rows of [H]; may be the same memory as <paramref name="dh"/> with the same stride.</param>
    /// <param name="daStride">Row stride of <paramref name="da"/>.</param>
    /// <param name="nonlinearity">φ.</param>
    /// <param name="variant">The kernel variant; <see cref="KernelCatalog.Active"/> when null.</param>
    /// <exception cref="ArgumentException">A buffer is too short or a stride too small, or the variant is unsupported.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is negative or the nonlinearity unknown.</exception>
    public static void Backward(
        int batch, int hiddenSize, ReadOnlySpan<float> h, int hStride, ReadOnlySpan<float> dh, int dhStride, Span<float> da, int daStride,
        RnnNonlinearity nonlinearity, KernelVariant? variant = null)
    {
        var v = Variants.Resolve(variant);
        Shapes.Dimensions(batch, hiddenSize);
        Shapes.Rows(h.Length, batch, hiddenSize, hStride, nameof(h));
        Shapes.Rows(dh.Length, batch, hiddenSize, dhStride, nameof(dh));
        Shapes.Rows(da.Length, batch, hiddenSize, daStride, nameof(da));
        fixed (float* ph = h)
        fixed (float* pdh = dh)
        fixed (float* pda = da)
        {
            for (int b = 0; b < batch; b++)
            {
                float* rh = ph + ((nint)b * hStride);
                float* rdh = pdh + ((nint)b * dhStride);
                float* rda = pda + ((nint)b * daStride);
                switch (nonlinearity)
                {
                    case RnnNonlinearity.Tanh:
                        var kt = new TanhBackwardRow { H = rh, Dh = rdh, Da = rda };
                        RowDriver.Run(ref kt, hiddenSize, v);
                        break;
                    case RnnNonlinearity.Relu:
                        var kr = new ReluBackwardRow { H = rh, Dh = rdh, Da = rda };
                        RowDriver.Run(ref kr, hiddenSize, v);
                        break;
                    default:
                        throw new ArgumentOutOfRangeException(nameof(nonlinearity));
                }
            }
        }
    }

    /// <summary>The row forward <c>h = φ(a + bias)</c> at width <typeparamref name="TS"/> with no checks or dispatch; <paramref name="bias"/> may be null, <paramref name="h"/> may be <paramref name="a"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Forward<TS, TV>(nint hidden, float* a, float* bias, float* h, bool relu)
        where TS : struct, ISimd<TV>
        where TV : unmanaged
    {
        if (relu)
        {
            var kr = new ForwardRow<ReluOperator> { A = a, Bias = bias, H = h };
            RowDriver.Run<ForwardRow<ReluOperator>, TS, TV>(ref kr, hidden);
        }
        else
        {
            var kt = new ForwardRow<TanhOperator> { A = a, Bias = bias, H = h };
            RowDriver.Run<ForwardRow<TanhOperator>, TS, TV>(ref kt, hidden);
        }
    }

    /// <summary>The row backward at width <typeparamref name="TS"/>, no checks; <paramref name="da"/> may be <paramref name="dh"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Backward<TS, TV>(nint hidden, float* h, float* dh, float* da, bool relu)
        where TS : struct, ISimd<TV>
        where TV : unmanaged
    {
        if (relu)
        {
            var kr = new ReluBackwardRow { H = h, Dh = dh, Da = da };
            RowDriver.Run<ReluBackwardRow, TS, TV>(ref kr, hidden);
        }
        else
        {
            var kt = new TanhBackwardRow { H = h, Dh = dh, Da = da };
            RowDriver.Run<TanhBackwardRow, TS, TV>(ref kt, hidden);
        }
    }

    private struct ForwardRow<TOp> : IRowKernel
        where TOp : IUnaryOperator
    {
        public float* A;
        public float* Bias;
        public float* H;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public readonly void Step<TS, TV>(nint j)
            where TS : struct, ISimd<TV>
            where TV : unmanaged
        {
            var a = TS.Load(A + j);
            if (Bias != null)
            {
                a = TS.Add(a, TS.Load(Bias + j));
            }

            TS.Store(TOp.Invoke<TS, TV>(a), H + j);
        }
    }

    private struct TanhBackwardRow : IRowKernel
    {
        public float* H;
        public float* Dh;
        public float* Da;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public readonly void Step<TS, TV>(nint j)
            where TS : struct, ISimd<TV>
            where TV : unmanaged
            => TS.Store(TS.Multiply(TS.Load(Dh + j), TanhDerivativeFromOutputOperator.Invoke<TS, TV>(TS.Load(H + j))), Da + j);
    }

    private struct ReluBackwardRow : IRowKernel
    {
        public float* H;
        public float* Dh;
        public float* Da;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public readonly void Step<TS, TV>(nint j)
            where TS : struct, ISimd<TV>
            where TV : unmanaged
        {
            // PyTorch's threshold_backward: zero where h <= 0 (so at exactly 0), the gradient elsewhere (NaN h included).
            var h = TS.Load(H + j);
            TS.Store(TS.Select(TS.LessThanOrEqual(h, TS.Create(0f)), TS.Create(0f), TS.Load(Dh + j)), Da + j);
        }
    }
}
