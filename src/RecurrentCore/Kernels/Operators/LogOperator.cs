using System.Runtime.CompilerServices;
using RecurrentCore.Kernels.Simd;

namespace RecurrentCore.Kernels.Operators;

/// <summary>
/// <c>y = ln(x)</c> for positive normal x (the callers pass x in [0.5, 2]): x = m·2^e with m in [√½, √2), then the
/// degree-8 polynomial of Cephes <c>logf</c> (S. L. Moshier, Cephes Math Library 2.2, <c>logf.c</c>) in m − 1, with
/// e·ln2 added in two parts. Zero, negatives, subnormals, Inf and NaN are outside its domain.
/// </summary>
internal readonly struct LogOperator : IUnaryOperator
{
    private const float SqrtHalf = 0.707106781186547524f;
    private const float Ln2Hi = 0.693359375f;
    private const float Ln2Lo = -2.12194440e-4f;

    // 1.5·2^23: a small integer added to its bits reads back, minus it, as that integer in float.
    private const float Shifter = 12582912f;
    private const int ShifterBits = 0x4B400000;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Invoke<TS, TV>(TV x)
        where TS : struct, ISimd<TV>
        where TV : unmanaged
    {
        var one = TS.Create(1f);

        // frexp: m in [0.5, 1), x = m·2^e.
        var e = TS.IntSubtract(TS.IntShiftRightArithmetic(x, 23), TS.CreateBits(126));
        var m = TS.Or(TS.And(x, TS.CreateBits(unchecked((int)0x807FFFFF))), TS.CreateBits(0x3F000000));
        var fe = TS.Subtract(TS.IntAdd(e, TS.CreateBits(ShifterBits)), TS.Create(Shifter));
        var small = TS.LessThan(m, TS.Create(SqrtHalf));
        fe = TS.Select(small, TS.Subtract(fe, one), fe);
        var r = TS.Select(small, TS.Subtract(TS.Add(m, m), one), TS.Subtract(m, one));

        var z = TS.Multiply(r, r);
        var p = TS.MultiplyAdd(TS.Create(7.0376836292e-2f), r, TS.Create(-1.1514610310e-1f));
        p = TS.MultiplyAdd(p, r, TS.Create(1.1676998740e-1f));
        p = TS.MultiplyAdd(p, r, TS.Create(-1.2420140846e-1f));
        p = TS.MultiplyAdd(p, r, TS.Create(1.4249322787e-1f));
        p = TS.MultiplyAdd(p, r, TS.Create(-1.6668057665e-1f));
        p = TS.MultiplyAdd(p, r, TS.Create(2.0000714765e-1f));
        p = TS.MultiplyAdd(p, r, TS.Create(-2.4999993993e-1f));
        p = TS.MultiplyAdd(p, r, TS.Create(3.3333331174e-1f));
        var y = TS.Multiply(TS.Multiply(p, r), z);
        y = TS.MultiplyAdd(fe, TS.Create(Ln2Lo), y);
        y = TS.MultiplyAdd(TS.Create(-0.5f), z, y);
        return TS.MultiplyAdd(fe, TS.Create(Ln2Hi), TS.Add(r, y));
    }
}
