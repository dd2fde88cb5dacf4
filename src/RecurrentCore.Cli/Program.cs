namespace RecurrentCore.Cli;

internal static class Program
{
    private static int Main(string[] args) => RecurrentCli.Run(args, Console.Out, Console.Error);
}
