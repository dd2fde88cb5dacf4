using System.Runtime.CompilerServices;

namespace RecurrentCore.Kernels.Operators;

/// <summary>
/// The one loop for every <see cref="IUnaryOperator"/>: full registers of the variant's width, then the last register
/// overlapping the previous one. The last register is loaded before anything is stored, so <c>y</c> may be <c>x</c>.
/// Lengths shorter than a register fall through to the next narrower variant, ending in scalar.
/// </summary>
internal static unsafe class UnaryDriver
{
    public static void Invoke<TOp>(ReadOnlySpan<float> x, Span<float> y, KernelVariant variant)
        where TOp : IUnaryOperator
    {
        if (x.Length != y.Length)
        {
            throw new ArgumentException($"x has {x.Length} elements but y has {y.Length}", nameof(y));
        }

        if (x.Overlaps(y, out var offset) && offset != 0)
        {
            throw new ArgumentException("x and y must be the same span or not overlap", nameof(y));
        }

        variant = Variants.Resolve(variant);
        nint n = x.Length;
        fixed (float* px = x)
        fixed (float* py = y)
        {
            switch (variant)
            {
                case KernelVariant.Avx512 when n >= Lanes512.Count:
                    Run<TOp, Lanes512>(px, py, n);
                    break;
                case KernelVariant.Avx512 or KernelVariant.Avx2Fma when n >= Lanes256.Count:
                    Run<TOp, Lanes256>(px, py, n);
                    break;
                case KernelVariant.Avx512 or KernelVariant.Avx2Fma or KernelVariant.VectorT when n >= Lanes128.Count:
                    Run<TOp, Lanes128>(px, py, n);
                    break;
                default:
                    for (nint i = 0; i < n; i++)
                    {
                        LanesScalar.Store(TOp.Invoke(LanesScalar.Load(px + i)), py + i);
                    }

                    break;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Run<TOp, TL>(float* x, float* y, nint n)
        where TOp : IUnaryOperator
        where TL : unmanaged, ILanes<TL>
    {
        nint w = TL.Count;
        nint lastAt = n - w;
        var last = TL.Load(x + lastAt);
        nint i = 0;
        for (; i + (2 * w) <= lastAt; i += 2 * w)
        {
            // Two independent registers per trip: the exp/divide chains are long and overlap well.
            var a = TL.Load(x + i);
            var b = TL.Load(x + i + w);
            TL.Store(TOp.Invoke(a), y + i);
            TL.Store(TOp.Invoke(b), y + i + w);
        }

        for (; i < lastAt; i += w)
        {
            TL.Store(TOp.Invoke(TL.Load(x + i)), y + i);
        }

        TL.Store(TOp.Invoke(last), y + lastAt);
    }
}
