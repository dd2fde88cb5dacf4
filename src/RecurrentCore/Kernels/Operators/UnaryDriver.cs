using System.Runtime.CompilerServices;
using RecurrentCore.Kernels.Simd;

namespace RecurrentCore.Kernels.Operators;

/// <summary>
/// The one loop for every <see cref="IUnaryOperator"/>: full registers of the variant's width, then the last register
/// overlapping the previous one. The last register is loaded before anything is stored, so <c>y</c> may be <c>x</c>.
/// Lengths shorter than a register fall through to the next narrower width, ending in scalar.
/// </summary>
internal static unsafe class UnaryDriver
{
    /// <summary>Checks the spans, then applies <typeparamref name="TOp"/> with <paramref name="variant"/>.</summary>
    /// <exception cref="ArgumentException">Lengths differ, the spans partially overlap, or the variant is unsupported.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Invoke<TOp>(ReadOnlySpan<float> x, Span<float> y, KernelVariant variant)
        where TOp : IUnaryOperator
    {
        CheckSpans(x, y);
        variant = Variants.Resolve(variant);
        fixed (float* px = x)
        fixed (float* py = y)
        {
            var run = new Apply<TOp> { X = px, Y = py, N = x.Length };
            KernelCatalog.Visit<Apply<TOp>, bool>(variant, ref run);
        }
    }

    /// <summary>The elementwise operators' span contract: equal lengths, and <paramref name="y"/> is <paramref name="x"/> or does not overlap it.</summary>
    /// <exception cref="ArgumentException">Lengths differ or the spans partially overlap.</exception>
    internal static void CheckSpans(ReadOnlySpan<float> x, Span<float> y)
    {
        if (x.Length != y.Length)
        {
            throw new ArgumentException($"x has {x.Length} elements but y has {y.Length}", nameof(y));
        }

        if (x.Overlaps(y, out var offset) && offset != 0)
        {
            throw new ArgumentException("x and y must be the same span or not overlap", nameof(y));
        }
    }

    /// <summary>
    /// <c>y[i] = TOp(x[i])</c> for <c>i &lt; n</c> at width <typeparamref name="TS"/> (narrower for short rows); no checks.
    /// <paramref name="y"/> is <paramref name="x"/> or does not overlap it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Run<TOp, TS, TV>(float* x, float* y, nint n)
        where TOp : IUnaryOperator
        where TS : struct, ISimd<TV>
        where TV : unmanaged
    {
        if (n >= TS.Count)
        {
            Loop<TOp, TS, TV>(x, y, n);
            return;
        }

        var run = new Apply<TOp> { X = x, Y = y, N = n };
        if (TS.Count > Simd256.Count && n >= Simd256.Count)
        {
            Simd256.Accept<Apply<TOp>, bool>(ref run);
        }
        else if (TS.Count > Simd128.Count && n >= Simd128.Count)
        {
            Simd128.Accept<Apply<TOp>, bool>(ref run);
        }
        else if (n > 0)
        {
            Loop<TOp, SimdScalar, float>(x, y, n);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Loop<TOp, TS, TV>(float* x, float* y, nint n)
        where TOp : IUnaryOperator
        where TS : struct, ISimd<TV>
        where TV : unmanaged
    {
        nint w = TS.Count;
        nint lastAt = n - w;
        var last = TS.Load(x + lastAt);
        nint i = 0;
        for (; i + (2 * w) <= lastAt; i += 2 * w)
        {
            // Two independent registers per trip: the exp/divide chains are long and overlap well.
            var a = TS.Load(x + i);
            var b = TS.Load(x + i + w);
            TS.Store(TOp.Invoke<TS, TV>(a), y + i);
            TS.Store(TOp.Invoke<TS, TV>(b), y + i + w);
        }

        for (; i < lastAt; i += w)
        {
            TS.Store(TOp.Invoke<TS, TV>(TS.Load(x + i)), y + i);
        }

        TS.Store(TOp.Invoke<TS, TV>(last), y + lastAt);
    }

    private struct Apply<TOp> : ISimdVisitor<bool>
        where TOp : IUnaryOperator
    {
        public float* X;
        public float* Y;
        public nint N;

        public readonly bool Visit<TS, TV>()
            where TS : struct, ISimd<TV>
            where TV : unmanaged
        {
            Run<TOp, TS, TV>(X, Y, N);
            return true;
        }
    }
}
