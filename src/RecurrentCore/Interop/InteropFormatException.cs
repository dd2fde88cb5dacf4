namespace RecurrentCore;

/// <summary>
/// A tensor file (safetensors, .npy) or tensor conversion was malformed or unsupported.
/// The message is one line: the source (file path, or the given source name) followed by the problem, e.g.
/// <c>data.npy: header declares shape (3, 4) = 12 elements but 40 bytes of data follow (need 48)</c>.
/// </summary>
public sealed class InteropFormatException : RecurrentCoreException
{
    /// <summary>Creates an exception with no message.</summary>
    public InteropFormatException()
    {
    }

    /// <summary>Creates an exception with a one-line message naming the source and the problem.</summary>
    public InteropFormatException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with a message and the error that caused it.</summary>
    public InteropFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Builds "<paramref name="source"/>: <paramref name="problem"/>" with line breaks flattened.</summary>
    internal static InteropFormatException Create(string source, string problem, Exception? inner = null)
    {
        string message = (source + ": " + problem).Replace('\r', ' ').Replace('\n', ' ');
        return inner is null ? new InteropFormatException(message) : new InteropFormatException(message, inner);
    }
}
