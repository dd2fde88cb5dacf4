using System.Runtime.CompilerServices;
using RecurrentCore.Kernels.Operators;
using RecurrentCore.Kernels.Simd;

namespace RecurrentCore.Kernels.Gates;

/// <summary>
/// Fused LSTM gate kernels, forward and backward side by side, PyTorch gate order (i, f, g, o).
/// A gate row holds 4H values: <c>[a_i | a_f | a_g | a_o]</c>, each block H long, already <c>W_ih·x + W_hh·h</c>.
/// <list type="bullet">
/// <item>Forward: <c>i = σ(a_i + b_i)</c>, <c>f = σ(a_f + b_f)</c>, <c>g = tanh(a_g + b_g)</c>, <c>o = σ(a_o + b_o)</c>,
/// <c>c = f⊙c_prev + i⊙g</c>, <c>h = o⊙tanh(c)</c>.</item>
/// <item>Backward: <c>dc_total = dc + dh⊙o⊙(1 − tanh²c)</c>; pre-activation gradients
/// <c>[dc_total⊙g⊙i(1−i) | dc_total⊙c_prev⊙f(1−f) | dc_total⊙i⊙(1−g²) | dh⊙tanh(c)⊙o(1−o)]</c>;
/// <c>dc_prev = dc_total⊙f</c>.</item>
/// </list>
/// Every kernel is one pass, allocates nothing, and runs the given <see cref="KernelVariant"/>
/// (<see cref="KernelCatalog.Active"/> when null). The batch overloads take B rows, each buffer with its own row stride
/// (in elements). Optional buffers are passed empty when absent.
/// </summary>
internal static unsafe class LstmGates
{
    /// <summary>LSTM forward gates for one row of hidden size <paramref name="hiddenSize"/>.</summary>
    /// <param name="hiddenSize">H.</param>
    /// <param name="gates">[4H] pre-activations; with <paramref name="saveActivations"/> overwritten by <c>[i | f | g | o]</c>.</param>
    /// <param name="bias">[4H] added to the pre-activations (<c>b_ih + b_hh</c>), or empty.</param>
    /// <param name="cPrev">[H] previous cell state.</param>
    /// <param name="c">[H] new cell state; may be the same span as <paramref name="cPrev"/>.</param>
    /// <param name="h">[H] new hidden state.</param>
    /// <param name="tanhC">[H] receives <c>tanh(c)</c> for the backward pass, or empty.</param>
    /// <param name="saveActivations">Whether to write the activated gates over <paramref name="gates"/> (training).</param>
    /// <param name="variant">The kernel variant; <see cref="KernelCatalog.Active"/> when null.</param>
    /// <exception cref="ArgumentException">A span has the wrong length, or the variant is unsupported.</exception>
    public static void Forward(
        int hiddenSize, Span<float> gates, ReadOnlySpan<float> bias, ReadOnlySpan<float> cPrev, Span<float> c, Span<float> h,
        Span<float> tanhC, bool saveActivations, KernelVariant? variant = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(hiddenSize);
        Shapes.Row(gates.Length, 4 * hiddenSize, nameof(gates));
        Shapes.Row(cPrev.Length, hiddenSize, nameof(cPrev));
        Shapes.Row(c.Length, hiddenSize, nameof(c));
        Shapes.Row(h.Length, hiddenSize, nameof(h));
        if (!tanhC.IsEmpty)
        {
            Shapes.Row(tanhC.Length, hiddenSize, nameof(tanhC));
        }

        Forward(1, hiddenSize, gates, 4 * hiddenSize, bias, cPrev, hiddenSize, c, hiddenSize, h, hiddenSize, tanhC, hiddenSize, saveActivations, variant);
    }

    /// <summary>LSTM forward gates for <paramref name="batch"/> rows; see the row overload for each buffer's meaning.</summary>
    /// <param name="batch">B, the number of rows.</param>
    /// <param name="hiddenSize">H.</param>
    /// <param name="gates">B rows of [4H], <paramref name="gatesStride"/> apart; activated in place when <paramref name="saveActivations"/>.</param>
    /// <param name="gatesStride">Row stride of <paramref name="gates"/>, at least 4H.</param>
    /// <param name="bias">[4H] shared by every row, or empty.</param>
    /// <param name="cPrev">B rows of [H].</param>
    /// <param name="cPrevStride">Row stride of <paramref name="cPrev"/>.</param>
    /// <param name="c">B rows of [H]; may be the same memory as <paramref name="cPrev"/> with the same stride.</param>
    /// <param name="cStride">Row stride of <paramref name="c"/>.</param>
    /// <param name="h">B rows of [H].</param>
    /// <param name="hStride">Row stride of <paramref name="h"/>.</param>
    /// <param name="tanhC">B rows of [H] receiving <c>tanh(c)</c>, or empty.</param>
    /// <param name="tanhCStride">Row stride of <paramref name="tanhC"/>.</param>
    /// <param name="saveActivations">Whether to write the activated gates over <paramref name="gates"/>.</param>
    /// <param name="variant">The kernel variant; <see cref="KernelCatalog.Active"/> when null.</param>
    /// <exception cref="ArgumentException">A buffer is too short or a stride too small, or the variant is unsupported.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is negative.</exception>
    public static void Forward(
        int batch, int hiddenSize, Span<float> gates, int gatesStride, ReadOnlySpan<float> bias, ReadOnlySpan<float> cPrev, int cPrevStride,
        Span<float> c, int cStride, Span<float> h, int hStride, Span<float> tanhC, int tanhCStride, bool saveActivations,
        KernelVariant? variant = null)
    {
        var v = Variants.Resolve(variant);
        Shapes.Dimensions(batch, hiddenSize);
        int g4 = 4 * hiddenSize;
        Shapes.Rows(gates.Length, batch, g4, gatesStride, nameof(gates));
        Shapes.OptionalVector(bias.Length, g4, nameof(bias));
        Shapes.Rows(cPrev.Length, batch, hiddenSize, cPrevStride, nameof(cPrev));
        Shapes.Rows(c.Length, batch, hiddenSize, cStride, nameof(c));
        Shapes.Rows(h.Length, batch, hiddenSize, hStride, nameof(h));
        Shapes.OptionalRows(tanhC.Length, batch, hiddenSize, tanhCStride, nameof(tanhC));

        fixed (float* pg = gates)
        fixed (float* pb = bias)
        fixed (float* pcp = cPrev)
        fixed (float* pc = c)
        fixed (float* ph = h)
        fixed (float* ptc = tanhC)
        {
            for (int b = 0; b < batch; b++)
            {
                var k = new ForwardRow
                {
                    Gates = pg + ((nint)b * gatesStride),
                    Bias = pb,
                    CPrev = pcp + ((nint)b * cPrevStride),
                    C = pc + ((nint)b * cStride),
                    H = ph + ((nint)b * hStride),
                    TanhC = ptc == null ? null : ptc + ((nint)b * tanhCStride),
                    Hidden = hiddenSize,
                    Save = saveActivations,
                };
                RowDriver.Run(ref k, hiddenSize, v);
            }
        }
    }

    /// <summary>LSTM backward gates for one row.</summary>
    /// <param name="hiddenSize">H.</param>
    /// <param name="gates">[4H] saved activations <c>[i | f | g | o]</c>.</param>
    /// <param name="cPrev">[H] previous cell state.</param>
    /// <param name="c">[H] cell state, used only when <paramref name="tanhC"/> is empty (then tanh is recomputed); else may be empty.</param>
    /// <param name="tanhC">[H] saved <c>tanh(c)</c>, or empty.</param>
    /// <param name="dh">[H] gradient flowing into h.</param>
    /// <param name="dc">[H] gradient carried into c from the next step, or empty for zero.</param>
    /// <param name="dGates">[4H] receives the pre-activation gradients; may be the same span as <paramref name="gates"/>.</param>
    /// <param name="dcPrev">[H] receives <c>dc_total⊙f</c>; may be the same span as <paramref name="dc"/>.</param>
    /// <param name="variant">The kernel variant; <see cref="KernelCatalog.Active"/> when null.</param>
    /// <exception cref="ArgumentException">A span has the wrong length, or the variant is unsupported.</exception>
    public static void Backward(
        int hiddenSize, ReadOnlySpan<float> gates, ReadOnlySpan<float> cPrev, ReadOnlySpan<float> c, ReadOnlySpan<float> tanhC,
        ReadOnlySpan<float> dh, ReadOnlySpan<float> dc, Span<float> dGates, Span<float> dcPrev, KernelVariant? variant = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(hiddenSize);
        int n = hiddenSize;
        Shapes.Row(gates.Length, 4 * n, nameof(gates));
        Shapes.Row(cPrev.Length, n, nameof(cPrev));
        Shapes.Row(dh.Length, n, nameof(dh));
        Shapes.Row(dGates.Length, 4 * n, nameof(dGates));
        Shapes.Row(dcPrev.Length, n, nameof(dcPrev));
        if (!dc.IsEmpty)
        {
            Shapes.Row(dc.Length, n, nameof(dc));
        }

        if (!tanhC.IsEmpty)
        {
            Shapes.Row(tanhC.Length, n, nameof(tanhC));
        }

        if (!c.IsEmpty)
        {
            Shapes.Row(c.Length, n, nameof(c));
        }

        Backward(1, n, gates, 4 * n, cPrev, n, c, n, tanhC, n, dh, n, dc, n, dGates, 4 * n, dcPrev, n, variant);
    }

    /// <summary>LSTM backward gates for <paramref name="batch"/> rows; see the row overload for each buffer's meaning.</summary>
    /// <param name="batch">B.</param>
    /// <param name="hiddenSize">H.</param>
    /// <param name="gates">B rows of [4H] activations.</param>
    /// <param name="gatesStride">Row stride of <paramref name="gates"/>.</param>
    /// <param name="cPrev">B rows of [H].</param>
    /// <param name="cPrevStride">Row stride of <paramref name="cPrev"/>.</param>
    /// <param name="c">B rows of [H], or empty when <paramref name="tanhC"/> is given.</param>
    /// <param name="cStride">Row stride of <paramref name="c"/>.</param>
    /// <param name="tanhC">B rows of [H], or empty to recompute from <paramref name="c"/>.</param>
    /// <param name="tanhCStride">Row stride of <paramref name="tanhC"/>.</param>
    /// <param name="dh">B rows of [H].</param>
    /// <param name="dhStride">Row stride of <paramref name="dh"/>.</param>
    /// <param name="dc">B rows of [H], or empty for zero.</param>
    /// <param name="dcStride">Row stride of <paramref name="dc"/>.</param>
    /// <param name="dGates">B rows of [4H]; may be the same memory as <paramref name="gates"/> with the same stride.</param>
    /// <param name="dGatesStride">Row stride of <paramref name="dGates"/>.</param>
    /// <param name="dcPrev">B rows of [H]; may be the same memory as <paramref name="dc"/> with the same stride.</param>
    /// <param name="dcPrevStride">Row stride of <paramref name="dcPrev"/>.</param>
    /// <param name="variant">The kernel variant; <see cref="KernelCatalog.Active"/> when null.</param>
    /// <exception cref="ArgumentException">A buffer is too short, a stride too small, both c and tanhC are empty, or the variant is unsupported.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is negative.</exception>
    public static void Backward(
        int batch, int hiddenSize, ReadOnlySpan<float> gates, int gatesStride, ReadOnlySpan<float> cPrev, int cPrevStride,
        ReadOnlySpan<float> c, int cStride, ReadOnlySpan<float> tanhC, int tanhCStride, ReadOnlySpan<float> dh, int dhStride,
        ReadOnlySpan<float> dc, int dcStride, Span<float> dGates, int dGatesStride, Span<float> dcPrev, int dcPrevStride,
        KernelVariant? variant = null)
    {
        var v = Variants.Resolve(variant);
        Shapes.Dimensions(batch, hiddenSize);
        int n = hiddenSize;
        Shapes.Rows(gates.Length, batch, 4 * n, gatesStride, nameof(gates));
        Shapes.Rows(cPrev.Length, batch, n, cPrevStride, nameof(cPrev));
        bool hasTanhC = Shapes.OptionalRows(tanhC.Length, batch, n, tanhCStride, nameof(tanhC));
        if (!hasTanhC && batch > 0 && n > 0)
        {
            Shapes.Rows(c.Length, batch, n, cStride, nameof(c));
        }

        Shapes.Rows(dh.Length, batch, n, dhStride, nameof(dh));
        Shapes.OptionalRows(dc.Length, batch, n, dcStride, nameof(dc));
        Shapes.Rows(dGates.Length, batch, 4 * n, dGatesStride, nameof(dGates));
        Shapes.Rows(dcPrev.Length, batch, n, dcPrevStride, nameof(dcPrev));

        fixed (float* pg = gates)
        fixed (float* pcp = cPrev)
        fixed (float* pc = c)
        fixed (float* ptc = tanhC)
        fixed (float* pdh = dh)
        fixed (float* pdc = dc)
        fixed (float* pdg = dGates)
        fixed (float* pdcp = dcPrev)
        {
            for (int b = 0; b < batch; b++)
            {
                var k = new BackwardRow
                {
                    Gates = pg + ((nint)b * gatesStride),
                    CPrev = pcp + ((nint)b * cPrevStride),
                    C = hasTanhC ? null : pc + ((nint)b * cStride),
                    TanhC = hasTanhC ? ptc + ((nint)b * tanhCStride) : null,
                    Dh = pdh + ((nint)b * dhStride),
                    Dc = pdc == null ? null : pdc + ((nint)b * dcStride),
                    DGates = pdg + ((nint)b * dGatesStride),
                    DcPrev = pdcp + ((nint)b * dcPrevStride),
                    Hidden = n,
                };
                RowDriver.Run(ref k, n, v);
            }
        }
    }

    /// <summary>
    /// The row forward at width <typeparamref name="TS"/> with no checks or dispatch (a plan's per-step entry): the span
    /// overload's arguments as pointers, each H (gates and bias 4H) long; <paramref name="bias"/> and
    /// <paramref name="tanhC"/> may be null.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Forward<TS, TV>(nint hidden, float* gates, float* bias, float* cPrev, float* c, float* h, float* tanhC, bool saveActivations)
        where TS : struct, ISimd<TV>
        where TV : unmanaged
    {
        var k = new ForwardRow { Gates = gates, Bias = bias, CPrev = cPrev, C = c, H = h, TanhC = tanhC, Hidden = hidden, Save = saveActivations };
        RowDriver.Run<ForwardRow, TS, TV>(ref k, hidden);
    }

    /// <summary>The row backward at width <typeparamref name="TS"/>, no checks; exactly one of <paramref name="c"/> and <paramref name="tanhC"/> is non-null, <paramref name="dc"/> may be null.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Backward<TS, TV>(nint hidden, float* gates, float* cPrev, float* c, float* tanhC, float* dh, float* dc, float* dGates, float* dcPrev)
        where TS : struct, ISimd<TV>
        where TV : unmanaged
    {
        var k = new BackwardRow { Gates = gates, CPrev = cPrev, C = tanhC == null ? c : null, TanhC = tanhC, Dh = dh, Dc = dc, DGates = dGates, DcPrev = dcPrev, Hidden = hidden };
        RowDriver.Run<BackwardRow, TS, TV>(ref k, hidden);
    }

    /// <summary>
    /// The inference row forward straight from the product: the gate sums over x (<paramref name="inputs"/>) and
    /// <paramref name="hPrev"/> from the layer's panels (<see cref="ColumnGatesKernel{TS, TV}"/>, 4 blocks), the gates of
    /// each register applied while its sums are in registers. H must be a multiple of <c>TS.Count</c>;
    /// <paramref name="bias"/> may be null (it is, when the panels carry the bias as their <paramref name="startSums"/>);
    /// <paramref name="hPrev"/> must not be <paramref name="h"/> (pass a copy) unless H is one register, whose product
    /// reads all of h_prev before its gates write h.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void ForwardFromProduct<TS, TV>(
        float* panels, int inputs, int hidden, float* x, float* hPrev, bool descending, bool startSums, float* bias, float* cPrev, float* c, float* h)
        where TS : struct, ISimd<TV>
        where TV : unmanaged
    {
        var k = new ForwardRow { Bias = bias, CPrev = cPrev, C = c, H = h, Hidden = hidden };
        ColumnGatesKernel<TS, TV>.Run(panels, inputs, hidden, x, hPrev, descending, startSums, ref k);
    }

    private struct ForwardRow : IRowKernel, IGateBlocks
    {
        public float* Gates;
        public float* Bias;
        public float* CPrev;
        public float* C;
        public float* H;
        public float* TanhC;
        public nint Hidden;
        public bool Save;

        public static int Blocks => 4;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public readonly void Step<TS, TV>(nint j)
            where TS : struct, ISimd<TV>
            where TV : unmanaged
        {
            nint n = Hidden;
            float* g = Gates + j;
            Apply<TS, TV>(j, TS.Load(g), TS.Load(g + n), TS.Load(g + (2 * n)), TS.Load(g + (3 * n)));
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public readonly void Apply<TS, TV>(nint j, TV ai, TV af, TV ag, TV ao)
            where TS : struct, ISimd<TV>
            where TV : unmanaged
        {
            nint n = Hidden;
            if (Bias != null)
            {
                float* b = Bias + j;
                ai = TS.Add(ai, TS.Load(b));
                af = TS.Add(af, TS.Load(b + n));
                ag = TS.Add(ag, TS.Load(b + (2 * n)));
                ao = TS.Add(ao, TS.Load(b + (3 * n)));
            }

            var i = SigmoidOperator.Invoke<TS, TV>(ai);
            var f = SigmoidOperator.Invoke<TS, TV>(af);
            var gg = TanhOperator.Invoke<TS, TV>(ag);
            var o = SigmoidOperator.Invoke<TS, TV>(ao);
            var c = TS.MultiplyAdd(f, TS.Load(CPrev + j), TS.Multiply(i, gg));
            var tc = TanhOperator.Invoke<TS, TV>(c);
            TS.Store(c, C + j);
            TS.Store(TS.Multiply(o, tc), H + j);
            if (TanhC != null)
            {
                TS.Store(tc, TanhC + j);
            }

            if (Save)
            {
                float* g = Gates + j;
                TS.Store(i, g);
                TS.Store(f, g + n);
                TS.Store(gg, g + (2 * n));
                TS.Store(o, g + (3 * n));
            }
        }
    }

    private struct BackwardRow : IRowKernel
    {
        public float* Gates;
        public float* CPrev;
        public float* C;
        public float* TanhC;
        public float* Dh;
        public float* Dc;
        public float* DGates;
        public float* DcPrev;
        public nint Hidden;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public readonly void Step<TS, TV>(nint j)
            where TS : struct, ISimd<TV>
            where TV : unmanaged
        {
            nint n = Hidden;
            float* g = Gates + j;
            var i = TS.Load(g);
            var f = TS.Load(g + n);
            var gg = TS.Load(g + (2 * n));
            var o = TS.Load(g + (3 * n));
            var tc = TanhC != null ? TS.Load(TanhC + j) : TanhOperator.Invoke<TS, TV>(TS.Load(C + j));
            var dh = TS.Load(Dh + j);
            var dc = Dc != null ? TS.Load(Dc + j) : TS.Create(0f);
            var cp = TS.Load(CPrev + j);

            var dcTotal = TS.MultiplyAdd(TS.Multiply(dh, o), TanhDerivativeFromOutputOperator.Invoke<TS, TV>(tc), dc);
            var dgi = TS.Multiply(TS.Multiply(dcTotal, gg), SigmoidDerivativeFromOutputOperator.Invoke<TS, TV>(i));
            var dgf = TS.Multiply(TS.Multiply(dcTotal, cp), SigmoidDerivativeFromOutputOperator.Invoke<TS, TV>(f));
            var dgg = TS.Multiply(TS.Multiply(dcTotal, i), TanhDerivativeFromOutputOperator.Invoke<TS, TV>(gg));
            var dgo = TS.Multiply(TS.Multiply(dh, tc), SigmoidDerivativeFromOutputOperator.Invoke<TS, TV>(o));

            float* d = DGates + j;
            TS.Store(dgi, d);
            TS.Store(dgf, d + n);
            TS.Store(dgg, d + (2 * n));
            TS.Store(dgo, d + (3 * n));
            TS.Store(TS.Multiply(dcTotal, f), DcPrev + j);
        }
    }
}
