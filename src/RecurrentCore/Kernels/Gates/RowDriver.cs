using System.Runtime.CompilerServices;
using RecurrentCore.Kernels.Operators;

namespace RecurrentCore.Kernels.Gates;

/// <summary>One fused, elementwise step of a gate kernel at hidden index <c>j</c>, for lanes <c>j .. j + TL.Count</c>.</summary>
internal interface IRowKernel
{
    /// <summary>Reads every input at <paramref name="j"/>, computes, writes every output at <paramref name="j"/>.</summary>
    void Step<TL>(nint j)
        where TL : unmanaged, ILanes<TL>;
}

/// <summary>
/// The one loop for every gate kernel: the variant's register width over the row, then the remainder in descending
/// widths (256, 128, scalar) so each hidden index is touched exactly once. Gate kernels read several streams and write
/// some of them in place, so the overlapping last register of <see cref="UnaryDriver"/> would re-read outputs.
/// </summary>
internal static class RowDriver
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run<TK>(ref TK kernel, nint hidden, KernelVariant variant)
        where TK : struct, IRowKernel
    {
        nint j = 0;
        switch (variant)
        {
            case KernelVariant.Avx512:
                for (; j + Lanes512.Count <= hidden; j += Lanes512.Count)
                {
                    kernel.Step<Lanes512>(j);
                }

                goto case KernelVariant.Avx2Fma;
            case KernelVariant.Avx2Fma:
                for (; j + Lanes256.Count <= hidden; j += Lanes256.Count)
                {
                    kernel.Step<Lanes256>(j);
                }

                goto case KernelVariant.VectorT;
            case KernelVariant.VectorT:
                for (; j + Lanes128.Count <= hidden; j += Lanes128.Count)
                {
                    kernel.Step<Lanes128>(j);
                }

                goto default;
            default:
                for (; j < hidden; j++)
                {
                    kernel.Step<LanesScalar>(j);
                }

                break;
        }
    }
}
