using System.Runtime.CompilerServices;
using RecurrentCore.Kernels.Operators;
using RecurrentCore.Kernels.Simd;

namespace RecurrentCore.Kernels.Gates;

/// <summary>
/// The gates of the general ONNX LSTM (any activations f, g, h with α/β, clip, input_forget, peepholes), ONNX gate
/// order (i, o, f, c). A gate row holds <c>[a_i | a_o | a_f | a_c]</c> (4H), already <c>W x + R h + Wb + Rb</c>:
/// <code>
/// i = f(clip(a_i + P_i⊙c_prev))   f_t = f(clip(a_f + P_f⊙c_prev))  (1 − i with input_forget)   c̃ = g(clip(a_c))
/// c = f_t⊙c_prev + i⊙c̃   o = f(clip(a_o + P_o⊙c))   h = o⊙h(c)
/// </code>
/// Each activation is one vectorised pass over its gate blocks (<see cref="GateActivation"/>), the pointwise algebra
/// one fused pass (<see cref="RowDriver"/>). Forward only (inference). Allocates nothing.
/// </summary>
internal static unsafe class OnnxLstmGates
{
    /// <summary>The gates of <paramref name="batch"/> contiguous rows; the gate rows are overwritten (activations).</summary>
    /// <param name="batch">B.</param>
    /// <param name="hidden">H.</param>
    /// <param name="gates">(B, 4H) pre-activations.</param>
    /// <param name="peepholes">(3H) [P_i | P_o | P_f], or empty for none.</param>
    /// <param name="clip">The clip threshold, +Inf for none.</param>
    /// <param name="inputForget">Whether f_t = 1 − i.</param>
    /// <param name="f">The gates' activation.</param>
    /// <param name="g">The cell candidate's activation.</param>
    /// <param name="h">The output activation of c.</param>
    /// <param name="cPrev">(B, H).</param>
    /// <param name="c">(B, H) the new cell state; may be <paramref name="cPrev"/>.</param>
    /// <param name="hOut">(B, H) the new hidden state.</param>
    /// <param name="scratch">(H) for h(c).</param>
    /// <param name="variant">A supported variant.</param>
    /// <exception cref="ArgumentException">A buffer has the wrong length, or the variant is unsupported.</exception>
    public static void Forward(
        int batch, int hidden, Span<float> gates, ReadOnlySpan<float> peepholes, float clip, bool inputForget,
        in GateActivation f, in GateActivation g, in GateActivation h, ReadOnlySpan<float> cPrev, Span<float> c, Span<float> hOut,
        Span<float> scratch, KernelVariant variant)
    {
        Shapes.Dimensions(batch, hidden);
        int n = hidden;
        Shapes.Rows(gates.Length, batch, 4 * n, 4 * n, nameof(gates));
        bool hasP = Shapes.OptionalVector(peepholes.Length, 3 * n, nameof(peepholes));
        Shapes.Rows(cPrev.Length, batch, n, n, nameof(cPrev));
        Shapes.Rows(c.Length, batch, n, n, nameof(c));
        Shapes.Rows(hOut.Length, batch, n, n, nameof(hOut));
        Shapes.Rows(scratch.Length, 1, n, n, nameof(scratch));
        fixed (float* pg = gates)
        fixed (float* pp = peepholes)
        fixed (float* pcp = cPrev)
        fixed (float* pc = c)
        fixed (float* ph = hOut)
        fixed (float* ps = scratch)
        {
            for (int b = 0; b < batch; b++)
            {
                var row = gates.Slice(b * 4 * n, 4 * n);
                float* a = pg + ((nint)b * 4 * n), cp = pcp + ((nint)b * n), cn = pc + ((nint)b * n);
                if (hasP)
                {
                    var peep = new PeepholeIn { Gates = a, P = pp, CPrev = cp, Hidden = n };
                    RowDriver.Run(ref peep, n, variant);
                    GateActivation.Clip(row[..n], clip, variant);
                    GateActivation.Clip(row[(2 * n)..], clip, variant);
                    f.Apply(row[..n], variant);
                    if (!inputForget)
                    {
                        f.Apply(row.Slice(2 * n, n), variant);
                    }
                }
                else
                {
                    // Without P_o the output gate needs no c: i, o (and f) are one contiguous pass.
                    GateActivation.Clip(row, clip, variant);
                    f.Apply(row[..((inputForget ? 2 : 3) * n)], variant);
                }

                g.Apply(row.Slice(3 * n, n), variant);
                var cell = new CellUpdate
                {
                    Gates = a, CPrev = cp, C = cn, PeepholeO = hasP ? pp + n : null, Clip = clip, InputForget = inputForget, Hidden = n,
                };
                RowDriver.Run(ref cell, n, variant);
                if (hasP)
                {
                    f.Apply(row.Slice(n, n), variant);
                }

                h.Apply(new ReadOnlySpan<float>(cn, n), scratch[..n], variant);
                var output = new ProductRow { A = a + n, B = ps, Y = ph + ((nint)b * n) };
                RowDriver.Run(ref output, n, variant);
            }
        }
    }

    /// <summary>a_i += P_i⊙c_prev, a_f += P_f⊙c_prev.</summary>
    private struct PeepholeIn : IRowKernel
    {
        public float* Gates;
        public float* P;
        public float* CPrev;
        public nint Hidden;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public readonly void Step<TS, TV>(nint j)
            where TS : struct, ISimd<TV>
            where TV : unmanaged
        {
            nint n = Hidden;
            var cp = TS.Load(CPrev + j);
            TS.Store(TS.MultiplyAdd(TS.Load(P + j), cp, TS.Load(Gates + j)), Gates + j);
            TS.Store(TS.MultiplyAdd(TS.Load(P + (2 * n) + j), cp, TS.Load(Gates + (2 * n) + j)), Gates + (2 * n) + j);
        }
    }

    /// <summary>c = f_t⊙c_prev + i⊙c̃; with P_o, a_o = clip(a_o + P_o⊙c).</summary>
    private struct CellUpdate : IRowKernel
    {
        public float* Gates;
        public float* CPrev;
        public float* C;
        public float* PeepholeO;
        public float Clip;
        public bool InputForget;
        public nint Hidden;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public readonly void Step<TS, TV>(nint j)
            where TS : struct, ISimd<TV>
            where TV : unmanaged
        {
            nint n = Hidden;
            var i = TS.Load(Gates + j);
            var ft = InputForget ? TS.Subtract(TS.Create(1f), i) : TS.Load(Gates + (2 * n) + j);
            var c = TS.MultiplyAdd(ft, TS.Load(CPrev + j), TS.Multiply(i, TS.Load(Gates + (3 * n) + j)));
            TS.Store(c, C + j);
            if (PeepholeO != null)
            {
                var clip = TS.Create(Clip);
                var o = TS.MultiplyAdd(TS.Load(PeepholeO + j), c, TS.Load(Gates + n + j));
                TS.Store(TS.MinNative(clip, TS.MaxNative(TS.Subtract(TS.Zero, clip), o)), Gates + n + j);
            }
        }
    }
}
