namespace RecurrentCore;

/// <summary>
/// The base of every error RecurrentCore raises for bad data (a malformed file, an inconsistent set of weights).
/// The message is one line naming the input and the problem.
/// </summary>
public class RecurrentCoreException : Exception
{
    /// <summary>Creates an exception with no message.</summary>
    public RecurrentCoreException()
    {
    }

    /// <summary>Creates an exception with a one-line message naming the input and the problem.</summary>
    public RecurrentCoreException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with a message and the error that caused it.</summary>
    public RecurrentCoreException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
