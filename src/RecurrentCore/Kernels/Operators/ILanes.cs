namespace RecurrentCore.Kernels.Operators;

/// <summary>
/// A register of float lanes: the one thing the <see cref="KernelVariant"/>s differ in. Operators and gate drivers are
/// written once, generic over this interface; each variant supplies one implementation in its own file
/// (<c>Lanes.Avx512.cs</c>, <c>Lanes.Avx2Fma.cs</c>, <c>Lanes.VectorT.cs</c>, <c>Lanes.Scalar.cs</c>).
/// </summary>
/// <remarks>
/// Masks are lanes with all bits set (true) or clear (false). <c>MinNative(a, b)</c>/<c>MaxNative(a, b)</c> follow x86
/// <c>minps</c>/<c>maxps</c>: when either input is NaN the result is <c>b</c>, so callers put the
/// constant first and the data second, which makes a NaN in the data propagate. The <c>Int*</c> members treat the
/// lanes' bits as 32-bit integers.
/// </remarks>
/// <typeparam name="TSelf">The implementing register type.</typeparam>
internal unsafe interface ILanes<TSelf>
    where TSelf : unmanaged, ILanes<TSelf>
{
    /// <summary>Number of float lanes.</summary>
    static abstract int Count { get; }

    /// <summary>Loads <see cref="Count"/> floats from <paramref name="source"/> (unaligned).</summary>
    static abstract TSelf Load(float* source);

    /// <summary>Stores <see cref="Count"/> floats to <paramref name="destination"/> (unaligned).</summary>
    static abstract void Store(TSelf value, float* destination);

    /// <summary>Every lane set to <paramref name="value"/>.</summary>
    static abstract TSelf Create(float value);

    /// <summary>Every lane holding the bits of <paramref name="bits"/>.</summary>
    static abstract TSelf CreateBits(int bits);

    /// <summary>Lane-wise sum.</summary>
    static abstract TSelf operator +(TSelf left, TSelf right);

    /// <summary>Lane-wise difference.</summary>
    static abstract TSelf operator -(TSelf left, TSelf right);

    /// <summary>Lane-wise product.</summary>
    static abstract TSelf operator *(TSelf left, TSelf right);

    /// <summary>Lane-wise quotient (IEEE division).</summary>
    static abstract TSelf operator /(TSelf left, TSelf right);

    /// <summary><c>a * b + c</c>, fused where the variant has FMA.</summary>
    static abstract TSelf MultiplyAdd(TSelf a, TSelf b, TSelf c);

    /// <summary><c>a &lt; b ? a : b</c> per lane (x86 <c>minps</c>): NaN in either input yields <paramref name="b"/> on x86.</summary>
    static abstract TSelf MinNative(TSelf a, TSelf b);

    /// <summary><c>a &gt; b ? a : b</c> per lane (x86 <c>maxps</c>): NaN in either input yields <paramref name="b"/> on x86.</summary>
    static abstract TSelf MaxNative(TSelf a, TSelf b);

    /// <summary>Clears the sign bit.</summary>
    static abstract TSelf Abs(TSelf value);

    /// <summary>Bitwise and.</summary>
    static abstract TSelf operator &(TSelf left, TSelf right);

    /// <summary>Bitwise or.</summary>
    static abstract TSelf operator |(TSelf left, TSelf right);

    /// <summary>Mask of <c>left &lt; right</c> (false for NaN).</summary>
    static abstract TSelf LessThan(TSelf left, TSelf right);

    /// <summary>Mask of <c>left &lt;= right</c> (false for NaN).</summary>
    static abstract TSelf LessThanOrEqual(TSelf left, TSelf right);

    /// <summary>Per lane <c>mask ? whenTrue : whenFalse</c>; <paramref name="mask"/> lanes are all-ones or all-zeros.</summary>
    static abstract TSelf Select(TSelf mask, TSelf whenTrue, TSelf whenFalse);

    /// <summary>32-bit integer sum of the lanes' bits.</summary>
    static abstract TSelf IntAdd(TSelf left, TSelf right);

    /// <summary>32-bit integer difference of the lanes' bits.</summary>
    static abstract TSelf IntSubtract(TSelf left, TSelf right);

    /// <summary>32-bit logical left shift of the lanes' bits.</summary>
    static abstract TSelf IntShiftLeft(TSelf value, int count);

    /// <summary>32-bit arithmetic right shift of the lanes' bits.</summary>
    static abstract TSelf IntShiftRightArithmetic(TSelf value, int count);
}
