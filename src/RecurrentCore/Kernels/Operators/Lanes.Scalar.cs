using System.Runtime.CompilerServices;

namespace RecurrentCore.Kernels.Operators;

/// <summary>The <see cref="KernelVariant.Scalar"/> register: one float, no intrinsics; also every variant's last tail.</summary>
internal readonly unsafe struct LanesScalar : ILanes<LanesScalar>
{
    private readonly float v;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private LanesScalar(float value) => v = value;

    public static int Count => 1;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static LanesScalar Load(float* source) => new(*source);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(LanesScalar value, float* destination) => *destination = value.v;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static LanesScalar Create(float value) => new(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static LanesScalar CreateBits(int bits) => new(BitConverter.Int32BitsToSingle(bits));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static LanesScalar operator +(LanesScalar left, LanesScalar right) => new(left.v + right.v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static LanesScalar operator -(LanesScalar left, LanesScalar right) => new(left.v - right.v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static LanesScalar operator *(LanesScalar left, LanesScalar right) => new(left.v * right.v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static LanesScalar operator /(LanesScalar left, LanesScalar right) => new(left.v / right.v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static LanesScalar operator &(LanesScalar left, LanesScalar right) => FromBits(Bits(left) & Bits(right));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static LanesScalar operator |(LanesScalar left, LanesScalar right) => FromBits(Bits(left) | Bits(right));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static LanesScalar MultiplyAdd(LanesScalar a, LanesScalar b, LanesScalar c) => new(MathF.FusedMultiplyAdd(a.v, b.v, c.v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static LanesScalar MinNative(LanesScalar a, LanesScalar b) => a.v < b.v ? a : b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static LanesScalar MaxNative(LanesScalar a, LanesScalar b) => a.v > b.v ? a : b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static LanesScalar Abs(LanesScalar value) => FromBits(Bits(value) & int.MaxValue);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static LanesScalar LessThan(LanesScalar left, LanesScalar right) => Mask(left.v < right.v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static LanesScalar LessThanOrEqual(LanesScalar left, LanesScalar right) => Mask(left.v <= right.v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static LanesScalar Select(LanesScalar mask, LanesScalar whenTrue, LanesScalar whenFalse) => Bits(mask) != 0 ? whenTrue : whenFalse;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static LanesScalar IntAdd(LanesScalar left, LanesScalar right) => FromBits(Bits(left) + Bits(right));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static LanesScalar IntSubtract(LanesScalar left, LanesScalar right) => FromBits(Bits(left) - Bits(right));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static LanesScalar IntShiftLeft(LanesScalar value, int count) => FromBits(Bits(value) << count);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static LanesScalar IntShiftRightArithmetic(LanesScalar value, int count) => FromBits(Bits(value) >> count);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Bits(LanesScalar value) => BitConverter.SingleToInt32Bits(value.v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static LanesScalar FromBits(int bits) => new(BitConverter.Int32BitsToSingle(bits));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static LanesScalar Mask(bool condition) => FromBits(condition ? -1 : 0);
}
