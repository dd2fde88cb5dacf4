using System.Runtime.CompilerServices;
using RecurrentCore.Kernels.Operators;
using RecurrentCore.Kernels.Simd;

namespace RecurrentCore.Kernels.Gates;

/// <summary>
/// The gates of the general ONNX GRU (any activations f, g with α/β, clip, both linear_before_reset), ONNX gate order
/// (z, r, h). A gate row holds <c>[a_z | a_r | a_h]</c> (3H) = <c>W x + Wb</c>, plus Rb for z and r (and for h when
/// linear_before_reset = 0, where Rb_h sits outside r):
/// <code>
/// z = f(clip(a_z + R_z h))   r = f(clip(a_r + R_r h))
/// h̃ = g(clip(a_h + R_h(r⊙h)))  (linear_before_reset 0)    g(clip(a_h + r⊙(R_h h + Rb_h)))  (1)
/// h' = (1 − z)⊙h̃ + z⊙h
/// </code>
/// Three stages around the cell's products: <see cref="ResetAndUpdate"/>, <see cref="ResetHidden"/> (r⊙h, for 0),
/// <see cref="Candidate"/>. Forward only. Allocates nothing.
/// </summary>
internal static unsafe class OnnxGruGates
{
    /// <summary>[a_z | a_r] += rec; clip; f, for B contiguous rows of gates (3H) and rec (<paramref name="recStride"/>).</summary>
    public static void ResetAndUpdate(int batch, int hidden, Span<float> gates, ReadOnlySpan<float> rec, int recStride, float clip, in GateActivation f, KernelVariant variant)
    {
        Shapes.Dimensions(batch, hidden);
        int n = hidden;
        Shapes.Rows(gates.Length, batch, 3 * n, 3 * n, nameof(gates));
        Shapes.Rows(rec.Length, batch, 2 * n, recStride, nameof(rec));
        for (int b = 0; b < batch; b++)
        {
            var zr = gates.Slice(b * 3 * n, 2 * n);
            System.Numerics.Tensors.TensorPrimitives.Add(zr, rec.Slice(b * recStride, 2 * n), zr);
            GateActivation.Clip(zr, clip, variant);
            f.Apply(zr, variant);
        }
    }

    /// <summary>rh = r⊙h_prev for B contiguous rows (gates 3H, h_prev and rh H).</summary>
    public static void ResetHidden(int batch, int hidden, ReadOnlySpan<float> gates, ReadOnlySpan<float> hPrev, Span<float> rh, KernelVariant variant)
    {
        Shapes.Dimensions(batch, hidden);
        int n = hidden;
        Shapes.Rows(gates.Length, batch, 3 * n, 3 * n, nameof(gates));
        Shapes.Rows(hPrev.Length, batch, n, n, nameof(hPrev));
        Shapes.Rows(rh.Length, batch, n, n, nameof(rh));
        fixed (float* pg = gates)
        fixed (float* ph = hPrev)
        fixed (float* prh = rh)
        {
            for (int b = 0; b < batch; b++)
            {
                var k = new ProductRow { A = pg + ((nint)b * 3 * n) + n, B = ph + ((nint)b * n), Y = prh + ((nint)b * n) };
                RowDriver.Run(ref k, n, variant);
            }
        }
    }

    /// <summary>
    /// h̃ = g(clip(a_h + (r⊙(rec_h + Rb_h) when <paramref name="biasH"/> is given (linear_before_reset 1), else rec_h))),
    /// then h' = (1 − z)⊙h̃ + z⊙h_prev, for B contiguous rows; rec_h rows are <paramref name="recStride"/> apart.
    /// </summary>
    public static void Candidate(
        int batch, int hidden, Span<float> gates, ReadOnlySpan<float> recH, int recStride, ReadOnlySpan<float> biasH, bool linearBeforeReset,
        float clip, in GateActivation g, ReadOnlySpan<float> hPrev, Span<float> h, KernelVariant variant)
    {
        Shapes.Dimensions(batch, hidden);
        int n = hidden;
        Shapes.Rows(gates.Length, batch, 3 * n, 3 * n, nameof(gates));
        Shapes.Rows(recH.Length, batch, n, recStride, nameof(recH));
        Shapes.OptionalVector(biasH.Length, n, nameof(biasH));
        Shapes.Rows(hPrev.Length, batch, n, n, nameof(hPrev));
        Shapes.Rows(h.Length, batch, n, n, nameof(h));
        fixed (float* pg = gates)
        fixed (float* pr = recH)
        fixed (float* pb = biasH)
        fixed (float* php = hPrev)
        fixed (float* ph = h)
        {
            for (int b = 0; b < batch; b++)
            {
                float* a = pg + ((nint)b * 3 * n);
                var pre = new CandidateInput { Gates = a, Rec = pr + ((nint)b * recStride), Bias = pb, Reset = linearBeforeReset, Hidden = n };
                RowDriver.Run(ref pre, n, variant);
                var cand = gates.Slice((b * 3 * n) + (2 * n), n);
                GateActivation.Clip(cand, clip, variant);
                g.Apply(cand, variant);
                var mix = new Mix { Z = a, N = a + (2 * n), HPrev = php + ((nint)b * n), H = ph + ((nint)b * n) };
                RowDriver.Run(ref mix, n, variant);
            }
        }
    }

    /// <summary>a_h += r⊙(rec_h + Rb_h) (linear_before_reset 1) or rec_h (0).</summary>
    private struct CandidateInput : IRowKernel
    {
        public float* Gates;
        public float* Rec;
        public float* Bias;
        public bool Reset;
        public nint Hidden;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public readonly void Step<TS, TV>(nint j)
            where TS : struct, ISimd<TV>
            where TV : unmanaged
        {
            nint n = Hidden;
            var rec = TS.Load(Rec + j);
            var a = TS.Load(Gates + (2 * n) + j);
            if (Reset)
            {
                var inner = Bias == null ? rec : TS.Add(rec, TS.Load(Bias + j));
                TS.Store(TS.MultiplyAdd(TS.Load(Gates + n + j), inner, a), Gates + (2 * n) + j);
            }
            else
            {
                TS.Store(TS.Add(a, rec), Gates + (2 * n) + j);
            }
        }
    }

    /// <summary>h' = (1 − z)⊙h̃ + z⊙h_prev.</summary>
    private struct Mix : IRowKernel
    {
        public float* Z;
        public float* N;
        public float* HPrev;
        public float* H;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public readonly void Step<TS, TV>(nint j)
            where TS : struct, ISimd<TV>
            where TV : unmanaged
        {
            var z = TS.Load(Z + j);
            var hn = TS.MultiplyAdd(TS.Subtract(TS.Create(1f), z), TS.Load(N + j), TS.Multiply(z, TS.Load(HPrev + j)));
            TS.Store(hn, H + j);
        }
    }
}
