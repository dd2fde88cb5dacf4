using System.Runtime.CompilerServices;

namespace RecurrentCore.Kernels.Simd;

/// <summary>
/// The <see cref="KernelVariant.Scalar"/> width: one float, no intrinsics; also every variant's last remainder in the
/// gate loops. Kernels whose scalar shape differs (one chain per output, unfused) test <c>Count == 1</c>.
/// </summary>
internal readonly unsafe struct SimdScalar : ISimd<float>
{
    public static bool IsSupported => true;

    public static int Count => 1;

    public static float Zero => 0f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Load(float* source) => *source;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(float value, float* destination) => *destination = value;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Create(float value) => value;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float CreateBits(int bits) => BitConverter.Int32BitsToSingle(bits);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Add(float left, float right) => left + right;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Subtract(float left, float right) => left - right;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Multiply(float left, float right) => left * right;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Divide(float left, float right) => left / right;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float MultiplyAdd(float a, float b, float c) => MathF.FusedMultiplyAdd(a, b, c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float MultiplyAddScalar(float a, float b, float c) => MathF.FusedMultiplyAdd(a, b, c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float MinNative(float a, float b) => a < b ? a : b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float MaxNative(float a, float b) => a > b ? a : b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Abs(float value) => FromBits(Bits(value) & int.MaxValue);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float And(float left, float right) => FromBits(Bits(left) & Bits(right));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Or(float left, float right) => FromBits(Bits(left) | Bits(right));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float LessThan(float left, float right) => Mask(left < right);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float LessThanOrEqual(float left, float right) => Mask(left <= right);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Select(float mask, float whenTrue, float whenFalse) => Bits(mask) != 0 ? whenTrue : whenFalse;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float TailMask(int count) => Mask(count > 0);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float IntAdd(float left, float right) => FromBits(Bits(left) + Bits(right));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float IntSubtract(float left, float right) => FromBits(Bits(left) - Bits(right));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float IntShiftLeft(float value, int count) => FromBits(Bits(value) << count);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float IntShiftRightArithmetic(float value, int count) => FromBits(Bits(value) >> count);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(float value) => value;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreSums4(float v0, float v1, float v2, float v3, float* y, bool accumulate)
    {
        y[0] = accumulate ? y[0] + v0 : v0;
        y[1] = accumulate ? y[1] + v1 : v1;
        y[2] = accumulate ? y[2] + v2 : v2;
        y[3] = accumulate ? y[3] + v3 : v3;
    }

    public static void Prefetch(float* address)
    {
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float DotBytes(float accumulator, byte* u, sbyte* s) =>
        FromBits(Bits(accumulator) + (u[0] * s[0]) + (u[1] * s[1]) + (u[2] * s[2]) + (u[3] * s[3]));

    public static bool HasNativeByteDot => false;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float WidenBytes(sbyte* s) => FromBits((ushort)s[0] + (s[1] << 16));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float WidenBytes(byte* u) => FromBits(u[0] + (u[1] << 16));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float MultiplyAddPairs(float accumulator, float a, float b)
    {
        int x = Bits(a), y = Bits(b);
        return FromBits(Bits(accumulator) + ((short)x * (short)y) + ((x >> 16) * (y >> 16)));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float SignBytes(float value, float signs)
    {
        int v = Bits(value), s = Bits(signs), r = 0;
        for (int k = 0; k < 32; k += 8)
        {
            int b = (sbyte)(v >> k);
            r |= (((sbyte)(s >> k) < 0 ? -b : b) & 0xFF) << k;
        }

        return FromBits(r);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float DotQuads(float accumulator, float u, float s)
    {
        int a = Bits(u), b = Bits(s), sum = 0;
        for (int k = 0; k < 32; k += 8)
        {
            sum += ((a >> k) & 0xFF) * (sbyte)(b >> k);
        }

        return FromBits(Bits(accumulator) + sum);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float IntToSingle(float value) => Bits(value);

    public static string QuantizedInstructions => "bf16: shift / and (even/odd halves), scalar fma; int8: scalar int32 multiply-add";

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int IntSum(float value) => Bits(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TResult Accept<TVisitor, TResult>(ref TVisitor visitor)
        where TVisitor : struct, ISimdVisitor<TResult>
        => visitor.Visit<SimdScalar, float>();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Bits(float value) => BitConverter.SingleToInt32Bits(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float FromBits(int bits) => BitConverter.Int32BitsToSingle(bits);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Mask(bool condition) => FromBits(condition ? -1 : 0);
}
