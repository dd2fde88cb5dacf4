namespace RecurrentCore.Tests.Packaging;

/// <summary>Files of the source tree (not the build output) for tests that compare or rewrite committed files.</summary>
internal static class RepositoryFiles
{
    /// <summary>The repository root: the first directory above the test binaries holding RecurrentCore.sln.</summary>
    public static string Root { get; } = FindRoot();

    public static string PathOf(params string[] parts) => Path.Combine([Root, .. parts]);

    /// <summary>Text with line endings normalised to \n, so a checkout with CRLF compares equal.</summary>
    public static string ReadNormalised(string path) => File.ReadAllText(path).Replace("\r\n", "\n", StringComparison.Ordinal);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "RecurrentCore.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"no RecurrentCore.sln above {AppContext.BaseDirectory}: these tests read the source tree");
    }
}
