using System.Runtime.CompilerServices;
using RecurrentCore.Kernels.Simd;

namespace RecurrentCore.Kernels.Operators;

/// <summary>
/// The one loop for every <see cref="IParametricOperator"/>, as <see cref="UnaryDriver"/>: full registers of the
/// variant's width, then the last register overlapping the previous one (loaded before anything is stored, so
/// <c>y</c> may be <c>x</c>); rows shorter than a register fall through to narrower widths, ending in scalar.
/// </summary>
internal static unsafe class ParametricDriver
{
    /// <summary>Checks the spans, then applies <typeparamref name="TOp"/> with <paramref name="variant"/>.</summary>
    /// <exception cref="ArgumentException">Lengths differ, the spans partially overlap, or the variant is unsupported.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Invoke<TOp>(ReadOnlySpan<float> x, Span<float> y, float alpha, float beta, KernelVariant variant)
        where TOp : IParametricOperator
    {
        UnaryDriver.CheckSpans(x, y);
        variant = Variants.Resolve(variant);
        fixed (float* px = x)
        fixed (float* py = y)
        {
            var run = new Apply<TOp> { X = px, Y = py, N = x.Length, Alpha = alpha, Beta = beta };
            KernelCatalog.Visit<Apply<TOp>, bool>(variant, ref run);
        }
    }

    /// <summary><c>y[i] = TOp(x[i]; α, β)</c> for <c>i &lt; n</c> at width <typeparamref name="TS"/> (narrower for short rows); no checks.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Run<TOp, TS, TV>(float* x, float* y, nint n, float alpha, float beta)
        where TOp : IParametricOperator
        where TS : struct, ISimd<TV>
        where TV : unmanaged
    {
        if (n >= TS.Count)
        {
            Loop<TOp, TS, TV>(x, y, n, alpha, beta);
            return;
        }

        var run = new Apply<TOp> { X = x, Y = y, N = n, Alpha = alpha, Beta = beta };
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
            Loop<TOp, SimdScalar, float>(x, y, n, alpha, beta);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Loop<TOp, TS, TV>(float* x, float* y, nint n, float alpha, float beta)
        where TOp : IParametricOperator
        where TS : struct, ISimd<TV>
        where TV : unmanaged
    {
        nint w = TS.Count;
        nint lastAt = n - w;
        var a = TS.Create(alpha);
        var b = TS.Create(beta);
        var last = TS.Load(x + lastAt);
        nint i = 0;
        for (; i + (2 * w) <= lastAt; i += 2 * w)
        {
            // Two independent registers per trip, as UnaryDriver: the exp/log chains are long and overlap well.
            var u = TS.Load(x + i);
            var v = TS.Load(x + i + w);
            TS.Store(TOp.Invoke<TS, TV>(u, a, b), y + i);
            TS.Store(TOp.Invoke<TS, TV>(v, a, b), y + i + w);
        }

        for (; i < lastAt; i += w)
        {
            TS.Store(TOp.Invoke<TS, TV>(TS.Load(x + i), a, b), y + i);
        }

        TS.Store(TOp.Invoke<TS, TV>(last, a, b), y + lastAt);
    }

    private struct Apply<TOp> : ISimdVisitor<bool>
        where TOp : IParametricOperator
    {
        public float* X;
        public float* Y;
        public nint N;
        public float Alpha;
        public float Beta;

        public readonly bool Visit<TS, TV>()
            where TS : struct, ISimd<TV>
            where TV : unmanaged
        {
            Run<TOp, TS, TV>(X, Y, N, Alpha, Beta);
            return true;
        }
    }
}
