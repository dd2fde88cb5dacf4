namespace RecurrentCore.Cli;

/// <summary>A user-facing error: the CLI prints its one-line message and exits non-zero, without a stack trace.</summary>
internal sealed class CliException : Exception
{
    public CliException()
    {
    }

    public CliException(string message)
        : base(message)
    {
    }

    public CliException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
