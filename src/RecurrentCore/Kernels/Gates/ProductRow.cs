using System.Runtime.CompilerServices;
using RecurrentCore.Kernels.Simd;

namespace RecurrentCore.Kernels.Gates;

/// <summary>y = a⊙b over one row (the general ONNX cells' h = o⊙h(c) and r⊙h_prev).</summary>
internal unsafe struct ProductRow : IRowKernel
{
    public float* A;
    public float* B;
    public float* Y;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly void Step<TS, TV>(nint j)
        where TS : struct, ISimd<TV>
        where TV : unmanaged =>
        TS.Store(TS.Multiply(TS.Load(A + j), TS.Load(B + j)), Y + j);
}
