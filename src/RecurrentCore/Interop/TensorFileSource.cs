namespace RecurrentCore.Interop;

/// <summary>Reads a whole tensor file into memory, refusing files too large for one array.</summary>
internal static class TensorFileSource
{
    /// <summary>The whole file; its path names it in errors.</summary>
    /// <exception cref="InteropFormatException">The file is longer than <see cref="Array.MaxLength"/> bytes.</exception>
    public static byte[] ReadAll(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.SequentialScan);
        long length = stream.Length;
        if (length > Array.MaxLength)
        {
            throw InteropFormatException.Create(path, $"file is {length} bytes; at most {Array.MaxLength} bytes can be read");
        }

        var bytes = new byte[length];
        try
        {
            stream.ReadExactly(bytes);
        }
        catch (EndOfStreamException e)
        {
            throw InteropFormatException.Create(path, $"file shrank below its reported {length} bytes while being read", e);
        }

        return bytes;
    }
}
