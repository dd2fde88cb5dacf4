using System.Diagnostics;
using RecurrentCore.Interop;
using Xunit;
using static RecurrentCore.Tests.Interop.InteropAssert;

namespace RecurrentCore.Tests.Interop;

/// <summary>
/// Pipes and FIFOs (<c>--weights &lt;(cat w.safetensors)</c>): streams that cannot seek or report a length are read
/// as far as the format's header declares, never buffering more, and give the same tensors and errors as files.
/// </summary>
public sealed class NonSeekableStreamTests
{
    public static TheoryData<string, int> Files()
    {
        var data = new TheoryData<string, int>();
        foreach (var file in new[] { "model.safetensors", "f32_3x4.npy", "f64_scalar.npy", "u8_0x3.npy", "f32_v2_2x2.npy", "f64_fortran_2x3x4.npy" })
        {
            foreach (int chunk in new[] { 1, 7, 4096 })
            {
                data.Add(file, chunk);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void A_stream_that_cannot_seek_reads_like_the_file(string file, int chunk)
    {
        byte[] bytes = File.ReadAllBytes(FixturePath(file));
        using var stream = new TrickleStream(bytes, chunk);
        if (file.EndsWith(".safetensors", StringComparison.Ordinal))
        {
            var expected = SafeTensors.ReadFile(FixturePath(file));
            var actual = SafeTensors.Read(stream, "<pipe>");
            Assert.Equal(expected.Tensors.Select(t => t.Key), actual.Tensors.Select(t => t.Key));
            foreach (var (name, tensor) in expected.Tensors)
            {
                Equal(tensor, actual[name]);
            }
        }
        else
        {
            Equal(Npy.ReadFile(FixturePath(file)), Npy.Read(stream, "<pipe>"));
        }

        Assert.Equal(bytes.Length, stream.Consumed);
    }

    [Theory]
    [InlineData("model.safetensors")]
    [InlineData("f32_3x4.npy")]
    public void Truncated_and_extended_streams_give_the_same_errors_as_bytes(string file)
    {
        byte[] bytes = File.ReadAllBytes(FixturePath(file));
        foreach (byte[] bad in new[] { bytes[..^5], bytes[..12], [.. bytes, 1, 2, 3] })
        {
            Func<Stream, object> readStream = file.EndsWith(".npy", StringComparison.Ordinal) ? s => Npy.Read(s, "x") : s => SafeTensors.Read(s, "x");
            Func<byte[], object> readBytes = file.EndsWith(".npy", StringComparison.Ordinal) ? b => Npy.Read(b, "x") : b => SafeTensors.Read(b, "x");
            var fromBytes = Assert.Throws<InteropFormatException>(() => readBytes(bad));
            var fromStream = Assert.Throws<InteropFormatException>(() => readStream(new TrickleStream(bad, 3)));
            if (bad.Length > bytes.Length)
            {
                // The stream is read one byte past the declared end, so it reports that much trailing data.
                Assert.Contains("trailing", fromStream.Message, StringComparison.Ordinal);
            }
            else
            {
                Assert.Equal(fromBytes.Message, fromStream.Message);
            }
        }
    }

    [Fact]
    public void An_endless_stream_is_read_only_as_far_as_its_header_declares()
    {
        // A valid header followed by bytes that never end (/dev/zero through a pipe): the reader takes the declared
        // data and one byte more, then refuses the trailing data, instead of buffering until memory runs out.
        byte[] st = SafeTensorsBytes("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", new byte[8]);
        using var endless = new TrickleStream(st, 4096, endless: true);
        Fails(() => SafeTensors.Read(endless, "zero"), "zero", "trailing");
        Assert.Equal(st.Length + 1, endless.Consumed);

        byte[] npy = NpyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", new byte[12]);
        using var endlessNpy = new TrickleStream(npy, 4096, endless: true);
        Fails(() => Npy.Read(endlessNpy, "zero"), "zero", "trailing");
        Assert.Equal(npy.Length + 1, endlessNpy.Consumed);

        // A header size beyond the limit stops the read at the size field.
        var huge = new byte[16];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(huge, ulong.MaxValue / 2);
        huge[8] = (byte)'{';
        using var endlessHuge = new TrickleStream(huge, 4096, endless: true);
        Fails(() => SafeTensors.Read(endlessHuge, "zero"), "zero", "header size");
        Assert.True(endlessHuge.Consumed <= 16, $"read {endlessHuge.Consumed} bytes");
    }

    [Fact]
    public void A_header_length_past_the_limit_gives_the_same_error_from_a_pipe()
    {
        // Found by afl++ (fuzz/findings/npy-v3-header-length-past-limit.npy): the pipe reader stops at the length field
        // when the length is past the limit, and the message then counted the bytes read ("exceeds the 0 bytes").
        var npy = new byte[114];
        new byte[] { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 3, 0 }.CopyTo(npy, 0);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(npy.AsSpan(8), 662372470);
        var fromBytes = Fails(() => Npy.Read(npy, "f.npy"), "f.npy", "exceeds the limit");
        var fromPipe = Fails(() => Npy.Read(new TrickleStream(npy, 61), "f.npy"));
        Assert.Equal(fromBytes.Message, fromPipe.Message);
    }

    [Fact]
    public void A_fifo_path_reads_like_the_file()
    {
        // Regression: FileStream on a FIFO cannot seek; reading its Length crashed with NotSupportedException.
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        string dir = Path.Combine(Path.GetTempPath(), "recurrent-fifo-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            foreach (var file in new[] { "model.safetensors", "f32_3x4.npy" })
            {
                string fifo = Path.Combine(dir, file);
                MakeFifo(fifo);
                var writer = new Thread(() => WriteToFifo(fifo, File.ReadAllBytes(FixturePath(file))));
                writer.Start();
                if (file.EndsWith(".npy", StringComparison.Ordinal))
                {
                    Equal(Npy.ReadFile(FixturePath(file)), Npy.ReadFile(fifo));
                }
                else
                {
                    Assert.Equal(SafeTensors.ReadFile(FixturePath(file)).Tensors.Count, SafeTensors.ReadFile(fifo).Tensors.Count);
                }

                Assert.True(writer.Join(TimeSpan.FromSeconds(30)));
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>Writes into a FIFO; a reader that gives up early (the pipe breaks) must not crash the test host.</summary>
    internal static void WriteToFifo(string fifo, byte[] bytes)
    {
        try
        {
            File.WriteAllBytes(fifo, bytes);
        }
        catch (IOException)
        {
        }
    }

    internal static void MakeFifo(string path)
    {
        using var mkfifo = Process.Start(new ProcessStartInfo("mkfifo", [path]) { UseShellExecute = false })!;
        mkfifo.WaitForExit();
        Assert.Equal(0, mkfifo.ExitCode);
    }

    /// <summary>A pipe-like stream: no seeking, no length, reads of at most <c>chunk</c> bytes; optionally zeros forever after the data.</summary>
    internal sealed class TrickleStream(byte[] data, int chunk, bool endless = false) : Stream
    {
        public long Consumed { get; private set; }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException("no length");

        public override long Position
        {
            get => throw new NotSupportedException("no position");
            set => throw new NotSupportedException("no position");
        }

        public override int Read(byte[] buffer, int offset, int count)
        {
            int n = Math.Min(count, chunk);
            if (!endless)
            {
                n = (int)Math.Min(n, data.Length - Consumed);
            }

            for (int i = 0; i < n; i++)
            {
                buffer[offset + i] = Consumed + i < data.Length ? data[Consumed + i] : (byte)0;
            }

            Consumed += n;
            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
