// The ops that Simd128, Simd256 and Simd512 implement alike, written once. Not compiled as it stands: the source
// generator (src/RecurrentCore.Generators) writes it into each struct marked [SimdWidthTemplate(typeof(V))], with
// SimdW replaced by the struct and VectorW by its vector (Vector128, Vector256, Vector512). What an ISA does its own
// way (IsSupported, MultiplyAdd, the horizontal sums, Prefetch, the byte and word ops) stays in SimdNNN.cs.
// A new op that is the same at every width but for the type names is one member here (and one in ISimd.cs).
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using V = System.Runtime.Intrinsics.VectorW<float>;

namespace RecurrentCore.Kernels.Simd;

internal readonly unsafe partial struct SimdW
{
    public static int Count => V.Count;

    public static V Zero => V.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V Load(float* source) => VectorW.Load(source);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(V value, float* destination) => value.Store(destination);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V Create(float value) => VectorW.Create(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V CreateBits(int bits) => VectorW.Create(bits).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V Add(V left, V right) => left + right;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V Subtract(V left, V right) => left - right;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V Multiply(V left, V right) => left * right;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V Divide(V left, V right) => left / right;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V MinNative(V a, V b) => VectorW.MinNative(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V MaxNative(V a, V b) => VectorW.MaxNative(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V Abs(V value) => VectorW.Abs(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V And(V left, V right) => left & right;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V Or(V left, V right) => left | right;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V LessThan(V left, V right) => VectorW.LessThan(left, right);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V LessThanOrEqual(V left, V right) => VectorW.LessThanOrEqual(left, right);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V Select(V mask, V whenTrue, V whenFalse) => VectorW.ConditionalSelect(mask, whenTrue, whenFalse);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V TailMask(int count) => VectorW.GreaterThanOrEqual(VectorW<int>.Indices, VectorW.Create(V.Count - count)).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V IntAdd(V left, V right) => (left.AsInt32() + right.AsInt32()).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V IntSubtract(V left, V right) => (left.AsInt32() - right.AsInt32()).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V IntShiftLeft(V value, int count) => VectorW.ShiftLeft(value.AsInt32(), count).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V IntShiftRightArithmetic(V value, int count) => VectorW.ShiftRightArithmetic(value.AsInt32(), count).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V IntToSingle(V value) => VectorW.ConvertToSingle(value.AsInt32());

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int IntSum(V value) => VectorW.Sum(value.AsInt32());

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TResult Accept<TVisitor, TResult>(ref TVisitor visitor)
        where TVisitor : struct, ISimdVisitor<TResult>
        => visitor.Visit<SimdW, V>();
}
