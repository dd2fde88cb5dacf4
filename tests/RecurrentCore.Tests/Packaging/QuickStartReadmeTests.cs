using Xunit;

namespace RecurrentCore.Tests.Packaging;

/// <summary>The README's "Using the library" code is samples/QuickStart/Program.cs, which CI builds against the package and runs.</summary>
public class QuickStartReadmeTests
{
    private const string Section = "## Using the library";
    private const string Fence = "```csharp\n";

    /// <summary>The first csharp block after the section heading, without its fences.</summary>
    internal static string ReadmeCode(string readme)
    {
        int section = readme.IndexOf(Section, StringComparison.Ordinal);
        Assert.True(section >= 0, $"README.md has no '{Section}' section");
        int open = readme.IndexOf(Fence, section, StringComparison.Ordinal);
        int next = readme.IndexOf("\n## ", section + Section.Length, StringComparison.Ordinal);
        Assert.True(open >= 0 && (next < 0 || open < next), $"README.md's '{Section}' section has no ```csharp block");
        int start = open + Fence.Length;
        int close = readme.IndexOf("\n```", start - 1, StringComparison.Ordinal);
        Assert.True(close >= start - 1, "README.md's csharp block is not closed");
        return readme[start..(close + 1)];
    }

    [Fact]
    public void Readme_shows_the_quickstart_program_verbatim()
    {
        string readme = RepositoryFiles.ReadNormalised(RepositoryFiles.PathOf("README.md"));
        string program = RepositoryFiles.ReadNormalised(RepositoryFiles.PathOf("samples", "QuickStart", "Program.cs"));
        string shown = ReadmeCode(readme);
        if (shown != program)
        {
            string[] a = shown.Split('\n'), b = program.Split('\n');
            int line = 0;
            while (line < a.Length && line < b.Length && a[line] == b[line])
            {
                line++;
            }

            Assert.Fail($"README.md's '{Section}' code differs from samples/QuickStart/Program.cs at line {line + 1}:\n" +
                $"  README:  {(line < a.Length ? a[line] : "(end)")}\n  Program: {(line < b.Length ? b[line] : "(end)")}\n" +
                "Copy samples/QuickStart/Program.cs into the README block (the sample is the one CI compiles and runs).");
        }
    }

    [Fact]
    public void Readme_code_extraction_finds_the_block_and_nothing_after_it()
    {
        string readme = "# x\n\n## Using the library\n\ntext\n\n```csharp\nA();\n\nB();\n```\n\nmore\n\n```csharp\nC();\n```\n## Next\n";
        Assert.Equal("A();\n\nB();\n", ReadmeCode(readme));
    }
}
