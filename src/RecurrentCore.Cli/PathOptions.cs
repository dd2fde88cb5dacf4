using System.CommandLine;

namespace RecurrentCore.Cli;

/// <summary>Checks shared by the options that name a file or folder.</summary>
internal static class PathOptions
{
    /// <summary>
    /// Refuses an empty value at parse time, naming the option: <c>--weights ""</c> would otherwise reach the file
    /// system as "The value cannot be an empty string. (Parameter 'path')", which names no option.
    /// </summary>
    public static void RequireNonEmpty(params Option[] options)
    {
        foreach (var option in options)
        {
            option.Validators.Add(result =>
            {
                foreach (var token in result.Tokens)
                {
                    if (string.IsNullOrWhiteSpace(token.Value))
                    {
                        result.AddError($"{option.Name}: the value is empty; a path is expected");
                        return;
                    }
                }
            });
        }
    }
}
