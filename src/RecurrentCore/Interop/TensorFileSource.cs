namespace RecurrentCore.Interop;

/// <summary>
/// Says how many bytes of a file a reader wants in total, given the prefix read so far: more than the prefix to keep
/// reading, at most the prefix to stop (the header already shows the file is malformed, or everything it declares
/// has arrived), <see cref="long.MaxValue"/> for "read to the end".
/// </summary>
internal delegate long SizeProbe(ReadOnlySpan<byte> prefix);

/// <summary>
/// Reads a whole tensor file into memory, refusing files too large for one array. A seekable file is read in one
/// piece of its reported length; a stream that cannot seek (a pipe, a FIFO, <c>&lt;(cat file)</c>) is read in
/// growing chunks, asking the format's <see cref="SizeProbe"/> after each how much the header declares, so a
/// hostile or endless stream is never buffered beyond what the format allows (and one byte, to see trailing data).
/// </summary>
internal static class TensorFileSource
{
    private const int FirstChunk = 64 * 1024;

    /// <summary>The whole file; its path names it in errors.</summary>
    /// <exception cref="InteropFormatException">The file is longer than <see cref="Array.MaxLength"/> bytes.</exception>
    /// <exception cref="IOException">The path is a directory, or the file cannot be opened or read.</exception>
    public static byte[] ReadAll(string path, SizeProbe? probe = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (Directory.Exists(path))
        {
            // Opening a directory reports "Access to the path is denied", which sends the user after permissions.
            throw new IOException($"{path}: is a directory, not a file");
        }

        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.SequentialScan);
        return ReadAll(stream, path, probe);
    }

    /// <summary>The rest of <paramref name="stream"/> (or as much as <paramref name="probe"/> asks for, plus nothing more).</summary>
    /// <exception cref="InteropFormatException">The data is longer than <see cref="Array.MaxLength"/> bytes.</exception>
    public static byte[] ReadAll(Stream stream, string source, SizeProbe? probe = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(source);
        if (!stream.CanRead)
        {
            throw new ArgumentException("The stream cannot be read.", nameof(stream));
        }

        return stream.CanSeek ? ReadSeekable(stream, source) : ReadUnseekable(stream, source, probe);
    }

    private static byte[] ReadSeekable(Stream stream, string source)
    {
        long length = stream.Length - stream.Position;
        if (length > Array.MaxLength)
        {
            throw InteropFormatException.Create(source, $"file is {length} bytes; at most {Array.MaxLength} bytes can be read");
        }

        var bytes = new byte[Math.Max(0, length)];
        try
        {
            stream.ReadExactly(bytes);
        }
        catch (EndOfStreamException e)
        {
            throw InteropFormatException.Create(source, $"file shrank below its reported {length} bytes while being read", e);
        }

        return bytes;
    }

    private static byte[] ReadUnseekable(Stream stream, string source, SizeProbe? probe)
    {
        long want = probe?.Invoke([]) ?? long.MaxValue;
        var buffer = new byte[(int)Math.Clamp(want, 1, FirstChunk)];
        int filled = 0;
        while (filled < want)
        {
            if (filled == buffer.Length)
            {
                if (buffer.Length == Array.MaxLength)
                {
                    throw InteropFormatException.Create(source, $"stream is longer than {Array.MaxLength} bytes, the most that can be read");
                }

                // Grow only as data arrives (doubling), so a header that declares terabytes costs nothing until they come.
                long next = Math.Min(Math.Min((long)buffer.Length * 2, Array.MaxLength), Math.Max(want, buffer.Length + 1L));
                Array.Resize(ref buffer, (int)next);
            }

            int n = stream.Read(buffer, filled, (int)Math.Min(buffer.Length - filled, want - filled));
            if (n == 0)
            {
                break;
            }

            filled += n;
            if (probe is not null)
            {
                want = probe(buffer.AsSpan(0, filled));
            }
        }

        Array.Resize(ref buffer, filled);
        return buffer;
    }

    /// <summary>Adds <paramref name="b"/> to <paramref name="a"/>, saturating at <see cref="long.MaxValue"/>.</summary>
    internal static long SaturatingAdd(long a, ulong b) => b >= (ulong)(long.MaxValue - a) ? long.MaxValue : a + (long)b;
}
