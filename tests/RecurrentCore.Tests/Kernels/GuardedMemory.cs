using System.Runtime.InteropServices;

namespace RecurrentCore.Tests.Kernels;

/// <summary>
/// Float buffers whose last element sits against a page that faults on any access (Linux mprotect), so a kernel that
/// reads or writes one element past the end crashes the test run. A sentinel zone in front of each buffer catches
/// writes before the start. Elsewhere the buffers fall back to managed arrays with sentinels on both sides.
/// </summary>
internal sealed unsafe partial class GuardedMemory : IDisposable
{
    private const int SentinelFloats = 16;
    private static readonly int SentinelBits = unchecked((int)0x7FC0_5A5A); // a NaN with a recognisable payload
    private readonly List<Block> blocks = [];

    public Span<float> Alloc(int length)
    {
        var block = new Block(length);
        blocks.Add(block);
        return block.Data;
    }

    public Span<float> Alloc(ReadOnlySpan<float> values)
    {
        var s = Alloc(values.Length);
        values.CopyTo(s);
        return s;
    }

    /// <summary>Fails when any sentinel zone was written.</summary>
    public void Verify()
    {
        foreach (var b in blocks)
        {
            b.Verify();
        }
    }

    public void Dispose()
    {
        foreach (var b in blocks)
        {
            b.Free();
        }

        blocks.Clear();
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int mprotect(void* address, nuint length, int protection);

    private sealed class Block
    {
        private const int ProtNone = 0;
        private const int ProtReadWrite = 3;
        private readonly byte* basePtr;
        private readonly byte* guardPage;
        private readonly float* data;
        private readonly int length;
        private readonly float[]? managed;
        private readonly nuint page = (nuint)Environment.SystemPageSize;

        public Block(int length)
        {
            this.length = length;
            if (OperatingSystem.IsLinux())
            {
                nuint bytes = ((nuint)length + SentinelFloats) * sizeof(float);
                nuint rwPages = (bytes + page - 1) / page;
                basePtr = (byte*)NativeMemory.AlignedAlloc((rwPages + 1) * page, page);
                guardPage = basePtr + (rwPages * page);
                if (mprotect(guardPage, page, ProtNone) != 0)
                {
                    throw new InvalidOperationException($"mprotect failed: {Marshal.GetLastPInvokeError()}");
                }

                data = (float*)guardPage - length;
            }
            else
            {
                managed = GC.AllocateArray<float>(length + (2 * SentinelFloats), pinned: true);
                fixed (float* p = managed)
                {
                    data = p + SentinelFloats;
                }

                new Span<int>(data + length, SentinelFloats).Fill(SentinelBits);
            }

            new Span<int>(data - SentinelFloats, SentinelFloats).Fill(SentinelBits);
            new Span<float>(data, length).Fill(float.NaN);
        }

        public Span<float> Data => new(data, length);

        public void Verify()
        {
            foreach (int v in new ReadOnlySpan<int>(data - SentinelFloats, SentinelFloats))
            {
                Xunit.Assert.True(v == SentinelBits, "a kernel wrote before the start of a buffer");
            }

            if (managed is not null)
            {
                foreach (int v in new ReadOnlySpan<int>(data + length, SentinelFloats))
                {
                    Xunit.Assert.True(v == SentinelBits, "a kernel wrote past the end of a buffer");
                }
            }
        }

        public void Free()
        {
            if (basePtr != null)
            {
                _ = mprotect(guardPage, page, ProtReadWrite);
                NativeMemory.AlignedFree(basePtr);
            }
        }
    }
}
