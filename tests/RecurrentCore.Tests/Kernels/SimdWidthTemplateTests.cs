using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using RecurrentCore.Kernels.Simd;
using Xunit;

namespace RecurrentCore.Tests.Kernels;

/// <summary>
/// The ops that the source generator writes into Simd128/256/512 from Kernels/Simd/SimdWidth.template.cs, lane by lane
/// against plain scalar arithmetic at each width. They call only the portable VectorNNN API, so every width runs on any
/// machine (software-emulated where not accelerated), including the CI runs without AVX-512 or hardware intrinsics.
/// </summary>
[Trait("Category", "Kernels")]
public unsafe class SimdWidthTemplateTests
{
    public static TheoryData<string> Widths => ["Simd128", "Simd256", "Simd512"];

    [Theory]
    [MemberData(nameof(Widths))]
    public void Template_ops_match_scalar_arithmetic_lane_by_lane(string width)
    {
        switch (width)
        {
            case "Simd128": Check<Simd128, Vector128<float>>(); break;
            case "Simd256": Check<Simd256, Vector256<float>>(); break;
            default: Check<Simd512, Vector512<float>>(); break;
        }
    }

    [Fact]
    public void Accept_hands_each_width_its_own_type_arguments()
    {
        var visitor = default(NameVisitor);
        Assert.Equal("Simd128/Vector128`1", Simd128.Accept<NameVisitor, string>(ref visitor));
        Assert.Equal("Simd256/Vector256`1", Simd256.Accept<NameVisitor, string>(ref visitor));
        Assert.Equal("Simd512/Vector512`1", Simd512.Accept<NameVisitor, string>(ref visitor));
    }

    private static void Check<TS, TV>()
        where TS : struct, ISimd<TV>
        where TV : unmanaged
    {
        int n = TS.Count;
        Assert.Equal(Unsafe.SizeOf<TV>() / sizeof(float), n);

        // Distinct values of both signs, a NaN, an infinity and a negative zero, so min/max, abs and the masks meet them.
        float[] a = new float[n], b = new float[n], r = new float[n];
        for (int j = 0; j < n; j++)
        {
            a[j] = (j % 5) switch { 0 => float.NaN, 1 => -0f, 2 => float.PositiveInfinity, _ => (j * 1.75f) - 9.5f };
            b[j] = (j * -0.625f) + 3f;
        }

        fixed (float* pa = a, pb = b, pr = r)
        {
            TV va = TS.Load(pa), vb = TS.Load(pb);
            Lanes(TS.Zero, pr, j => 0f);
            Lanes(va, pr, j => a[j]);
            Lanes(TS.Create(2.5f), pr, j => 2.5f);
            Lanes(TS.CreateBits(0x3FC00000), pr, j => 1.5f);
            Lanes(TS.Add(va, vb), pr, j => a[j] + b[j]);
            Lanes(TS.Subtract(va, vb), pr, j => a[j] - b[j]);
            Lanes(TS.Multiply(va, vb), pr, j => a[j] * b[j]);
            Lanes(TS.Divide(va, vb), pr, j => a[j] / b[j]);
            Lanes(TS.MinNative(vb, va), pr, j => b[j] < a[j] ? b[j] : a[j]);
            Lanes(TS.MaxNative(vb, va), pr, j => b[j] > a[j] ? b[j] : a[j]);
            Lanes(TS.Abs(va), pr, j => Math.Abs(a[j]));
            Lanes(TS.And(va, vb), pr, j => Bits(Int(a[j]) & Int(b[j])));
            Lanes(TS.Or(va, vb), pr, j => Bits(Int(a[j]) | Int(b[j])));
            Lanes(TS.LessThan(va, vb), pr, j => Bits(a[j] < b[j] ? -1 : 0));
            Lanes(TS.LessThanOrEqual(va, vb), pr, j => Bits(a[j] <= b[j] ? -1 : 0));
            Lanes(TS.Select(TS.LessThan(va, vb), va, vb), pr, j => a[j] < b[j] ? a[j] : b[j]);
            for (int k = 0; k <= n; k++)
            {
                Lanes(TS.TailMask(k), pr, j => Bits(j >= n - k ? -1 : 0));
            }

            Lanes(TS.IntAdd(va, vb), pr, j => Bits(unchecked(Int(a[j]) + Int(b[j]))));
            Lanes(TS.IntSubtract(va, vb), pr, j => Bits(unchecked(Int(a[j]) - Int(b[j]))));
            Lanes(TS.IntShiftLeft(va, 3), pr, j => Bits(Int(a[j]) << 3));
            Lanes(TS.IntShiftRightArithmetic(va, 5), pr, j => Bits(Int(a[j]) >> 5));

            int[] ints = new int[n];
            for (int j = 0; j < n; j++)
            {
                ints[j] = (j % 2 == 0 ? 1 : -1) * ((j * 16_777_259) + 3);
            }

            fixed (int* pi = ints)
            {
                TV vi = TS.Load((float*)pi);
                Lanes(TS.IntToSingle(vi), pr, j => ints[j]);
                int sum = 0;
                foreach (int x in ints)
                {
                    sum = unchecked(sum + x);
                }

                Assert.Equal(sum, TS.IntSum(vi));
            }
        }

        static void Lanes(TV value, float* scratch, Func<int, float> expected)
        {
            TS.Store(value, scratch);
            for (int j = 0; j < TS.Count; j++)
            {
                Assert.Equal(Int(expected(j)), Int(scratch[j]));
            }
        }
    }

    private static int Int(float x) => BitConverter.SingleToInt32Bits(x);

    private static float Bits(int x) => BitConverter.Int32BitsToSingle(x);

    private struct NameVisitor : ISimdVisitor<string>
    {
        public readonly string Visit<TS, TV>()
            where TS : struct, ISimd<TV>
            where TV : unmanaged
            => typeof(TS).Name + "/" + typeof(TV).Name;
    }
}
