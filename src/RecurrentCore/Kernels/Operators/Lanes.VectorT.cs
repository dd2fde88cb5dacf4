using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace RecurrentCore.Kernels.Operators;

/// <summary>The <see cref="KernelVariant.VectorT"/> register: 4 lanes of the portable Vector128 (SSE/AdvSIMD; FMA where present).</summary>
internal readonly unsafe struct Lanes128 : ILanes<Lanes128>
{
    private readonly Vector128<float> v;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Lanes128(Vector128<float> value) => v = value;

    public static int Count => 4;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes128 Load(float* source) => new(Vector128.Load(source));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Lanes128 value, float* destination) => value.v.Store(destination);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes128 Create(float value) => new(Vector128.Create(value));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes128 CreateBits(int bits) => new(Vector128.Create(bits).AsSingle());

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes128 operator +(Lanes128 left, Lanes128 right) => new(left.v + right.v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes128 operator -(Lanes128 left, Lanes128 right) => new(left.v - right.v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes128 operator *(Lanes128 left, Lanes128 right) => new(left.v * right.v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes128 operator /(Lanes128 left, Lanes128 right) => new(left.v / right.v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes128 operator &(Lanes128 left, Lanes128 right) => new(left.v & right.v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes128 operator |(Lanes128 left, Lanes128 right) => new(left.v | right.v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes128 MultiplyAdd(Lanes128 a, Lanes128 b, Lanes128 c) => new(Vector128.MultiplyAddEstimate(a.v, b.v, c.v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes128 MinNative(Lanes128 a, Lanes128 b) => new(Vector128.MinNative(a.v, b.v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes128 MaxNative(Lanes128 a, Lanes128 b) => new(Vector128.MaxNative(a.v, b.v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes128 Abs(Lanes128 value) => new(Vector128.Abs(value.v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes128 LessThan(Lanes128 left, Lanes128 right) => new(Vector128.LessThan(left.v, right.v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes128 LessThanOrEqual(Lanes128 left, Lanes128 right) => new(Vector128.LessThanOrEqual(left.v, right.v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes128 Select(Lanes128 mask, Lanes128 whenTrue, Lanes128 whenFalse) => new(Vector128.ConditionalSelect(mask.v, whenTrue.v, whenFalse.v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes128 IntAdd(Lanes128 left, Lanes128 right) => new((left.v.AsInt32() + right.v.AsInt32()).AsSingle());

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes128 IntSubtract(Lanes128 left, Lanes128 right) => new((left.v.AsInt32() - right.v.AsInt32()).AsSingle());

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes128 IntShiftLeft(Lanes128 value, int count) => new(Vector128.ShiftLeft(value.v.AsInt32(), count).AsSingle());

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes128 IntShiftRightArithmetic(Lanes128 value, int count) => new(Vector128.ShiftRightArithmetic(value.v.AsInt32(), count).AsSingle());
}
