using System.Runtime.InteropServices;
using RecurrentCore.Kernels;
using Xunit;

namespace RecurrentCore.Tests.Kernels;

/// <summary>
/// A logical buffer with one side against a page that faults on any access (Linux <c>mprotect(PROT_NONE)</c>) and a
/// NaN guard on the other. The fault catches every read past that edge, including one whose lanes a kernel masks
/// off afterwards (a masked-off NaN guard is simply zeroed, so a value guard alone would not reveal it); the NaN guard
/// turns an unmasked over-read into a NaN output and shows an over-write. <see cref="FaultAfter"/> picks the faulting side,
/// so callers alternate it to cover both ends. Elsewhere both sides are NaN guards in a managed array.
/// </summary>
internal sealed unsafe partial class Guarded : IDisposable
{
    public const int GuardLength = 67;

    private static readonly nuint Page = (nuint)Environment.SystemPageSize;
    private readonly byte* basePtr;
    private readonly byte* faultPage;
    private readonly float* data;
    private readonly float[]? managed;
    private bool freed;

    public Guarded(int length, bool faultAfter = true)
    {
        Length = length;
        FaultAfter = faultAfter;
        if (OperatingSystem.IsLinux())
        {
            nuint bytes = ((nuint)length + GuardLength) * sizeof(float);
            nuint rwPages = (bytes + Page - 1) / Page;
            basePtr = (byte*)NativeMemory.AlignedAlloc((rwPages + 1) * Page, Page);
            faultPage = faultAfter ? basePtr + (rwPages * Page) : basePtr;
            if (mprotect(faultPage, Page, 0) != 0)
            {
                throw new InvalidOperationException($"mprotect failed: {Marshal.GetLastPInvokeError()}");
            }

            data = faultAfter ? (float*)faultPage - length : (float*)(basePtr + Page);
            float* guard = faultAfter ? data - GuardLength : data + length;
            new Span<float>(guard, GuardLength).Fill(float.NaN);
        }
        else
        {
            managed = GC.AllocateArray<float>(length + (2 * GuardLength), pinned: true);
            managed.AsSpan().Fill(float.NaN);
            fixed (float* p = managed)
            {
                data = p + GuardLength;
            }
        }
    }

    // Callers hold a Guarded with `using`: a finalizer alone frees the block as soon as the object is unreachable, which
    // for a local whose last use is `w.Span` passed to a kernel is during that kernel call (or during ToArray's copy).
    ~Guarded() => Free();


    public void Dispose()
    {
        Free();
        GC.SuppressFinalize(this);
    }

    private void Free()
    {
        if (basePtr != null && !freed)
        {
            freed = true;
            _ = mprotect(faultPage, Page, 3);
            NativeMemory.AlignedFree(basePtr);
        }
    }

    public int Length { get; }

    /// <summary>Whether the faulting page follows the data (else it precedes it).</summary>
    public bool FaultAfter { get; }

    public Span<float> Span => new(data, Length);

    /// <summary>Random values in ±<paramref name="scale"/>; <paramref name="faultAfter"/> as in the constructor.</summary>
    public static Guarded Random(Random rng, int length, float scale = 1f, bool faultAfter = true)
    {
        var g = new Guarded(length, faultAfter);
        var s = g.Span;
        for (int i = 0; i < s.Length; i++)
        {
            s[i] = (float)((rng.NextDouble() * 2) - 1) * scale;
        }

        return g;
    }

    public float[] ToArray()
    {
        var copy = Span.ToArray();

        // The finalizer frees the native block: without this, the object is collectable as soon as Span has read its
        // fields, and a GC during the copy frees (and the allocator overwrites) the first elements being copied — the
        // intermittent "y[0] = …, exact …" failures at rows = 257 under load.
        GC.KeepAlive(this);
        return copy;
    }

    /// <summary>Asserts that the NaN guards still hold exactly the NaN they were filled with.</summary>
    public void AssertGuardsIntact(string what)
    {
        int nanBits = BitConverter.SingleToInt32Bits(float.NaN);
        bool before = managed is not null || FaultAfter, after = managed is not null || !FaultAfter;
        for (int i = 0; i < GuardLength; i++)
        {
            Assert.True(!before || BitConverter.SingleToInt32Bits(data[i - GuardLength]) == nanBits, $"{what}: guard before the span written at -{GuardLength - i}");
            Assert.True(!after || BitConverter.SingleToInt32Bits(data[Length + i]) == nanBits, $"{what}: guard after the span written at +{i}");
        }

        GC.KeepAlive(this);
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int mprotect(void* address, nuint length, int protection);
}

/// <summary>Variants for theories: every one this process can run.</summary>
public static class Variants
{
    public static TheoryData<KernelVariant> Supported
    {
        get
        {
            var data = new TheoryData<KernelVariant>();
            foreach (var v in KernelCatalog.Supported)
            {
                data.Add(v);
            }

            return data;
        }
    }

    /// <summary>Float unit roundoff, 2⁻²⁴.</summary>
    public const double Unit = 1.0 / (1 << 24);

    /// <summary>
    /// The error bound the kernels are held to: |computed − exact| ≤ 2·(n + 2)·u·(|y₀| + Σ|aᵢbᵢ|), twice the classic
    /// recursive-summation bound γₙ for n products plus the final add, with exact computed in double.
    /// </summary>
    public static double Bound(int n, double magnitude) => (2.0 * (n + 2) * Unit * magnitude) + 1e-30;
}
