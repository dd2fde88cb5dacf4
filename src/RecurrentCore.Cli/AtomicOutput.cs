namespace RecurrentCore.Cli;

/// <summary>
/// Writes a set of files into a directory all or nothing: every file goes to a hidden staging directory inside
/// the target first, and only when all are written are they renamed into place. On failure nothing is left.
/// </summary>
internal static class AtomicOutput
{
    public static void WriteAll(string directory, IReadOnlyList<(string FileName, Action<string> Write)> files)
    {
        bool created = false;
        try
        {
            if (File.Exists(directory))
            {
                throw new CliException($"{directory}: output directory is a file");
            }

            if (!Directory.Exists(directory))
            {
                Directory.CreateDirectory(directory);
                created = true;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"{directory}: cannot create output directory: {e.Message}", e);
        }

        string staging = Path.Combine(directory, $".recurrent-staging-{Environment.ProcessId}-{Guid.NewGuid():N}");
        var moved = new List<string>();
        try
        {
            Directory.CreateDirectory(staging);
            foreach (var (name, write) in files)
            {
                write(Path.Combine(staging, name));
            }

            foreach (var (name, _) in files)
            {
                string target = Path.Combine(directory, name);
                File.Move(Path.Combine(staging, name), target, overwrite: true);
                moved.Add(target);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            foreach (var path in moved)
            {
                TryDelete(path);
            }

            if (created)
            {
                TryDeleteDirectory(directory);
            }

            throw new CliException($"{directory}: cannot write output: {e.Message}", e);
        }
        finally
        {
            TryDeleteDirectory(staging);
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private static void TryDeleteDirectory(string path)
    {
        try
        {
            if (Directory.Exists(path))
            {
                Directory.Delete(path, recursive: true);
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
