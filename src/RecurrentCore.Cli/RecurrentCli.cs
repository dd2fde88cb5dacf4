using System.CommandLine;
using RecurrentCore.Cli.Bench;
using RecurrentCore.Cli.Demo;
using RecurrentCore.Cli.ModelFiles;
using RecurrentCore.Cli.Parity;
using RecurrentCore.Cli.Training;

namespace RecurrentCore.Cli;

/// <summary>The <c>recurrent</c> command: its subcommands and the one place errors become exit codes.</summary>
public static class RecurrentCli
{
    /// <summary>Exit code for bad input (a malformed file, a shape mismatch); usage errors exit with 1 from the parser.</summary>
    public const int BadInput = 2;

    /// <summary>Runs the command line; never throws for bad input or usage.</summary>
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        var root = new RootCommand("recurrent: PyTorch-compatible RNN, LSTM and GRU on the CPU.")
        {
            ParityCommands.Forward(),
            ParityCommands.Backward(),
            ParityCheckCommand.Create(),
            DemoCommand.Create(),
            TrainCommand.Create(),
            GenerateCommand.Create(),
            BenchCommand.Create(),
            InfoCommand.Create(),
            ConvertCommand.Create(),
            InspectCommand.Create(),
        };
        var config = new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false };
        try
        {
            return root.Parse(args).Invoke(config);
        }
        catch (Exception e) when (IsUserError(e))
        {
            error.WriteLine($"recurrent: error: {OneLine(e.Message)}");
            return BadInput;
        }
    }

    private static bool IsUserError(Exception e) =>
        e is CliException or RecurrentCoreException or IOException or UnauthorizedAccessException or ArgumentException;

    private static string OneLine(string message) => message.ReplaceLineEndings(" ");
}
