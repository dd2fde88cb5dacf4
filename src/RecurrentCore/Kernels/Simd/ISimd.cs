namespace RecurrentCore.Kernels.Simd;

/// <summary>
/// The operations of one register width on its raw vector type <typeparamref name="TV"/>: the one thing the
/// <see cref="KernelVariant"/>s differ in. Every kernel (GEMV, GEMM tiles, activations, fused gates) is written once,
/// generic over a data-less implementation of this interface and its vector type, so the JIT compiles each
/// instantiation to that width's instructions with loads folded into their consumers. The implementations
/// (<c>Simd512.cs</c>, <c>Simd256.cs</c>, <c>Simd128.cs</c>, <c>SimdScalar.cs</c>) are the only files that name an ISA;
/// the members that the three vector widths write alike but for the type names are written once, in
/// <c>SimdWidth.template.cs</c>, which the source generator expands into each (docs/architecture.md, "SIMD widths").
/// </summary>
/// <remarks>
/// Masks are lanes with all bits set (true) or clear (false). <c>MinNative(a, b)</c>/<c>MaxNative(a, b)</c> follow x86
/// <c>minps</c>/<c>maxps</c>: when either input is NaN the result is <c>b</c>, so callers put the constant first and
/// the data second, which makes a NaN in the data propagate. The <c>Int*</c> members treat the lanes' bits as 32-bit
/// integers.
/// </remarks>
/// <typeparam name="TV">The register type (<c>Vector512&lt;float&gt;</c> … <c>float</c>).</typeparam>
internal unsafe interface ISimd<TV>
    where TV : unmanaged
{
    /// <summary>Whether this process can execute the width's instructions (the variant's requirement).</summary>
    static abstract bool IsSupported { get; }

    /// <summary>Number of float lanes.</summary>
    static abstract int Count { get; }

    /// <summary>All lanes zero.</summary>
    static abstract TV Zero { get; }

    /// <summary>Loads <see cref="Count"/> floats from <paramref name="source"/> (unaligned).</summary>
    static abstract TV Load(float* source);

    /// <summary>Stores <see cref="Count"/> floats to <paramref name="destination"/> (unaligned).</summary>
    static abstract void Store(TV value, float* destination);

    /// <summary>Every lane set to <paramref name="value"/>.</summary>
    static abstract TV Create(float value);

    /// <summary>Every lane holding the bits of <paramref name="bits"/>.</summary>
    static abstract TV CreateBits(int bits);

    /// <summary>Lane-wise sum.</summary>
    static abstract TV Add(TV left, TV right);

    /// <summary>Lane-wise difference.</summary>
    static abstract TV Subtract(TV left, TV right);

    /// <summary>Lane-wise product.</summary>
    static abstract TV Multiply(TV left, TV right);

    /// <summary>Lane-wise quotient (IEEE division).</summary>
    static abstract TV Divide(TV left, TV right);

    /// <summary><c>a * b + c</c>, fused where the hardware fuses (always on the x86 variants).</summary>
    static abstract TV MultiplyAdd(TV a, TV b, TV c);

    /// <summary>The scalar <c>a * b + c</c> with the same rounding as one lane of <see cref="MultiplyAdd"/>.</summary>
    static abstract float MultiplyAddScalar(float a, float b, float c);

    /// <summary><c>a &lt; b ? a : b</c> per lane (x86 <c>minps</c>).</summary>
    static abstract TV MinNative(TV a, TV b);

    /// <summary><c>a &gt; b ? a : b</c> per lane (x86 <c>maxps</c>).</summary>
    static abstract TV MaxNative(TV a, TV b);

    /// <summary>Clears the sign bit.</summary>
    static abstract TV Abs(TV value);

    /// <summary>Bitwise and.</summary>
    static abstract TV And(TV left, TV right);

    /// <summary>Bitwise or.</summary>
    static abstract TV Or(TV left, TV right);

    /// <summary>Mask of <c>left &lt; right</c> (false for NaN).</summary>
    static abstract TV LessThan(TV left, TV right);

    /// <summary>Mask of <c>left &lt;= right</c> (false for NaN).</summary>
    static abstract TV LessThanOrEqual(TV left, TV right);

    /// <summary>Per lane <c>mask ? whenTrue : whenFalse</c>; <paramref name="mask"/> lanes are all-ones or all-zeros.</summary>
    static abstract TV Select(TV mask, TV whenTrue, TV whenFalse);

    /// <summary>A mask with the last <paramref name="count"/> lanes true (<c>0 ≤ count ≤ Count</c>).</summary>
    static abstract TV TailMask(int count);

    /// <summary>32-bit integer sum of the lanes' bits.</summary>
    static abstract TV IntAdd(TV left, TV right);

    /// <summary>32-bit integer difference of the lanes' bits.</summary>
    static abstract TV IntSubtract(TV left, TV right);

    /// <summary>32-bit logical left shift of the lanes' bits.</summary>
    static abstract TV IntShiftLeft(TV value, int count);

    /// <summary>32-bit arithmetic right shift of the lanes' bits.</summary>
    static abstract TV IntShiftRightArithmetic(TV value, int count);

    /// <summary>
    /// Horizontal sum as a fixed tree: halves added down to 4 lanes (upper half onto lower), then
    /// <c>(l0 + l2) + (l1 + l3)</c>.
    /// </summary>
    static abstract float Sum(TV value);

    /// <summary>
    /// Four registers' <see cref="Sum"/>s (the same tree, bit for bit) stored to <c>y[0..4]</c>, added to what is there
    /// when <paramref name="accumulate"/>: <c>y[i] = (accumulate ? y[i] : 0) + Sum(v_i)</c>.
    /// </summary>
    static abstract void StoreSums4(TV v0, TV v1, TV v2, TV v3, float* y, bool accumulate);

    /// <summary>A hint to bring the cache line holding <paramref name="address"/> into L1; a no-op where the width has none.</summary>
    static abstract void Prefetch(float* address);

    /// <summary>
    /// Adds to the 32-bit integer lanes of <paramref name="accumulator"/> the products <c>u[j]·s[j]</c> of
    /// <c>4·Count</c> byte pairs (<paramref name="u"/> unsigned, <paramref name="s"/> signed, each product exact).
    /// Only the sum of all lanes is defined (<see cref="IntSum"/>): a width may place the products in any lanes (VPDPBUSD
    /// puts four in each, a widening multiply-add two in each of two registers); no lane wraps while
    /// <c>Σ |u·s| &lt; 2³¹</c>.
    /// </summary>
    static abstract TV DotBytes(TV accumulator, byte* u, sbyte* s);

    /// <summary>Whether <see cref="DotBytes"/> is one instruction (VPDPBUSD) rather than the widening sequence of
    /// <see cref="WidenBytes(sbyte*)"/> and <see cref="MultiplyAddPairs"/>, which kernels then prefer for reuse.</summary>
    static abstract bool HasNativeByteDot { get; }

    /// <summary><c>2·Count</c> signed bytes from <paramref name="s"/>, each sign-extended to a 16-bit lane (two per 32-bit lane, in order).</summary>
    static abstract TV WidenBytes(sbyte* s);

    /// <summary><c>2·Count</c> unsigned bytes from <paramref name="u"/>, each zero-extended to a 16-bit lane (two per 32-bit lane, in order).</summary>
    static abstract TV WidenBytes(byte* u);

    /// <summary>
    /// Adds to the 32-bit integer lanes of <paramref name="accumulator"/> the products of the 16-bit lanes of
    /// <paramref name="a"/> and <paramref name="b"/> (<see cref="WidenBytes(byte*)"/> of unsigned and
    /// <see cref="WidenBytes(sbyte*)"/> of signed bytes: each product exact, |u·s| ≤ 255·128). As for
    /// <see cref="DotBytes"/>, only the sum of all lanes is defined.
    /// </summary>
    static abstract TV MultiplyAddPairs(TV accumulator, TV a, TV b);

    /// <summary>
    /// The bytes of <paramref name="value"/> negated where the matching byte of <paramref name="signs"/> is negative;
    /// where that byte is zero the result byte is the value or zero (callers multiply it by zero). The values are in
    /// [−127, 127], so negation never wraps.
    /// </summary>
    static abstract TV SignBytes(TV value, TV signs);

    /// <summary>
    /// Adds to each 32-bit integer lane of <paramref name="accumulator"/> the four products <c>u[j]·s[j]</c> of its
    /// bytes (<paramref name="u"/> unsigned ≤ 127, <paramref name="s"/> signed, |s| ≤ 127, so every pair of products
    /// fits 16 bits and the sum is exact): VPDPBUSD where the width has it, else VPMADDUBSW then VPMADDWD by ones.
    /// </summary>
    static abstract TV DotQuads(TV accumulator, TV u, TV s);

    /// <summary>The 32-bit integer lanes converted to float32 (round to nearest even, as <c>(float)int</c>).</summary>
    static abstract TV IntToSingle(TV value);

    /// <summary>How the bfloat16 and int8 products (<see cref="DotBytes"/>) run on this width, for <c>recurrent info</c>.</summary>
    static abstract string QuantizedInstructions { get; }

    /// <summary>The 32-bit integer sum of the lanes' bits (wrapping; exact in any order).</summary>
    static abstract int IntSum(TV value);

    /// <summary>Calls <paramref name="visitor"/> with this width's closed type arguments (picks an instantiation once).</summary>
    static abstract TResult Accept<TVisitor, TResult>(ref TVisitor visitor)
        where TVisitor : struct, ISimdVisitor<TResult>;
}

/// <summary>Receives the closed type arguments of one <see cref="ISimd{TV}"/> width, so a caller can build generic
/// plans and kernels for a variant without naming its vector type.</summary>
/// <typeparam name="TResult">What the visit returns.</typeparam>
internal interface ISimdVisitor<TResult>
{
    /// <summary>Called once with the variant's width.</summary>
    TResult Visit<TS, TV>()
        where TS : struct, ISimd<TV>
        where TV : unmanaged;
}
