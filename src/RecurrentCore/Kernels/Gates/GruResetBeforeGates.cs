using System.Runtime.CompilerServices;
using RecurrentCore.Kernels.Operators;
using RecurrentCore.Kernels.Simd;

namespace RecurrentCore.Kernels.Gates;

/// <summary>
/// The pointwise halves of a GRU that resets before the recurrent product (ONNX <c>linear_before_reset = 0</c>):
/// <c>n = tanh(gi_n + b_in + W_hn·(r⊙h_prev) + b_hn)</c>. The caller's matrix product sits between the halves:
/// <list type="number">
/// <item><see cref="ForwardStage1(int, Span{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, KernelVariant?)"/>:
/// <c>r = σ(gi_r + gh_r)</c>, <c>z = σ(gi_z + gh_z)</c> written over gi's r and z blocks, and <c>rh = r⊙h_prev</c>.</item>
/// <item>caller: <c>ghN = W_hn·rh</c>.</item>
/// <item><see cref="ForwardStage2(int, Span{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, bool, KernelVariant?)"/>:
/// <c>n = tanh(gi_n + ghN)</c> (+ biases), <c>h = (1 − z)⊙n + z⊙h_prev</c>.</item>
/// </list>
/// Backward runs in reverse: <see cref="BackwardStage2(int, ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, Span{float}, KernelVariant?)"/>
/// writes <c>da_z = dh⊙(h_prev − n)⊙z(1−z)</c>, <c>da_n = dh⊙(1−z)⊙(1−n²)</c> and <c>dh_prev = dh⊙z</c>; the caller forms
/// <c>d_rh = W_hnᵀ·da_n</c>; <see cref="BackwardStage1(int, ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, Span{float}, KernelVariant?)"/>
/// writes <c>da_r = d_rh⊙h_prev⊙r(1−r)</c> and adds <c>d_rh⊙r</c> to dh_prev. The gradient
/// <c>dG = [da_r | da_z | da_n]</c> serves both <c>W_ih</c> and <c>W_hh</c> (whose n rows see <c>rh</c>).
/// The gates row holds 3H values <c>[r | z | n]</c>; batch overloads take B rows with a row stride per buffer (biases shared).
/// </summary>
internal static unsafe class GruResetBeforeGates
{
    /// <summary>Stage 1 of the forward pass: reset and update gates, and the reset hidden state.</summary>
    /// <param name="hiddenSize">H.</param>
    /// <param name="gi">[3H] <c>W_ih·x</c>; its r and z blocks are overwritten by r and z, its n block is untouched.</param>
    /// <param name="ghRz">[2H] <c>W_hr·h_prev</c> and <c>W_hz·h_prev</c>.</param>
    /// <param name="biasIh">[3H] <c>b_ih</c> (r and z blocks used here), or empty.</param>
    /// <param name="biasHh">[3H] <c>b_hh</c> (r and z blocks used here), or empty.</param>
    /// <param name="hPrev">[H] previous hidden state.</param>
    /// <param name="rh">[H] receives <c>r⊙h_prev</c>.</param>
    /// <param name="variant">The kernel variant; <see cref="KernelCatalog.Active"/> when null.</param>
    /// <exception cref="ArgumentException">A span has the wrong length, or the variant is unsupported.</exception>
    public static void ForwardStage1(
        int hiddenSize, Span<float> gi, ReadOnlySpan<float> ghRz, ReadOnlySpan<float> biasIh, ReadOnlySpan<float> biasHh,
        ReadOnlySpan<float> hPrev, Span<float> rh, KernelVariant? variant = null)
    {
        var v = Variants.Resolve(variant);
        ArgumentOutOfRangeException.ThrowIfNegative(hiddenSize);
        int n = hiddenSize;
        Shapes.Row(gi.Length, 3 * n, nameof(gi));
        Shapes.Row(ghRz.Length, 2 * n, nameof(ghRz));
        Shapes.OptionalVector(biasIh.Length, 3 * n, nameof(biasIh));
        Shapes.OptionalVector(biasHh.Length, 3 * n, nameof(biasHh));
        Shapes.Row(hPrev.Length, n, nameof(hPrev));
        Shapes.Row(rh.Length, n, nameof(rh));
        fixed (float* pgi = gi)
        fixed (float* pgh = ghRz)
        fixed (float* pbi = biasIh)
        fixed (float* pbh = biasHh)
        fixed (float* php = hPrev)
        fixed (float* prh = rh)
        {
            var k = new Stage1Row { Gi = pgi, GhRz = pgh, BiasIh = pbi, BiasHh = pbh, HPrev = php, Rh = prh, Hidden = n };
            RowDriver.Run(ref k, n, v);
        }
    }

    /// <summary>Stage 2 of the forward pass: candidate and new hidden state.</summary>
    /// <param name="hiddenSize">H.</param>
    /// <param name="gates">[3H] <c>[r | z | gi_n]</c> after stage 1; with <paramref name="saveActivations"/> the n block is overwritten by n.</param>
    /// <param name="ghN">[H] <c>W_hn·(r⊙h_prev)</c>.</param>
    /// <param name="biasIh">[3H] <c>b_ih</c> (n block used here), or empty.</param>
    /// <param name="biasHh">[3H] <c>b_hh</c> (n block used here), or empty.</param>
    /// <param name="hPrev">[H] previous hidden state.</param>
    /// <param name="h">[H] new hidden state; may be the same span as <paramref name="hPrev"/>.</param>
    /// <param name="saveActivations">Whether to keep n for backward.</param>
    /// <param name="variant">The kernel variant; <see cref="KernelCatalog.Active"/> when null.</param>
    /// <exception cref="ArgumentException">A span has the wrong length, or the variant is unsupported.</exception>
    public static void ForwardStage2(
        int hiddenSize, Span<float> gates, ReadOnlySpan<float> ghN, ReadOnlySpan<float> biasIh, ReadOnlySpan<float> biasHh,
        ReadOnlySpan<float> hPrev, Span<float> h, bool saveActivations, KernelVariant? variant = null)
    {
        var v = Variants.Resolve(variant);
        ArgumentOutOfRangeException.ThrowIfNegative(hiddenSize);
        int n = hiddenSize;
        Shapes.Row(gates.Length, 3 * n, nameof(gates));
        Shapes.Row(ghN.Length, n, nameof(ghN));
        Shapes.OptionalVector(biasIh.Length, 3 * n, nameof(biasIh));
        Shapes.OptionalVector(biasHh.Length, 3 * n, nameof(biasHh));
        Shapes.Row(hPrev.Length, n, nameof(hPrev));
        Shapes.Row(h.Length, n, nameof(h));
        fixed (float* pg = gates)
        fixed (float* pghn = ghN)
        fixed (float* pbi = biasIh)
        fixed (float* pbh = biasHh)
        fixed (float* php = hPrev)
        fixed (float* ph = h)
        {
            var k = new Stage2Row
            {
                Gates = pg,
                GhN = pghn,
                BiasIn = pbi == null ? null : pbi + (2 * n),
                BiasHn = pbh == null ? null : pbh + (2 * n),
                HPrev = php,
                H = ph,
                Hidden = n,
                Save = saveActivations,
            };
            RowDriver.Run(ref k, n, v);
        }
    }

    /// <summary>Backward of stage 2 (runs first): update and candidate gradients and the direct part of dh_prev.</summary>
    /// <param name="hiddenSize">H.</param>
    /// <param name="gates">[3H] saved <c>[r | z | n]</c>.</param>
    /// <param name="hPrev">[H] previous hidden state.</param>
    /// <param name="dh">[H] gradient flowing into h.</param>
    /// <param name="dGates">[3H]: its z and n blocks receive <c>da_z</c> and <c>da_n</c>; the r block is left for stage 1.
    /// May be the same span as <paramref name="gates"/>.</param>
    /// <param name="dhPrev">[H] receives <c>dh⊙z</c>; may be the same span as <paramref name="dh"/>.</param>
    /// <param name="variant">The kernel variant; <see cref="KernelCatalog.Active"/> when null.</param>
    /// <exception cref="ArgumentException">A span has the wrong length, or the variant is unsupported.</exception>
    public static void BackwardStage2(
        int hiddenSize, ReadOnlySpan<float> gates, ReadOnlySpan<float> hPrev, ReadOnlySpan<float> dh, Span<float> dGates,
        Span<float> dhPrev, KernelVariant? variant = null)
    {
        var v = Variants.Resolve(variant);
        ArgumentOutOfRangeException.ThrowIfNegative(hiddenSize);
        int n = hiddenSize;
        Shapes.Row(gates.Length, 3 * n, nameof(gates));
        Shapes.Row(hPrev.Length, n, nameof(hPrev));
        Shapes.Row(dh.Length, n, nameof(dh));
        Shapes.Row(dGates.Length, 3 * n, nameof(dGates));
        Shapes.Row(dhPrev.Length, n, nameof(dhPrev));
        fixed (float* pg = gates)
        fixed (float* php = hPrev)
        fixed (float* pdh = dh)
        fixed (float* pdg = dGates)
        fixed (float* pdhp = dhPrev)
        {
            var k = new BackwardStage2Row { Gates = pg, HPrev = php, Dh = pdh, DGates = pdg, DhPrev = pdhp, Hidden = n };
            RowDriver.Run(ref k, n, v);
        }
    }

    /// <summary>Backward of stage 1 (runs last): reset-gate gradient, and the reset path's part of dh_prev.</summary>
    /// <param name="hiddenSize">H.</param>
    /// <param name="gates">[3H] saved <c>[r | z | n]</c> (only r is read); may be the same span as <paramref name="dGates"/>.</param>
    /// <param name="hPrev">[H] previous hidden state.</param>
    /// <param name="dRh">[H] <c>W_hnᵀ·da_n</c>, the gradient of <c>r⊙h_prev</c>.</param>
    /// <param name="dGates">[3H]: its r block receives <c>da_r</c>.</param>
    /// <param name="dhPrev">[H] accumulates <c>+= d_rh⊙r</c>.</param>
    /// <param name="variant">The kernel variant; <see cref="KernelCatalog.Active"/> when null.</param>
    /// <exception cref="ArgumentException">A span has the wrong length, or the variant is unsupported.</exception>
    public static void BackwardStage1(
        int hiddenSize, ReadOnlySpan<float> gates, ReadOnlySpan<float> hPrev, ReadOnlySpan<float> dRh, Span<float> dGates,
        Span<float> dhPrev, KernelVariant? variant = null)
    {
        var v = Variants.Resolve(variant);
        ArgumentOutOfRangeException.ThrowIfNegative(hiddenSize);
        int n = hiddenSize;
        Shapes.Row(gates.Length, 3 * n, nameof(gates));
        Shapes.Row(hPrev.Length, n, nameof(hPrev));
        Shapes.Row(dRh.Length, n, nameof(dRh));
        Shapes.Row(dGates.Length, 3 * n, nameof(dGates));
        Shapes.Row(dhPrev.Length, n, nameof(dhPrev));
        fixed (float* pg = gates)
        fixed (float* php = hPrev)
        fixed (float* pdrh = dRh)
        fixed (float* pdg = dGates)
        fixed (float* pdhp = dhPrev)
        {
            var k = new BackwardStage1Row { Gates = pg, HPrev = php, DRh = pdrh, DGates = pdg, DhPrev = pdhp };
            RowDriver.Run(ref k, n, v);
        }
    }

    /// <summary>Stage 1 for <paramref name="batch"/> rows; see the row overload.</summary>
    /// <param name="batch">B.</param>
    /// <param name="hiddenSize">H.</param>
    /// <param name="gi">B rows of [3H].</param>
    /// <param name="giStride">Row stride of <paramref name="gi"/>.</param>
    /// <param name="ghRz">B rows of [2H].</param>
    /// <param name="ghRzStride">Row stride of <paramref name="ghRz"/>.</param>
    /// <param name="biasIh">[3H] or empty.</param>
    /// <param name="biasHh">[3H] or empty.</param>
    /// <param name="hPrev">B rows of [H].</param>
    /// <param name="hPrevStride">Row stride of <paramref name="hPrev"/>.</param>
    /// <param name="rh">B rows of [H].</param>
    /// <param name="rhStride">Row stride of <paramref name="rh"/>.</param>
    /// <param name="variant">The kernel variant; <see cref="KernelCatalog.Active"/> when null.</param>
    /// <exception cref="ArgumentException">A buffer is too short or a stride too small, or the variant is unsupported.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is negative.</exception>
    public static void ForwardStage1(
        int batch, int hiddenSize, Span<float> gi, int giStride, ReadOnlySpan<float> ghRz, int ghRzStride, ReadOnlySpan<float> biasIh,
        ReadOnlySpan<float> biasHh, ReadOnlySpan<float> hPrev, int hPrevStride, Span<float> rh, int rhStride, KernelVariant? variant = null)
    {
        GruRows.Forward<Stage1Row>(
            batch, hiddenSize, gi, giStride, ghRz, 2 * hiddenSize, ghRzStride, nameof(ghRz), biasIh, biasHh, hPrev, hPrevStride, rh, rhStride, nameof(rh),
            false, variant);
    }

    /// <summary>Stage 2 for <paramref name="batch"/> rows; see the row overload.</summary>
    /// <param name="batch">B.</param>
    /// <param name="hiddenSize">H.</param>
    /// <param name="gates">B rows of [3H].</param>
    /// <param name="gatesStride">Row stride of <paramref name="gates"/>.</param>
    /// <param name="ghN">B rows of [H].</param>
    /// <param name="ghNStride">Row stride of <paramref name="ghN"/>.</param>
    /// <param name="biasIh">[3H] or empty.</param>
    /// <param name="biasHh">[3H] or empty.</param>
    /// <param name="hPrev">B rows of [H].</param>
    /// <param name="hPrevStride">Row stride of <paramref name="hPrev"/>.</param>
    /// <param name="h">B rows of [H].</param>
    /// <param name="hStride">Row stride of <paramref name="h"/>.</param>
    /// <param name="saveActivations">Whether to keep n for backward.</param>
    /// <param name="variant">The kernel variant; <see cref="KernelCatalog.Active"/> when null.</param>
    /// <exception cref="ArgumentException">A buffer is too short or a stride too small, or the variant is unsupported.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is negative.</exception>
    public static void ForwardStage2(
        int batch, int hiddenSize, Span<float> gates, int gatesStride, ReadOnlySpan<float> ghN, int ghNStride, ReadOnlySpan<float> biasIh,
        ReadOnlySpan<float> biasHh, ReadOnlySpan<float> hPrev, int hPrevStride, Span<float> h, int hStride, bool saveActivations,
        KernelVariant? variant = null)
    {
        var v = Variants.Resolve(variant);
        Shapes.Dimensions(batch, hiddenSize);
        int n = hiddenSize;
        Shapes.Rows(gates.Length, batch, 3 * n, gatesStride, nameof(gates));
        Shapes.Rows(ghN.Length, batch, n, ghNStride, nameof(ghN));
        Shapes.OptionalVector(biasIh.Length, 3 * n, nameof(biasIh));
        Shapes.OptionalVector(biasHh.Length, 3 * n, nameof(biasHh));
        Shapes.Rows(hPrev.Length, batch, n, hPrevStride, nameof(hPrev));
        Shapes.Rows(h.Length, batch, n, hStride, nameof(h));
        fixed (float* pg = gates)
        fixed (float* pghn = ghN)
        fixed (float* pbi = biasIh)
        fixed (float* pbh = biasHh)
        fixed (float* php = hPrev)
        fixed (float* ph = h)
        {
            for (int b = 0; b < batch; b++)
            {
                var k = new Stage2Row
                {
                    Gates = pg + ((nint)b * gatesStride),
                    GhN = pghn + ((nint)b * ghNStride),
                    BiasIn = pbi == null ? null : pbi + (2 * n),
                    BiasHn = pbh == null ? null : pbh + (2 * n),
                    HPrev = php + ((nint)b * hPrevStride),
                    H = ph + ((nint)b * hStride),
                    Hidden = n,
                    Save = saveActivations,
                };
                RowDriver.Run(ref k, n, v);
            }
        }
    }

    /// <summary>Backward of stage 2 for <paramref name="batch"/> rows; see the row overload.</summary>
    /// <param name="batch">B.</param>
    /// <param name="hiddenSize">H.</param>
    /// <param name="gates">B rows of [3H].</param>
    /// <param name="gatesStride">Row stride of <paramref name="gates"/>.</param>
    /// <param name="hPrev">B rows of [H].</param>
    /// <param name="hPrevStride">Row stride of <paramref name="hPrev"/>.</param>
    /// <param name="dh">B rows of [H].</param>
    /// <param name="dhStride">Row stride of <paramref name="dh"/>.</param>
    /// <param name="dGates">B rows of [3H].</param>
    /// <param name="dGatesStride">Row stride of <paramref name="dGates"/>.</param>
    /// <param name="dhPrev">B rows of [H].</param>
    /// <param name="dhPrevStride">Row stride of <paramref name="dhPrev"/>.</param>
    /// <param name="variant">The kernel variant; <see cref="KernelCatalog.Active"/> when null.</param>
    /// <exception cref="ArgumentException">A buffer is too short or a stride too small, or the variant is unsupported.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is negative.</exception>
    public static void BackwardStage2(
        int batch, int hiddenSize, ReadOnlySpan<float> gates, int gatesStride, ReadOnlySpan<float> hPrev, int hPrevStride,
        ReadOnlySpan<float> dh, int dhStride, Span<float> dGates, int dGatesStride, Span<float> dhPrev, int dhPrevStride,
        KernelVariant? variant = null)
    {
        BackwardStage<BackwardStage2Row>(batch, hiddenSize, gates, gatesStride, hPrev, hPrevStride, dh, dhStride, nameof(dh), dGates, dGatesStride, dhPrev, dhPrevStride, variant);
    }

    /// <summary>Backward of stage 1 for <paramref name="batch"/> rows; see the row overload.</summary>
    /// <param name="batch">B.</param>
    /// <param name="hiddenSize">H.</param>
    /// <param name="gates">B rows of [3H].</param>
    /// <param name="gatesStride">Row stride of <paramref name="gates"/>.</param>
    /// <param name="hPrev">B rows of [H].</param>
    /// <param name="hPrevStride">Row stride of <paramref name="hPrev"/>.</param>
    /// <param name="dRh">B rows of [H].</param>
    /// <param name="dRhStride">Row stride of <paramref name="dRh"/>.</param>
    /// <param name="dGates">B rows of [3H].</param>
    /// <param name="dGatesStride">Row stride of <paramref name="dGates"/>.</param>
    /// <param name="dhPrev">B rows of [H], accumulated into.</param>
    /// <param name="dhPrevStride">Row stride of <paramref name="dhPrev"/>.</param>
    /// <param name="variant">The kernel variant; <see cref="KernelCatalog.Active"/> when null.</param>
    /// <exception cref="ArgumentException">A buffer is too short or a stride too small, or the variant is unsupported.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is negative.</exception>
    public static void BackwardStage1(
        int batch, int hiddenSize, ReadOnlySpan<float> gates, int gatesStride, ReadOnlySpan<float> hPrev, int hPrevStride,
        ReadOnlySpan<float> dRh, int dRhStride, Span<float> dGates, int dGatesStride, Span<float> dhPrev, int dhPrevStride,
        KernelVariant? variant = null)
    {
        BackwardStage<BackwardStage1Row>(batch, hiddenSize, gates, gatesStride, hPrev, hPrevStride, dRh, dRhStride, nameof(dRh), dGates, dGatesStride, dhPrev, dhPrevStride, variant);
    }

    /// <summary>The batch loop of both backward stages: B rows of gates (3H), h_prev, the incoming gradient (H), dGates (3H), dh_prev (H).</summary>
    private static void BackwardStage<TK>(
        int batch, int hiddenSize, ReadOnlySpan<float> gates, int gatesStride, ReadOnlySpan<float> hPrev, int hPrevStride,
        ReadOnlySpan<float> d, int dStride, string dName, Span<float> dGates, int dGatesStride, Span<float> dhPrev, int dhPrevStride,
        KernelVariant? variant)
        where TK : struct, IRowKernel, IStageBackwardRow<TK>
    {
        var v = Variants.Resolve(variant);
        Shapes.Dimensions(batch, hiddenSize);
        int n = hiddenSize;
        Shapes.Rows(gates.Length, batch, 3 * n, gatesStride, nameof(gates));
        Shapes.Rows(hPrev.Length, batch, n, hPrevStride, nameof(hPrev));
        Shapes.Rows(d.Length, batch, n, dStride, dName);
        Shapes.Rows(dGates.Length, batch, 3 * n, dGatesStride, nameof(dGates));
        Shapes.Rows(dhPrev.Length, batch, n, dhPrevStride, nameof(dhPrev));
        fixed (float* pg = gates)
        fixed (float* php = hPrev)
        fixed (float* pd = d)
        fixed (float* pdg = dGates)
        fixed (float* pdhp = dhPrev)
        {
            for (int b = 0; b < batch; b++)
            {
                var k = TK.At(
                    pg + ((nint)b * gatesStride), php + ((nint)b * hPrevStride), pd + ((nint)b * dStride), pdg + ((nint)b * dGatesStride),
                    pdhp + ((nint)b * dhPrevStride), n);
                RowDriver.Run(ref k, n, v);
            }
        }
    }

    /// <summary>Stage 1 for one row at width <typeparamref name="TS"/> with no checks or dispatch; the biases may be null.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void ForwardStage1<TS, TV>(nint hidden, float* gi, float* ghRz, float* biasIh, float* biasHh, float* hPrev, float* rh)
        where TS : struct, ISimd<TV>
        where TV : unmanaged
    {
        var k = new Stage1Row { Gi = gi, GhRz = ghRz, BiasIh = biasIh, BiasHh = biasHh, HPrev = hPrev, Rh = rh, Hidden = hidden };
        RowDriver.Run<Stage1Row, TS, TV>(ref k, hidden);
    }

    /// <summary>Stage 2 for one row at width <typeparamref name="TS"/> with no checks or dispatch; the biases (3H) may be null.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void ForwardStage2<TS, TV>(nint hidden, float* gates, float* ghN, float* biasIh, float* biasHh, float* hPrev, float* h, bool saveActivations)
        where TS : struct, ISimd<TV>
        where TV : unmanaged
    {
        var k = new Stage2Row
        {
            Gates = gates,
            GhN = ghN,
            BiasIn = biasIh == null ? null : biasIh + (2 * hidden),
            BiasHn = biasHh == null ? null : biasHh + (2 * hidden),
            HPrev = hPrev,
            H = h,
            Hidden = hidden,
            Save = saveActivations,
        };
        RowDriver.Run<Stage2Row, TS, TV>(ref k, hidden);
    }

    /// <summary>Backward stage 2 for one row at width <typeparamref name="TS"/>, no checks.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void BackwardStage2<TS, TV>(nint hidden, float* gates, float* hPrev, float* dh, float* dGates, float* dhPrev)
        where TS : struct, ISimd<TV>
        where TV : unmanaged
    {
        var k = new BackwardStage2Row { Gates = gates, HPrev = hPrev, Dh = dh, DGates = dGates, DhPrev = dhPrev, Hidden = hidden };
        RowDriver.Run<BackwardStage2Row, TS, TV>(ref k, hidden);
    }

    /// <summary>Backward stage 1 for one row at width <typeparamref name="TS"/>, no checks.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void BackwardStage1<TS, TV>(nint hidden, float* gates, float* hPrev, float* dRh, float* dGates, float* dhPrev)
        where TS : struct, ISimd<TV>
        where TV : unmanaged
    {
        var k = new BackwardStage1Row { Gates = gates, HPrev = hPrev, DRh = dRh, DGates = dGates, DhPrev = dhPrev };
        RowDriver.Run<BackwardStage1Row, TS, TV>(ref k, hidden);
    }

    private struct Stage1Row : IRowKernel, IGruForwardRow<Stage1Row>
    {
        public float* Gi;
        public float* GhRz;
        public float* BiasIh;
        public float* BiasHh;
        public float* HPrev;
        public float* Rh;
        public nint Hidden;

        public static Stage1Row At(float* gi, float* gh, float* biasIh, float* biasHh, float* hPrev, float* output, nint hidden, bool save) =>
            new() { Gi = gi, GhRz = gh, BiasIh = biasIh, BiasHh = biasHh, HPrev = hPrev, Rh = output, Hidden = hidden };

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public readonly void Step<TS, TV>(nint j)
            where TS : struct, ISimd<TV>
            where TV : unmanaged
        {
            nint n = Hidden;
            float* gi = Gi + j;
            var ar = TS.Add(TS.Load(gi), TS.Load(GhRz + j));
            var az = TS.Add(TS.Load(gi + n), TS.Load(GhRz + n + j));
            if (BiasIh != null)
            {
                ar = TS.Add(ar, TS.Load(BiasIh + j));
                az = TS.Add(az, TS.Load(BiasIh + n + j));
            }

            if (BiasHh != null)
            {
                ar = TS.Add(ar, TS.Load(BiasHh + j));
                az = TS.Add(az, TS.Load(BiasHh + n + j));
            }

            var r = SigmoidOperator.Invoke<TS, TV>(ar);
            var z = SigmoidOperator.Invoke<TS, TV>(az);
            var hp = TS.Load(HPrev + j);
            TS.Store(r, gi);
            TS.Store(z, gi + n);
            TS.Store(TS.Multiply(r, hp), Rh + j);
        }
    }

    private struct Stage2Row : IRowKernel
    {
        public float* Gates;
        public float* GhN;
        public float* BiasIn;
        public float* BiasHn;
        public float* HPrev;
        public float* H;
        public nint Hidden;
        public bool Save;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public readonly void Step<TS, TV>(nint j)
            where TS : struct, ISimd<TV>
            where TV : unmanaged
        {
            nint n = Hidden;
            float* g = Gates + j;
            var z = TS.Load(g + n);
            var an = TS.Add(TS.Load(g + (2 * n)), TS.Load(GhN + j));
            if (BiasIn != null)
            {
                an = TS.Add(an, TS.Load(BiasIn + j));
            }

            if (BiasHn != null)
            {
                an = TS.Add(an, TS.Load(BiasHn + j));
            }

            var nn = TanhOperator.Invoke<TS, TV>(an);
            // As GruGates: (1 − z)·n + z·h_prev, only the last multiply-add waiting on tanh.
            var hp = TS.Load(HPrev + j);
            TS.Store(TS.MultiplyAdd(TS.Subtract(TS.Create(1f), z), nn, TS.Multiply(z, hp)), H + j);
            if (Save)
            {
                TS.Store(nn, g + (2 * n));
            }
        }
    }

    /// <summary>A backward stage's row kernel from one batch row's buffers.</summary>
    private interface IStageBackwardRow<TK>
        where TK : struct, IRowKernel
    {
        static abstract TK At(float* gates, float* hPrev, float* d, float* dGates, float* dhPrev, nint hidden);
    }

    private struct BackwardStage2Row : IRowKernel, IStageBackwardRow<BackwardStage2Row>
    {
        public float* Gates;
        public float* HPrev;
        public float* Dh;
        public float* DGates;
        public float* DhPrev;
        public nint Hidden;

        public static BackwardStage2Row At(float* gates, float* hPrev, float* d, float* dGates, float* dhPrev, nint hidden) =>
            new() { Gates = gates, HPrev = hPrev, Dh = d, DGates = dGates, DhPrev = dhPrev, Hidden = hidden };

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public readonly void Step<TS, TV>(nint j)
            where TS : struct, ISimd<TV>
            where TV : unmanaged
        {
            nint n = Hidden;
            float* g = Gates + j;
            var z = TS.Load(g + n);
            var nn = TS.Load(g + (2 * n));
            var hp = TS.Load(HPrev + j);
            var dh = TS.Load(Dh + j);
            var daz = TS.Multiply(TS.Multiply(dh, TS.Subtract(hp, nn)), SigmoidDerivativeFromOutputOperator.Invoke<TS, TV>(z));
            var dan = TS.Multiply(TS.Multiply(dh, TS.Subtract(TS.Create(1f), z)), TanhDerivativeFromOutputOperator.Invoke<TS, TV>(nn));
            float* d = DGates + j;
            TS.Store(daz, d + n);
            TS.Store(dan, d + (2 * n));
            TS.Store(TS.Multiply(dh, z), DhPrev + j);
        }
    }

    private struct BackwardStage1Row : IRowKernel, IStageBackwardRow<BackwardStage1Row>
    {
        public float* Gates;
        public float* HPrev;
        public float* DRh;
        public float* DGates;
        public float* DhPrev;

        public static BackwardStage1Row At(float* gates, float* hPrev, float* d, float* dGates, float* dhPrev, nint hidden) =>
            new() { Gates = gates, HPrev = hPrev, DRh = d, DGates = dGates, DhPrev = dhPrev };

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public readonly void Step<TS, TV>(nint j)
            where TS : struct, ISimd<TV>
            where TV : unmanaged
        {
            var r = TS.Load(Gates + j);
            var hp = TS.Load(HPrev + j);
            var drh = TS.Load(DRh + j);
            var dhp = TS.Load(DhPrev + j);
            TS.Store(TS.Multiply(TS.Multiply(drh, hp), SigmoidDerivativeFromOutputOperator.Invoke<TS, TV>(r)), DGates + j);
            TS.Store(TS.MultiplyAdd(drh, r, dhp), DhPrev + j);
        }
    }
}
