using System.Runtime.CompilerServices;
using RecurrentCore.Kernels.Simd;

namespace RecurrentCore.Sequence;

/// <summary>Copies a short row at width <typeparamref name="TS"/>: cheaper than a memmove call for the few dozen floats of a step.</summary>
internal static unsafe class RowCopy<TS, TV>
    where TS : struct, ISimd<TV>
    where TV : unmanaged
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Copy(float* source, float* destination, int count)
    {
        int n = TS.Count, j = 0;
        for (; j <= count - n; j += n)
        {
            TS.Store(TS.Load(source + j), destination + j);
        }

        for (; j < count; j++)
        {
            destination[j] = source[j];
        }
    }
}
