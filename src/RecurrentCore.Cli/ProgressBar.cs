using System.Diagnostics;

namespace RecurrentCore.Cli;

/// <summary>
/// A one-line text progress bar on stderr, redrawn in place with '\r' at most every 100 ms (and at the end):
/// <c>label [##########..........]  50% suffix</c>.
/// </summary>
internal sealed class ProgressBar
{
    private const int Width = 24;
    private readonly TextWriter _writer;
    private readonly string _label;
    private readonly long _total;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private long _lastDraw = -1000;
    private int _lastLength;

    public ProgressBar(TextWriter writer, string label, long total)
    {
        _writer = writer;
        _label = label;
        _total = Math.Max(1, total);
    }

    public TimeSpan Elapsed => _clock.Elapsed;

    public void Update(long done, string suffix = "")
    {
        long now = _clock.ElapsedMilliseconds;
        if (done < _total && now - _lastDraw < 100)
        {
            return;
        }

        _lastDraw = now;
        double fraction = Math.Clamp((double)done / _total, 0, 1);
        int filled = (int)Math.Round(fraction * Width);
        string line = $"{_label} [{new string('#', filled)}{new string('.', Width - filled)}] {fraction * 100,3:0}% {suffix}";
        string pad = line.Length < _lastLength ? new string(' ', _lastLength - line.Length) : string.Empty;
        _lastLength = line.Length;
        _writer.Write("\r" + line + pad);
        _writer.Flush();
    }

    public void Finish(string suffix = "")
    {
        Update(_total, suffix);
        _writer.WriteLine();
    }
}
