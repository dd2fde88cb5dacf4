using PublicApiGenerator;
using RecurrentCore.Layers;
using Xunit;

namespace RecurrentCore.Tests.PublicApi;

/// <summary>
/// The public API of RecurrentCore.dll, as PublicApiGenerator prints it, against the reviewed snapshot committed beside
/// this file. A change to the surface fails here until the snapshot is accepted:
/// <c>RECURRENTCORE_ACCEPT_API=1 dotnet test tests/RecurrentCore.Tests -c Release --filter FullyQualifiedName~PublicApiTests</c>
/// rewrites RecurrentCore.approved.txt; review its diff and commit it (docs/packaging.md: an API change bumps the version).
/// </summary>
public class PublicApiTests
{
    public const string AcceptVariable = "RECURRENTCORE_ACCEPT_API";

    internal static string ApprovedPath => Packaging.RepositoryFiles.PathOf("tests", "RecurrentCore.Tests", "PublicApi", "RecurrentCore.approved.txt");

    internal static string Generate() =>
        typeof(RecurrentLayer).Assembly.GeneratePublicApi(new ApiGeneratorOptions
        {
            // Assembly-level attributes (InternalsVisibleTo, target framework, ...) are build plumbing, not API.
            IncludeAssemblyAttributes = false,
        }).Replace("\r\n", "\n", StringComparison.Ordinal) + "\n";

    [Fact]
    public void Public_api_matches_the_approved_snapshot()
    {
        string actual = Generate();
        string path = ApprovedPath;
        if (Environment.GetEnvironmentVariable(AcceptVariable) == "1")
        {
            File.WriteAllText(path, actual);
            return;
        }

        Assert.True(File.Exists(path), $"{path} is missing: run the tests once with {AcceptVariable}=1 to write it, then review and commit it");
        string approved = Packaging.RepositoryFiles.ReadNormalised(path);
        Assert.True(approved == actual, Difference(approved, actual));
    }

    /// <summary>A one-screen account of the first lines that differ, and how to accept the change.</summary>
    internal static string Difference(string approved, string actual)
    {
        var before = new HashSet<string>(approved.Split('\n'), StringComparer.Ordinal);
        var after = new HashSet<string>(actual.Split('\n'), StringComparer.Ordinal);
        var removed = approved.Split('\n').Where(l => !after.Contains(l)).Take(15).Select(l => "  - " + l.Trim());
        var added = actual.Split('\n').Where(l => !before.Contains(l)).Take(15).Select(l => "  + " + l.Trim());
        return "The public API of RecurrentCore.dll differs from tests/RecurrentCore.Tests/PublicApi/RecurrentCore.approved.txt " +
            $"({approved.Split('\n').Length} lines approved, {actual.Split('\n').Length} now; first differing lines, - approved, + now):\n" + string.Join('\n', removed.Concat(added)) + "\n" +
            $"If the change is intended, accept it: {AcceptVariable}=1 dotnet test tests/RecurrentCore.Tests -c Release " +
            "--filter FullyQualifiedName~PublicApiTests, then review the file's diff and commit it (an API change bumps the version: docs/packaging.md).";
    }

    [Fact]
    public void Difference_names_added_and_removed_lines_and_how_to_accept()
    {
        string message = Difference("namespace A\n{\n    public class B { }\n}\n", "namespace A\n{\n    public class C { }\n}\n");
        Assert.Contains("  - public class B { }", message, StringComparison.Ordinal);
        Assert.Contains("  + public class C { }", message, StringComparison.Ordinal);
        Assert.Contains(AcceptVariable + "=1", message, StringComparison.Ordinal);
    }
}
