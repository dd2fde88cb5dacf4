using System.Runtime.CompilerServices;
using RecurrentCore.Kernels.Operators;
using RecurrentCore.Kernels.Simd;

namespace RecurrentCore.Kernels.Gates;

/// <summary>One fused, elementwise step of a gate kernel at hidden index <c>j</c>, for lanes <c>j .. j + TS.Count</c>.</summary>
internal interface IRowKernel
{
    /// <summary>Reads every input at <paramref name="j"/>, computes, writes every output at <paramref name="j"/>.</summary>
    void Step<TS, TV>(nint j)
        where TS : struct, ISimd<TV>
        where TV : unmanaged;
}

/// <summary>
/// The one loop for every gate kernel: the variant's register width over the row, then the remainder in descending
/// widths (256, 128, scalar) so each hidden index is touched exactly once. Gate kernels read several streams and write
/// some of them in place, so the overlapping last register of <see cref="UnaryDriver"/> would re-read outputs.
/// </summary>
internal static class RowDriver
{
    /// <summary>Runs <paramref name="kernel"/> over <c>0 ≤ j &lt; hidden</c> with <paramref name="variant"/> (supported; not checked).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run<TK>(ref TK kernel, nint hidden, KernelVariant variant)
        where TK : struct, IRowKernel
    {
        var run = new Remainder<TK> { Kernel = kernel, Hidden = hidden, Start = 0 };
        KernelCatalog.Visit<Remainder<TK>, nint>(variant, ref run);
    }

    /// <summary>Runs <paramref name="kernel"/> over <c>0 ≤ j &lt; hidden</c> at width <typeparamref name="TS"/>; no checks, no dispatch.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Run<TK, TS, TV>(ref TK kernel, nint hidden)
        where TK : struct, IRowKernel
        where TS : struct, ISimd<TV>
        where TV : unmanaged
    {
        var run = new Remainder<TK> { Kernel = kernel, Hidden = hidden, Start = 0 };
        run.Visit<TS, TV>();
    }

    /// <summary>Whole registers of the visited width from <see cref="Start"/>, then narrower ones down to scalar; returns <see cref="Hidden"/>.</summary>
    private struct Remainder<TK> : ISimdVisitor<nint>
        where TK : struct, IRowKernel
    {
        public TK Kernel;
        public nint Hidden;
        public nint Start;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public nint Visit<TS, TV>()
            where TS : struct, ISimd<TV>
            where TV : unmanaged
        {
            nint j = Start;
            for (; j + TS.Count <= Hidden; j += TS.Count)
            {
                Kernel.Step<TS, TV>(j);
            }

            if (j < Hidden && TS.Count > 1)
            {
                Start = j;
                return TS.Count > Simd256.Count ? Simd256.Accept<Remainder<TK>, nint>(ref this)
                    : TS.Count > Simd128.Count ? Simd128.Accept<Remainder<TK>, nint>(ref this)
                    : SimdScalar.Accept<Remainder<TK>, nint>(ref this);
            }

            return Hidden;
        }
    }
}
