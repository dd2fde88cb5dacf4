namespace RecurrentCore.Cli;

/// <summary>
/// Writes output all or nothing, as a user looking at the output directory sees it.
/// <para>
/// A set of files (<see cref="WriteAll"/>): the whole directory is the unit. The new set is written into a hidden
/// sibling staging directory (<c>.NAME.recurrent-new-*</c> beside NAME); only when every file is written is the old
/// directory renamed aside (<c>.NAME.recurrent-old-*</c>), the staging directory renamed to NAME, and the old one
/// deleted. So a failure before the swap leaves the earlier outputs exactly as they were (the staging directory is
/// removed), a failed second rename puts the old directory back, and a success leaves exactly the new set, with no
/// stale file of an earlier run that wrote more files. Only a directory that is new, empty, or holds nothing but
/// files an earlier run could have written (<c>replaceable</c>) is replaced; anything else is refused, so pointing
/// --out at a folder of one's own never deletes it. If the process dies between the two renames, the earlier set is
/// still whole under <c>.NAME.recurrent-old-*</c>.
/// </para>
/// <para>A single file in a shared folder (<see cref="WriteFile"/>): written beside its target and renamed over it.</para>
/// </summary>
internal static class AtomicOutput
{
    /// <summary>Writes <paramref name="files"/> as the whole content of <paramref name="directory"/> (see the class remarks).</summary>
    /// <param name="directory">The output directory; created (with its parents) when absent. A symbolic link to a directory
    /// is followed: the directory it points to is replaced.</param>
    /// <param name="files">Each file's name and a writer that creates it at the given path.</param>
    /// <param name="replaceable">Names an earlier run could have left in the directory; other entries make it refuse.</param>
    /// <param name="faultPoint">Test seam, called with "written", "old-moved" and "swapped" as the stages complete.</param>
    /// <exception cref="CliException">The directory cannot be used or written; earlier outputs are intact.</exception>
    public static void WriteAll(
        string directory,
        IReadOnlyList<(string FileName, Action<string> Write)> files,
        IReadOnlyCollection<string> replaceable,
        Action<string>? faultPoint = null)
    {
        string target = Resolve(directory);
        string parent = Path.GetDirectoryName(target) ?? throw new CliException($"{directory}: cannot replace a root directory; name a folder below it");
        string name = Path.GetFileName(target);
        bool exists = Directory.Exists(target);
        if (exists)
        {
            RequireReplaceable(directory, target, files, replaceable);
        }

        string tag = $"{Environment.ProcessId}-{Guid.NewGuid():N}";
        string staging = Path.Combine(parent, $".{name}.recurrent-new-{tag}");
        string old = Path.Combine(parent, $".{name}.recurrent-old-{tag}");
        bool swapped = false;
        try
        {
            Directory.CreateDirectory(parent);
            Directory.CreateDirectory(staging);
            if (exists && !OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(staging, File.GetUnixFileMode(target));
            }

            foreach (var (file, write) in files)
            {
                write(Path.Combine(staging, file));
            }

            faultPoint?.Invoke("written");
            if (!exists)
            {
                Directory.Move(staging, target);
                swapped = true;
                faultPoint?.Invoke("swapped");
                return;
            }

            Directory.Move(target, old);
            try
            {
                faultPoint?.Invoke("old-moved");
                Directory.Move(staging, target);
            }
            catch
            {
                Directory.Move(old, target);
                throw;
            }

            swapped = true;
            TryDeleteDirectory(old);
            faultPoint?.Invoke("swapped");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"{directory}: cannot write output: {e.Message}", e);
        }
        finally
        {
            if (!swapped)
            {
                TryDeleteDirectory(staging);
            }
        }
    }

    /// <summary>Writes one file into <paramref name="directory"/> (created when absent) through a temporary file and a rename.</summary>
    /// <exception cref="CliException">The directory or file cannot be written; an earlier file of that name is intact.</exception>
    public static void WriteFile(string directory, string fileName, Action<string> write)
    {
        string target = Resolve(directory);
        string temporary = Path.Combine(target, $".{fileName}.recurrent-new-{Environment.ProcessId}-{Guid.NewGuid():N}");
        try
        {
            Directory.CreateDirectory(target);
            write(temporary);
            File.Move(temporary, Path.Combine(target, fileName), overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"{directory}: cannot write output: {e.Message}", e);
        }
        finally
        {
            TryDelete(temporary);
        }
    }

    /// <summary>The full path of the directory to write, following symbolic links; refuses files and broken links.</summary>
    private static string Resolve(string directory)
    {
        string full;
        try
        {
            full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory));
            var info = new DirectoryInfo(full);
            if (info.LinkTarget is not null)
            {
                FileSystemInfo? final;
                try
                {
                    final = info.ResolveLinkTarget(returnFinalTarget: true);
                }
                catch (IOException e)
                {
                    // ELOOP: the link leads back to itself; "is a file" (what File.Exists suggests) would mislead.
                    throw new CliException($"{directory}: output directory is a symbolic link loop ({e.Message})", e);
                }

                if (final is null || !final.Exists)
                {
                    throw new CliException($"{directory}: output directory is a symbolic link to '{info.LinkTarget}', which does not exist");
                }

                full = Path.TrimEndingDirectorySeparator(final.FullName);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new CliException($"{directory}: cannot use as output directory: {e.Message}", e);
        }

        if (File.Exists(full))
        {
            throw new CliException($"{directory}: output directory is a file");
        }

        return full;
    }

    private static void RequireReplaceable(
        string directory, string target, IReadOnlyList<(string FileName, Action<string> Write)> files, IReadOnlyCollection<string> replaceable)
    {
        var allowed = new HashSet<string>(replaceable, StringComparer.Ordinal);
        foreach (var (file, _) in files)
        {
            allowed.Add(file);
        }

        try
        {
            foreach (var entry in new DirectoryInfo(target).EnumerateFileSystemInfos())
            {
                if (entry is DirectoryInfo || entry.LinkTarget is not null || !allowed.Contains(entry.Name))
                {
                    throw new CliException(
                        $"{directory}: holds '{entry.Name}', which no earlier run wrote; the output directory is replaced as a whole, so it must be new, empty or an earlier run's output");
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"{directory}: cannot read output directory: {e.Message}", e);
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
