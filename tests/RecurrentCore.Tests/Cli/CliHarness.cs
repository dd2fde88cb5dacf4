using RecurrentCore.Cli;

namespace RecurrentCore.Tests.Cli;

/// <summary>Runs the CLI in-process with captured output, and gives each test a fresh scratch folder.</summary>
internal sealed class CliHarness : IDisposable
{
    public CliHarness()
    {
        Scratch = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "recurrent-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Scratch);
    }

    public string Scratch { get; }

#pragma warning disable CA1822 // an instance method keeps call sites uniform with Path()
    public (int Code, string Out, string Err) Run(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        int code = RecurrentCli.Run(args, output, error);
        return (code, output.ToString(), error.ToString());
    }
#pragma warning restore CA1822

    public string Path(string name) => System.IO.Path.Combine(Scratch, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Scratch, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
