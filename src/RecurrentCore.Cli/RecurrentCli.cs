using System.CommandLine;
using System.CommandLine.Parsing;
using RecurrentCore.Cli.Bench;
using RecurrentCore.Cli.Demo;
using RecurrentCore.Cli.ModelFiles;
using RecurrentCore.Cli.Parity;
using RecurrentCore.Cli.Training;

namespace RecurrentCore.Cli;

/// <summary>The <c>recurrent</c> command: its subcommands and the one place errors become exit codes.</summary>
public static class RecurrentCli
{
    /// <summary>Exit code for a usage error (an unknown option or value, a missing or empty required option).</summary>
    public const int UsageError = 1;

    /// <summary>Exit code for bad input (a malformed file, a shape mismatch, an unwritable output).</summary>
    public const int BadInput = 2;

    /// <summary>How every exit code is documented in the help.</summary>
    internal const string ExitCodes =
        "Exit codes: 0 success; 1 usage error (unknown or missing option, bad option value); 2 bad input or output (malformed file, shape mismatch, unwritable --out); 3 parity disagreement. Every error is one line on stderr.";

    /// <summary>Runs the command line; never throws for bad input or usage.</summary>
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        var root = new RootCommand("recurrent: PyTorch-compatible RNN, LSTM and GRU on the CPU. " + ExitCodes)
        {
            ParityCommands.Forward(),
            ParityCommands.Backward(),
            ParityCheckCommand.Create(),
            DemoCommand.Create(),
            TrainCommand.Create(),
            GenerateCommand.Create(),
            EvalCommand.Create(),
            BenchCommand.Create(),
            InfoCommand.Create(),
            ConvertCommand.Create(),
            InspectCommand.Create(),
        };
        var config = new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false };
        try
        {
            var parse = root.Parse(args);
            if (parse.Errors.Count > 0)
            {
                // The parser would print every error and then the whole help; one line, like every other error, is
                // what a script's log needs.
                error.WriteLine($"recurrent: error: {Describe(parse.Errors[0])} (--help shows the usage)");
                return UsageError;
            }

            return parse.Invoke(config);
        }
        catch (Exception e) when (IsUserError(e))
        {
            error.WriteLine($"recurrent: error: {OneLine(e.Message)}");
            return BadInput;
        }
    }

    /// <summary>The parser's message, prefixed with the option it concerns when the message does not name it.</summary>
    private static string Describe(ParseError e)
    {
        string message = OneLine(e.Message).Replace("\t", " ", StringComparison.Ordinal);
        while (message.Contains("  ", StringComparison.Ordinal))
        {
            message = message.Replace("  ", " ", StringComparison.Ordinal);
        }

        var option = e.SymbolResult switch
        {
            OptionResult o => o.Option,
            ArgumentResult { Parent: OptionResult o } => o.Option,
            _ => null,
        };
        return option is null || message.Contains(option.Name, StringComparison.Ordinal) ? message : $"{option.Name}: {message}";
    }

    private static bool IsUserError(Exception e) =>
        e is CliException or RecurrentCoreException or IOException or UnauthorizedAccessException or ArgumentException;

    private static string OneLine(string message) => message.ReplaceLineEndings(" ");
}
