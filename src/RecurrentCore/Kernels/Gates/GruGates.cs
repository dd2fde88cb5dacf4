using System.Runtime.CompilerServices;
using RecurrentCore.Kernels.Operators;
using RecurrentCore.Kernels.Simd;

namespace RecurrentCore.Kernels.Gates;

/// <summary>
/// Fused GRU gate kernels with PyTorch's formulation (ONNX <c>linear_before_reset = 1</c>), gate order (r, z, n),
/// forward and backward side by side. <c>gi = W_ih·x</c> and <c>gh = W_hh·h_prev</c> rows hold 3H values each.
/// <list type="bullet">
/// <item>Forward: <c>r = σ(gi_r + gh_r)</c>, <c>z = σ(gi_z + gh_z)</c>, <c>n = tanh(gi_n + r⊙gh_n)</c>,
/// <c>h = (1 − z)⊙n + z⊙h_prev</c> (computed as <c>fma(1 − z, n, z⊙h_prev)</c>: 1 − z is exact for z ≥ ½, and only the
/// last multiply-add waits on n); biases, when given, are added first.</item>
/// <item>Backward, given dh: <c>dn = dh⊙(1−z)</c>, <c>dz = dh⊙(h_prev − n)</c>, <c>da_n = dn⊙(1−n²)</c>,
/// <c>da_r = da_n⊙gh_n⊙r(1−r)</c>, <c>da_z = dz⊙z(1−z)</c>; <c>dGi = [da_r | da_z | da_n]</c>,
/// <c>dGh = [da_r | da_z | da_n⊙r]</c>, <c>dh_prev = dh⊙z</c> (the caller adds <c>W_hhᵀ·dGh</c>).</item>
/// </list>
/// One pass, no allocation; batch overloads take B rows with a row stride per buffer; optional buffers are empty when absent.
/// </summary>
internal static unsafe class GruGates
{
    /// <summary>GRU forward gates for one row.</summary>
    /// <param name="hiddenSize">H.</param>
    /// <param name="gi">[3H] input projections; with <paramref name="saveActivations"/> overwritten by <c>[r | z | n]</c>.</param>
    /// <param name="gh">[3H] hidden projections; with <paramref name="saveActivations"/> and a <paramref name="biasHh"/>,
    /// its n block is overwritten by <c>gh_n + b_hn</c>, the value backward needs.</param>
    /// <param name="biasIh">[3H] <c>b_ih</c>, or empty.</param>
    /// <param name="biasHh">[3H] <c>b_hh</c>, or empty.</param>
    /// <param name="hPrev">[H] previous hidden state.</param>
    /// <param name="h">[H] new hidden state; may be the same span as <paramref name="hPrev"/>.</param>
    /// <param name="saveActivations">Whether to keep r, z, n (and biased gh_n) for backward.</param>
    /// <param name="variant">The kernel variant; <see cref="KernelCatalog.Active"/> when null.</param>
    /// <exception cref="ArgumentException">A span has the wrong length, or the variant is unsupported.</exception>
    public static void Forward(
        int hiddenSize, Span<float> gi, Span<float> gh, ReadOnlySpan<float> biasIh, ReadOnlySpan<float> biasHh,
        ReadOnlySpan<float> hPrev, Span<float> h, bool saveActivations, KernelVariant? variant = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(hiddenSize);
        int n = hiddenSize;
        Shapes.Row(gi.Length, 3 * n, nameof(gi));
        Shapes.Row(gh.Length, 3 * n, nameof(gh));
        Shapes.Row(hPrev.Length, n, nameof(hPrev));
        Shapes.Row(h.Length, n, nameof(h));
        Forward(1, n, gi, 3 * n, gh, 3 * n, biasIh, biasHh, hPrev, n, h, n, saveActivations, variant);
    }

    /// <summary>GRU forward gates for <paramref name="batch"/> rows; see the row overload for each buffer's meaning.</summary>
    /// <param name="batch">B.</param>
    /// <param name="hiddenSize">H.</param>
    /// <param name="gi">B rows of [3H].</param>
    /// <param name="giStride">Row stride of <paramref name="gi"/>.</param>
    /// <param name="gh">B rows of [3H].</param>
    /// <param name="ghStride">Row stride of <paramref name="gh"/>.</param>
    /// <param name="biasIh">[3H] shared by every row, or empty.</param>
    /// <param name="biasHh">[3H] shared by every row, or empty.</param>
    /// <param name="hPrev">B rows of [H].</param>
    /// <param name="hPrevStride">Row stride of <paramref name="hPrev"/>.</param>
    /// <param name="h">B rows of [H]; may be the same memory as <paramref name="hPrev"/> with the same stride.</param>
    /// <param name="hStride">Row stride of <paramref name="h"/>.</param>
    /// <param name="saveActivations">Whether to keep r, z, n (and biased gh_n) for backward.</param>
    /// <param name="variant">The kernel variant; <see cref="KernelCatalog.Active"/> when null.</param>
    /// <exception cref="ArgumentException">A buffer is too short or a stride too small, or the variant is unsupported.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is negative.</exception>
    public static void Forward(
        int batch, int hiddenSize, Span<float> gi, int giStride, Span<float> gh, int ghStride, ReadOnlySpan<float> biasIh,
        ReadOnlySpan<float> biasHh, ReadOnlySpan<float> hPrev, int hPrevStride, Span<float> h, int hStride, bool saveActivations,
        KernelVariant? variant = null)
    {
        GruRows.Forward<ForwardRow>(
            batch, hiddenSize, gi, giStride, gh, 3 * hiddenSize, ghStride, nameof(gh), biasIh, biasHh, hPrev, hPrevStride, h, hStride, nameof(h),
            saveActivations, variant);
    }

    /// <summary>GRU backward gates for one row.</summary>
    /// <param name="hiddenSize">H.</param>
    /// <param name="gates">[3H] saved <c>[r | z | n]</c>.</param>
    /// <param name="ghN">[H] saved <c>gh_n</c> (<c>W_hn·h_prev + b_hn</c>): the n block of a saving forward's gh.</param>
    /// <param name="hPrev">[H] previous hidden state.</param>
    /// <param name="dh">[H] gradient flowing into h.</param>
    /// <param name="dGi">[3H] receives <c>[da_r | da_z | da_n]</c>; may be the same span as <paramref name="gates"/>.</param>
    /// <param name="dGh">[3H] receives <c>[da_r | da_z | da_n⊙r]</c>; may be the gh row whose n block is <paramref name="ghN"/>.</param>
    /// <param name="dhPrev">[H] receives <c>dh⊙z</c>; may be the same span as <paramref name="dh"/>.</param>
    /// <param name="variant">The kernel variant; <see cref="KernelCatalog.Active"/> when null.</param>
    /// <exception cref="ArgumentException">A span has the wrong length, or the variant is unsupported.</exception>
    public static void Backward(
        int hiddenSize, ReadOnlySpan<float> gates, ReadOnlySpan<float> ghN, ReadOnlySpan<float> hPrev, ReadOnlySpan<float> dh,
        Span<float> dGi, Span<float> dGh, Span<float> dhPrev, KernelVariant? variant = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(hiddenSize);
        int n = hiddenSize;
        Shapes.Row(gates.Length, 3 * n, nameof(gates));
        Shapes.Row(ghN.Length, n, nameof(ghN));
        Shapes.Row(hPrev.Length, n, nameof(hPrev));
        Shapes.Row(dh.Length, n, nameof(dh));
        Shapes.Row(dGi.Length, 3 * n, nameof(dGi));
        Shapes.Row(dGh.Length, 3 * n, nameof(dGh));
        Shapes.Row(dhPrev.Length, n, nameof(dhPrev));
        Backward(1, n, gates, 3 * n, ghN, n, hPrev, n, dh, n, dGi, 3 * n, dGh, 3 * n, dhPrev, n, variant);
    }

    /// <summary>GRU backward gates for <paramref name="batch"/> rows; see the row overload for each buffer's meaning.</summary>
    /// <param name="batch">B.</param>
    /// <param name="hiddenSize">H.</param>
    /// <param name="gates">B rows of [3H].</param>
    /// <param name="gatesStride">Row stride of <paramref name="gates"/>.</param>
    /// <param name="ghN">B rows of [H] (e.g. the gh buffer offset by 2H with stride 3H).</param>
    /// <param name="ghNStride">Row stride of <paramref name="ghN"/>.</param>
    /// <param name="hPrev">B rows of [H].</param>
    /// <param name="hPrevStride">Row stride of <paramref name="hPrev"/>.</param>
    /// <param name="dh">B rows of [H].</param>
    /// <param name="dhStride">Row stride of <paramref name="dh"/>.</param>
    /// <param name="dGi">B rows of [3H].</param>
    /// <param name="dGiStride">Row stride of <paramref name="dGi"/>.</param>
    /// <param name="dGh">B rows of [3H].</param>
    /// <param name="dGhStride">Row stride of <paramref name="dGh"/>.</param>
    /// <param name="dhPrev">B rows of [H].</param>
    /// <param name="dhPrevStride">Row stride of <paramref name="dhPrev"/>.</param>
    /// <param name="variant">The kernel variant; <see cref="KernelCatalog.Active"/> when null.</param>
    /// <exception cref="ArgumentException">A buffer is too short or a stride too small, or the variant is unsupported.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is negative.</exception>
    public static void Backward(
        int batch, int hiddenSize, ReadOnlySpan<float> gates, int gatesStride, ReadOnlySpan<float> ghN, int ghNStride,
        ReadOnlySpan<float> hPrev, int hPrevStride, ReadOnlySpan<float> dh, int dhStride, Span<float> dGi, int dGiStride,
        Span<float> dGh, int dGhStride, Span<float> dhPrev, int dhPrevStride, KernelVariant? variant = null)
    {
        var v = Variants.Resolve(variant);
        Shapes.Dimensions(batch, hiddenSize);
        int n = hiddenSize;
        Shapes.Rows(gates.Length, batch, 3 * n, gatesStride, nameof(gates));
        Shapes.Rows(ghN.Length, batch, n, ghNStride, nameof(ghN));
        Shapes.Rows(hPrev.Length, batch, n, hPrevStride, nameof(hPrev));
        Shapes.Rows(dh.Length, batch, n, dhStride, nameof(dh));
        Shapes.Rows(dGi.Length, batch, 3 * n, dGiStride, nameof(dGi));
        Shapes.Rows(dGh.Length, batch, 3 * n, dGhStride, nameof(dGh));
        Shapes.Rows(dhPrev.Length, batch, n, dhPrevStride, nameof(dhPrev));

        fixed (float* pg = gates)
        fixed (float* pghn = ghN)
        fixed (float* php = hPrev)
        fixed (float* pdh = dh)
        fixed (float* pdgi = dGi)
        fixed (float* pdgh = dGh)
        fixed (float* pdhp = dhPrev)
        {
            for (int b = 0; b < batch; b++)
            {
                var k = new BackwardRow
                {
                    Gates = pg + ((nint)b * gatesStride),
                    GhN = pghn + ((nint)b * ghNStride),
                    HPrev = php + ((nint)b * hPrevStride),
                    Dh = pdh + ((nint)b * dhStride),
                    DGi = pdgi + ((nint)b * dGiStride),
                    DGh = pdgh + ((nint)b * dGhStride),
                    DhPrev = pdhp + ((nint)b * dhPrevStride),
                    Hidden = n,
                };
                RowDriver.Run(ref k, n, v);
            }
        }
    }

    /// <summary>
    /// The row forward at width <typeparamref name="TS"/> with no checks or dispatch (a plan's per-step entry): the span
    /// overload's arguments as pointers; the biases may be null.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Forward<TS, TV>(nint hidden, float* gi, float* gh, float* biasIh, float* biasHh, float* hPrev, float* h, bool saveActivations)
        where TS : struct, ISimd<TV>
        where TV : unmanaged
    {
        var k = new ForwardRow { Gi = gi, Gh = gh, BiasIh = biasIh, BiasHh = biasHh, HPrev = hPrev, H = h, Hidden = hidden, Save = saveActivations };
        RowDriver.Run<ForwardRow, TS, TV>(ref k, hidden);
    }

    /// <summary>
    /// The inference row forward from one fused product, no checks or dispatch: <paramref name="g"/> (4H) holds
    /// [W_ir x + W_hr h | W_iz x + W_hz h | W_in x | W_hn h]; r = σ(g_r + b_ir + b_hr), z likewise,
    /// n = tanh(n_x + b_in + r ⊙ (n_h + b_hn)), h = (1 − z) ⊙ n + z ⊙ h_prev. The biases may be null; h may be h_prev.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void ForwardFused<TS, TV>(nint hidden, float* g, float* biasIh, float* biasHh, float* hPrev, float* h)
        where TS : struct, ISimd<TV>
        where TV : unmanaged
    {
        var k = new ForwardRow { Gi = g, Gh = g + (3 * hidden), BiasIh = biasIh, BiasHh = biasHh, HPrev = hPrev, H = h, Hidden = hidden, Fused = true };
        RowDriver.Run<ForwardRow, TS, TV>(ref k, hidden);
    }

    /// <summary>
    /// <see cref="ForwardFused"/> straight from the product: the sums [r | z | n_x | n_h] over x
    /// (<paramref name="inputs"/>) and <paramref name="hPrev"/> from the layer's panels
    /// (<see cref="ColumnGatesKernel{TS, TV}"/>, 3 blocks), handed over in registers. H must be a multiple of
    /// <c>TS.Count</c>; the biases may be null (they are, when the panels carry them as their
    /// <paramref name="startSums"/>: <c>[b_ir + b_hr | b_iz + b_hz | b_in | b_hn]</c>); <paramref name="hPrev"/> must not
    /// be <paramref name="h"/> (pass a copy) unless H is one register, whose product reads all of h_prev before its gates
    /// write h.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void ForwardFromProduct<TS, TV>(
        float* panels, int inputs, int hidden, float* x, float* hPrev, bool descending, bool startSums, float* biasIh, float* biasHh, float* h)
        where TS : struct, ISimd<TV>
        where TV : unmanaged
    {
        var k = new ForwardRow { BiasIh = biasIh, BiasHh = biasHh, HPrev = hPrev, H = h, Hidden = hidden, Fused = true };
        ColumnGatesKernel<TS, TV>.Run(panels, inputs, hidden, x, hPrev, descending, startSums, ref k);
    }

    /// <summary>The row backward at width <typeparamref name="TS"/>, no checks.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Backward<TS, TV>(nint hidden, float* gates, float* ghN, float* hPrev, float* dh, float* dGi, float* dGh, float* dhPrev)
        where TS : struct, ISimd<TV>
        where TV : unmanaged
    {
        var k = new BackwardRow { Gates = gates, GhN = ghN, HPrev = hPrev, Dh = dh, DGi = dGi, DGh = dGh, DhPrev = dhPrev, Hidden = hidden };
        RowDriver.Run<BackwardRow, TS, TV>(ref k, hidden);
    }

    private struct ForwardRow : IRowKernel, IGateBlocks, IGruForwardRow<ForwardRow>
    {
        public float* Gi;
        public float* Gh;
        public float* BiasIh;
        public float* BiasHh;
        public float* HPrev;
        public float* H;
        public nint Hidden;
        public bool Save;

        /// <summary>Gi holds r and z summed over both products and Gh points at n_h alone (<see cref="ForwardFused"/>).</summary>
        public bool Fused;

        public static int Blocks => 3;

        public static ForwardRow At(float* gi, float* gh, float* biasIh, float* biasHh, float* hPrev, float* output, nint hidden, bool save) =>
            new() { Gi = gi, Gh = gh, BiasIh = biasIh, BiasHh = biasHh, HPrev = hPrev, H = output, Hidden = hidden, Save = save };

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public readonly void Step<TS, TV>(nint j)
            where TS : struct, ISimd<TV>
            where TV : unmanaged
        {
            nint n = Hidden;
            float* gi = Gi + j;
            float* gh = Gh + j;
            if (Fused)
            {
                Finish<TS, TV>(j, TS.Load(gi), TS.Load(gi + n), TS.Load(gi + (2 * n)), TS.Load(gh));
            }
            else
            {
                Finish<TS, TV>(j, TS.Add(TS.Load(gi), TS.Load(gh)), TS.Add(TS.Load(gi + n), TS.Load(gh + n)), TS.Load(gi + (2 * n)), TS.Load(gh + (2 * n)));
            }
        }

        /// <summary>The fused layout's four blocks [r | z | n_x | n_h] from the product's registers.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public readonly void Apply<TS, TV>(nint j, TV a0, TV a1, TV a2, TV a3)
            where TS : struct, ISimd<TV>
            where TV : unmanaged => Finish<TS, TV>(j, a0, a1, a2, a3);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private readonly void Finish<TS, TV>(nint j, TV ar, TV az, TV ain, TV ghn)
            where TS : struct, ISimd<TV>
            where TV : unmanaged
        {
            nint n = Hidden;
            if (BiasIh != null)
            {
                float* b = BiasIh + j;
                ar = TS.Add(ar, TS.Load(b));
                az = TS.Add(az, TS.Load(b + n));
                ain = TS.Add(ain, TS.Load(b + (2 * n)));
            }

            if (BiasHh != null)
            {
                float* b = BiasHh + j;
                ar = TS.Add(ar, TS.Load(b));
                az = TS.Add(az, TS.Load(b + n));
                ghn = TS.Add(ghn, TS.Load(b + (2 * n)));
            }

            var r = SigmoidOperator.Invoke<TS, TV>(ar);
            var z = SigmoidOperator.Invoke<TS, TV>(az);
            var nn = TanhOperator.Invoke<TS, TV>(TS.MultiplyAdd(r, ghn, ain));
            // (1 − z)·n + z·h_prev with both products' other factors ready before n: one multiply-add waits on tanh.
            var hp = TS.Load(HPrev + j);
            TS.Store(TS.MultiplyAdd(TS.Subtract(TS.Create(1f), z), nn, TS.Multiply(z, hp)), H + j);
            if (Save)
            {
                float* gi = Gi + j;
                float* gh = Gh + j;
                TS.Store(r, gi);
                TS.Store(z, gi + n);
                TS.Store(nn, gi + (2 * n));
                if (BiasHh != null)
                {
                    TS.Store(ghn, gh + (2 * n));
                }
            }
        }
    }

    private struct BackwardRow : IRowKernel
    {
        public float* Gates;
        public float* GhN;
        public float* HPrev;
        public float* Dh;
        public float* DGi;
        public float* DGh;
        public float* DhPrev;
        public nint Hidden;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public readonly void Step<TS, TV>(nint j)
            where TS : struct, ISimd<TV>
            where TV : unmanaged
        {
            nint n = Hidden;
            float* g = Gates + j;
            var r = TS.Load(g);
            var z = TS.Load(g + n);
            var nn = TS.Load(g + (2 * n));
            var ghn = TS.Load(GhN + j);
            var hp = TS.Load(HPrev + j);
            var dh = TS.Load(Dh + j);

            var dn = TS.Multiply(dh, TS.Subtract(TS.Create(1f), z));
            var dz = TS.Multiply(dh, TS.Subtract(hp, nn));
            var dan = TS.Multiply(dn, TanhDerivativeFromOutputOperator.Invoke<TS, TV>(nn));
            var dar = TS.Multiply(TS.Multiply(dan, ghn), SigmoidDerivativeFromOutputOperator.Invoke<TS, TV>(r));
            var daz = TS.Multiply(dz, SigmoidDerivativeFromOutputOperator.Invoke<TS, TV>(z));

            float* di = DGi + j;
            float* dhh = DGh + j;
            TS.Store(dar, di);
            TS.Store(daz, di + n);
            TS.Store(dan, di + (2 * n));
            TS.Store(dar, dhh);
            TS.Store(daz, dhh + n);
            TS.Store(TS.Multiply(dan, r), dhh + (2 * n));
            TS.Store(TS.Multiply(dh, z), DhPrev + j);
        }
    }
}
