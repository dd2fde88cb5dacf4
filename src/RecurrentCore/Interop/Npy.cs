using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.Unicode;

namespace RecurrentCore.Interop;

/// <summary>
/// Reads and writes numpy's .npy format (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html):
/// magic <c>\x93NUMPY</c>, version byte pair, header length (u16 in 1.0, u32 in 2.0 and 3.0), a Python dict literal
/// <c>{'descr': '&lt;f4', 'fortran_order': False, 'shape': (3, 4), }</c> padded with spaces and ended by '\n',
/// then <c>Π shape × itemsize</c> bytes of data, C order (row-major) or, with <c>'fortran_order': True</c>, column-major.
/// Supported descr: &lt;f4, &lt;f8, &lt;f2, &lt;i8, &lt;i4, |u1, |i1; big-endian (&gt;) variants are byte-swapped on read, and
/// Fortran-order data is transposed on read into the row-major layout of <see cref="HostTensor"/>.
/// </summary>
public static class Npy
{
    /// <summary>Largest header this reader accepts.</summary>
    public const int MaxHeaderBytes = 100_000_000;

    private static ReadOnlySpan<byte> Magic => [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    /// <summary>Reads and validates the .npy file at <paramref name="path"/> (a regular file, or a pipe/FIFO).</summary>
    /// <exception cref="InteropFormatException">The file is malformed or unsupported; the message names <paramref name="path"/>.</exception>
    /// <exception cref="IOException">The file cannot be opened or read, or <paramref name="path"/> is a directory.</exception>
    public static HostTensor ReadFile(string path) => Read(TensorFileSource.ReadAll(path, Probe), path);

    /// <summary>
    /// Reads and validates a .npy file from <paramref name="stream"/>, from its current position to its end. A stream
    /// that cannot seek is read only as far as its header declares (and one byte more, to detect trailing data),
    /// with the header bounded by <see cref="MaxHeaderBytes"/>.
    /// </summary>
    /// <param name="stream">A readable stream; it is not disposed.</param>
    /// <param name="sourceName">Names the input in error messages (e.g. "&lt;stdin&gt;").</param>
    /// <exception cref="InteropFormatException">The data is malformed or unsupported; the message names <paramref name="sourceName"/>.</exception>
    /// <exception cref="IOException">The stream cannot be read.</exception>
    public static HostTensor Read(Stream stream, string sourceName) => Read(TensorFileSource.ReadAll(stream, sourceName, Probe), sourceName);

    /// <summary>Reads and validates .npy <paramref name="bytes"/>.</summary>
    /// <param name="bytes">The whole file.</param>
    /// <param name="sourceName">Names the input in error messages (e.g. "&lt;stream&gt;").</param>
    /// <exception cref="InteropFormatException">The data is malformed or unsupported (structured or unknown dtype,
    /// size mismatch); the message names <paramref name="sourceName"/>.</exception>
    public static HostTensor Read(ReadOnlySpan<byte> bytes, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(sourceName);
        if (bytes.Length < Magic.Length)
        {
            throw Fail(sourceName, $"truncated magic: file is {bytes.Length} bytes, a .npy file starts with the 6-byte magic \\x93NUMPY");
        }

        if (!bytes[..Magic.Length].SequenceEqual(Magic))
        {
            throw Fail(sourceName, "bad magic: not a .npy file (expected \\x93NUMPY)");
        }

        if (bytes.Length < 8)
        {
            throw Fail(sourceName, "truncated version: the file ends after the magic");
        }

        byte major = bytes[6], minor = bytes[7];
        int lengthSize = (major, minor) switch
        {
            (1, 0) => 2,
            (2, 0) or (3, 0) => 4,
            _ => throw Fail(sourceName, $"unsupported .npy version {major}.{minor} (supported: 1.0, 2.0, 3.0)"),
        };

        int prefix = 8 + lengthSize;
        if (bytes.Length < prefix)
        {
            throw Fail(sourceName, $"truncated header length: file is {bytes.Length} bytes, version {major}.{minor} needs {prefix}");
        }

        uint headerLength = lengthSize == 2
            ? BinaryPrimitives.ReadUInt16LittleEndian(bytes[8..])
            : BinaryPrimitives.ReadUInt32LittleEndian(bytes[8..]);
        // The limit first: a pipe is read no further than the length field when the length is past it, so the
        // count of bytes after the field would describe what was read, not the file (found by afl++).
        if (headerLength > MaxHeaderBytes)
        {
            throw Fail(sourceName, $"header length {headerLength} exceeds the limit of {MaxHeaderBytes} bytes");
        }

        if (headerLength > (uint)(bytes.Length - prefix))
        {
            throw Fail(sourceName, $"header length {headerLength} exceeds the {bytes.Length - prefix} bytes after the length field");
        }

        ReadOnlySpan<byte> headerBytes = bytes.Slice(prefix, (int)headerLength);
        string headerText;
        if (major == 3)
        {
            if (!Utf8.IsValid(headerBytes))
            {
                throw Fail(sourceName, "header is not valid UTF-8");
            }

            headerText = Encoding.UTF8.GetString(headerBytes);
        }
        else
        {
            headerText = Encoding.Latin1.GetString(headerBytes);
        }

        var header = NpyHeader.Parse(headerText, sourceName);
        var (dtype, swap) = ParseDescr(header.Descr, sourceName);
        int size = TensorDTypeInfo.SizeOf(dtype);
        string shapeText = TensorDTypeInfo.FormatShape(header.Shape);
        if (!TensorDTypeInfo.TryGetElementCount(header.Shape, out long count) || count > long.MaxValue / size)
        {
            throw Fail(sourceName, $"header declares shape {shapeText} whose element count overflows");
        }

        ReadOnlySpan<byte> data = bytes[(prefix + (int)headerLength)..];
        long need = count * size;
        if (data.Length != need)
        {
            string trailing = data.Length > need ? ", trailing bytes" : "";
            throw Fail(
                sourceName,
                $"header declares shape {shapeText} = {count} elements but {data.Length} bytes of data follow (need {need}{trailing})");
        }

        byte[] owned = data.ToArray();
        if (swap && size > 1)
        {
            for (int i = 0; i < owned.Length; i += size)
            {
                owned.AsSpan(i, size).Reverse();
            }
        }

        if (header.FortranOrder)
        {
            owned = FortranToC(owned, header.Shape, size);
        }

        return HostTensor.FromValidatedBytes(dtype, header.Shape, owned);
    }

    /// <summary>
    /// How much of a stream the header declares: magic, version, length field, header, then the data plus one byte
    /// (so trailing data is still seen). Stops early when the prefix is already malformed; <see cref="Read(ReadOnlySpan{byte}, string)"/>
    /// then reports the problem.
    /// </summary>
    private static long Probe(ReadOnlySpan<byte> prefix)
    {
        if (prefix.Length < 8)
        {
            return 8;
        }

        if (!prefix[..Magic.Length].SequenceEqual(Magic))
        {
            return prefix.Length;
        }

        int lengthSize = (prefix[6], prefix[7]) switch
        {
            (1, 0) => 2,
            (2, 0) or (3, 0) => 4,
            _ => 0,
        };
        int start = 8 + lengthSize;
        if (lengthSize == 0)
        {
            return prefix.Length;
        }

        if (prefix.Length < start)
        {
            return start;
        }

        uint headerLength = lengthSize == 2 ? BinaryPrimitives.ReadUInt16LittleEndian(prefix[8..]) : BinaryPrimitives.ReadUInt32LittleEndian(prefix[8..]);
        if (headerLength > MaxHeaderBytes)
        {
            return prefix.Length;
        }

        long dataStart = start + (long)headerLength;
        if (prefix.Length < dataStart)
        {
            return dataStart;
        }

        try
        {
            var headerBytes = prefix[start..(int)dataStart];
            var header = NpyHeader.Parse(prefix[6] == 3 ? Encoding.UTF8.GetString(headerBytes) : Encoding.Latin1.GetString(headerBytes), "<probe>");
            int size = TensorDTypeInfo.SizeOf(ParseDescr(header.Descr, "<probe>").DType);
            if (!TensorDTypeInfo.TryGetElementCount(header.Shape, out long count) || count > long.MaxValue / size)
            {
                return prefix.Length;
            }

            return TensorFileSource.SaturatingAdd(dataStart + 1, (ulong)(count * size));
        }
        catch (InteropFormatException)
        {
            return prefix.Length;
        }
    }

    /// <summary>
    /// Reorders column-major element bytes into row-major: the element at index (i0, …, i(n-1)) lies at
    /// Σ ik·stride(k) elements with stride(0) = 1 and stride(k) = stride(k-1)·shape(k-1) in Fortran order.
    /// </summary>
    private static byte[] FortranToC(byte[] fortran, int[] shape, int size)
    {
        int rank = shape.Length;
        if (rank < 2 || fortran.Length == 0)
        {
            return fortran;
        }

        var stride = new long[rank];
        long s = 1;
        for (int k = 0; k < rank; k++)
        {
            stride[k] = s;
            s *= shape[k];
        }

        var result = new byte[fortran.Length];
        var index = new int[rank];
        long source = 0;
        for (int c = 0; c < result.Length; c += size)
        {
            fortran.AsSpan(checked((int)(source * size)), size).CopyTo(result.AsSpan(c));

            // Advance the row-major index (last axis fastest), keeping the column-major offset in step.
            for (int k = rank - 1; k >= 0; k--)
            {
                source += stride[k];
                if (++index[k] < shape[k])
                {
                    break;
                }

                source -= stride[k] * shape[k];
                index[k] = 0;
            }
        }

        return result;
    }

    private static (TensorDType DType, bool Swap) ParseDescr(string descr, string source)
    {
        if (descr.Length == 3 && descr[0] is '<' or '>' or '|')
        {
            bool swap = descr[0] == '>';
            TensorDType? dtype = descr.AsSpan(1) switch
            {
                "f4" => TensorDType.F32,
                "f8" => TensorDType.F64,
                "f2" => TensorDType.F16,
                "i8" => TensorDType.I64,
                "i4" => TensorDType.I32,
                "u1" => TensorDType.U8,
                "i1" => TensorDType.I8,
                _ => null,
            };
            if (dtype is { } d && (descr[0] != '|' || d is TensorDType.U8 or TensorDType.I8))
            {
                return (d, swap);
            }
        }

        throw Fail(source, $"unsupported dtype descr '{descr}' (supported: <f4, <f8, <f2, <i8, <i4, |u1, |i1 and their > forms)");
    }

    /// <summary>Writes <paramref name="tensor"/> to <paramref name="path"/>; see <see cref="Write"/>.</summary>
    /// <exception cref="ArgumentException">The dtype has no numpy equivalent (BF16).</exception>
    public static void WriteFile(string path, HostTensor tensor) => File.WriteAllBytes(path, Write(tensor));

    /// <summary>
    /// Serialises <paramref name="tensor"/> as C-order .npy: version 1.0 when the header fits a u16 length, else 2.0;
    /// the header is padded with spaces and ends with '\n' so the data starts at a multiple of 64 bytes.
    /// </summary>
    /// <exception cref="ArgumentException">The dtype has no numpy equivalent (BF16).</exception>
    public static byte[] Write(HostTensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        string descr = tensor.DType switch
        {
            TensorDType.F32 => "<f4",
            TensorDType.F64 => "<f8",
            TensorDType.F16 => "<f2",
            TensorDType.I64 => "<i8",
            TensorDType.I32 => "<i4",
            TensorDType.U8 => "|u1",
            TensorDType.I8 => "|i1",
            _ => throw new ArgumentException($"{tensor.DType} has no .npy dtype; convert it (e.g. ToSingle) first.", nameof(tensor)),
        };

        string dict = string.Create(
            CultureInfo.InvariantCulture,
            $"{{'descr': '{descr}', 'fortran_order': False, 'shape': {TensorDTypeInfo.FormatShape(tensor.Shape)}, }}");

        // numpy pads so that magic + version + length + header (incl. '\n') is a multiple of 64.
        int version = 1;
        int prefix = 10;
        int total = Pad(prefix + dict.Length + 1);
        if (total - prefix > ushort.MaxValue)
        {
            version = 2;
            prefix = 12;
            total = Pad(prefix + dict.Length + 1);
        }

        int headerLength = total - prefix;
        var output = new byte[total + tensor.Bytes.Length];
        Magic.CopyTo(output);
        output[6] = (byte)version;
        output[7] = 0;
        if (version == 1)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(output.AsSpan(8), (ushort)headerLength);
        }
        else
        {
            BinaryPrimitives.WriteUInt32LittleEndian(output.AsSpan(8), (uint)headerLength);
        }

        Span<byte> header = output.AsSpan(prefix, headerLength);
        header.Fill((byte)' ');
        Encoding.ASCII.GetBytes(dict, header);
        header[^1] = (byte)'\n';
        tensor.Bytes.Span.CopyTo(output.AsSpan(total));
        return output;
    }

    private static int Pad(int length) => (length + 63) / 64 * 64;

    private static InteropFormatException Fail(string source, string problem) => InteropFormatException.Create(source, problem);
}
