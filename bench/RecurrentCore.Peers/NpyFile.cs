using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace RecurrentCore.Peers;

/// <summary>
/// Float32 .npy files (format 1.0, little-endian, C order), the exchange format with the peer servers. The harness's
/// own, so that it depends on nothing of the library beyond layers, parameters and gradients.
/// </summary>
internal static class NpyFile
{
    public static void Write(string path, IReadOnlyList<int> shape, ReadOnlySpan<float> data)
    {
        ArgumentNullException.ThrowIfNull(shape);
        string dims = shape.Count == 1 ? shape[0].ToString(CultureInfo.InvariantCulture) + "," : string.Join(", ", shape.Select(d => d.ToString(CultureInfo.InvariantCulture)));
        var header = new StringBuilder("{'descr': '<f4', 'fortran_order': False, 'shape': (" + dims + "), }");
        while ((10 + header.Length + 1) % 64 != 0)
        {
            header.Append(' ');
        }

        header.Append('\n');
        using var f = File.Create(path);
        f.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0]);
        Span<byte> len = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(len, (ushort)header.Length);
        f.Write(len);
        f.Write(Encoding.ASCII.GetBytes(header.ToString()));
        var bytes = new byte[data.Length * 4];
        for (int i = 0; i < data.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), data[i]);
        }

        f.Write(bytes);
    }

    /// <summary>Reads a float32 (or float64, converted) C-order .npy file; throws <see cref="InvalidDataException"/> naming the file otherwise.</summary>
    public static float[] Read(string path)
    {
        byte[] all = File.ReadAllBytes(path);
        if (all.Length < 10 || all[0] != 0x93 || Encoding.ASCII.GetString(all, 1, 5) != "NUMPY")
        {
            throw new InvalidDataException($"{path}: not an .npy file");
        }

        int headerLen, start;
        if (all[6] == 1)
        {
            headerLen = BinaryPrimitives.ReadUInt16LittleEndian(all.AsSpan(8));
            start = 10;
        }
        else
        {
            headerLen = (int)BinaryPrimitives.ReadUInt32LittleEndian(all.AsSpan(8));
            start = 12;
        }

        string header = Encoding.ASCII.GetString(all, start, headerLen);
        int offset = start + headerLen;
        if (header.Contains("'fortran_order': True", StringComparison.Ordinal))
        {
            throw new InvalidDataException($"{path}: Fortran order is not read here");
        }

        if (header.Contains("'<f4'", StringComparison.Ordinal))
        {
            var v = new float[(all.Length - offset) / 4];
            for (int i = 0; i < v.Length; i++)
            {
                v[i] = BinaryPrimitives.ReadSingleLittleEndian(all.AsSpan(offset + (i * 4)));
            }

            return v;
        }

        if (header.Contains("'<f8'", StringComparison.Ordinal))
        {
            var v = new float[(all.Length - offset) / 8];
            for (int i = 0; i < v.Length; i++)
            {
                v[i] = (float)BinaryPrimitives.ReadDoubleLittleEndian(all.AsSpan(offset + (i * 8)));
            }

            return v;
        }

        throw new InvalidDataException($"{path}: expected float32 or float64, header {header.Trim()}");
    }
}
