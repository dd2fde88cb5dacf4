using System.Globalization;

namespace RecurrentCore.Samples.LoadTest;

/// <summary><c>mode --name value …</c> with one-line errors; everything after <c>--</c> is kept as a command line.</summary>
internal sealed class Args
{
    private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);

    public Args(string[] args)
    {
        if (args.Length == 0 || args[0].StartsWith('-'))
        {
            throw new ArgumentException("usage: recurrent-loadtest inproc|service|check|startup [--name value ...] [-- command ...]");
        }

        Mode = args[0];
        for (int i = 1; i < args.Length; i++)
        {
            if (args[i] == "--")
            {
                Rest = args[(i + 1)..];
                break;
            }

            if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
            {
                throw new ArgumentException($"'{args[i]}': expected --name value");
            }

            _values[args[i][2..]] = args[++i];
        }
    }

    public string Mode { get; }

    public string[] Rest { get; } = [];

    public string Text(string name, string fallback) => _values.GetValueOrDefault(name, fallback);

    public int Int(string name, int fallback, int min = 1)
    {
        if (!_values.TryGetValue(name, out var t))
        {
            return fallback;
        }

        return int.TryParse(t, CultureInfo.InvariantCulture, out int v) && v >= min
            ? v
            : throw new ArgumentException($"--{name}: '{t}' is not an integer ≥ {min}");
    }
}
