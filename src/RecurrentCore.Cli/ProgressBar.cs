using System.Diagnostics;
using System.Globalization;
using Spectre.Console;

namespace RecurrentCore.Cli;

/// <summary>
/// Progress of a long command on stderr. On an interactive terminal, a Spectre.Console progress bar redrawn in place
/// (<c>label ━━━━━━━━╸━━━━━━  50% suffix</c>). When stderr is redirected (a log, a pipe, a test's writer), NO_COLOR is
/// set or TERM is dumb, plain lines instead, one per tenth of the work and one at the end, with no carriage-return
/// redraw and no escape sequence, so a log holds a dozen readable lines rather than kilobytes of redraws.
/// </summary>
internal sealed class ProgressBar
{
    private const int PlainSteps = 10;
    private readonly TextWriter _writer;
    private readonly string _label;
    private readonly long _total;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Interactive? _interactive;
    private int _lastStep = -1;

    public ProgressBar(TextWriter writer, string label, long total)
    {
        _writer = writer;
        _label = label;
        _total = Math.Max(1, total);
        if (IsInteractive(writer))
        {
            _interactive = new Interactive(writer, label, _total);
        }
    }

    public TimeSpan Elapsed => _clock.Elapsed;

    /// <summary>
    /// True only for the process's own stderr on a terminal with colour allowed: any other writer, a redirected
    /// stream, NO_COLOR (https://no-color.org: set to anything non-empty) or TERM=dumb gets plain lines.
    /// </summary>
    internal static bool IsInteractive(TextWriter writer) =>
        ReferenceEquals(writer, Console.Error)
        && !Console.IsErrorRedirected
        && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NO_COLOR"))
        && !string.Equals(Environment.GetEnvironmentVariable("TERM"), "dumb", StringComparison.Ordinal);

    public void Update(long done, string suffix = "")
    {
        if (_interactive is not null)
        {
            _interactive.Update(done, suffix);
            return;
        }

        int step = (int)(Math.Clamp((double)done / _total, 0, 1) * PlainSteps);
        if (step > _lastStep && done < _total)
        {
            _lastStep = step;
            WritePlain(done, suffix);
        }
    }

    public void Finish(string suffix = "")
    {
        if (_interactive is not null)
        {
            _interactive.Finish(suffix);
            return;
        }

        WritePlain(_total, suffix);
    }

    private void WritePlain(long done, string suffix)
    {
        double percent = Math.Clamp((double)done / _total, 0, 1) * 100;
        _writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{_label} {percent,3:0}% {suffix}").TrimEnd());
        _writer.Flush();
    }

    /// <summary>Spectre.Console's live progress, run on its own render thread while the caller works.</summary>
    private sealed class Interactive
    {
        private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly Task _render;
        private readonly string _label;
        private ProgressTask? _task;

        public Interactive(TextWriter writer, string label, long total)
        {
            _label = label;
            var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(writer) });
            using var ready = new ManualResetEventSlim();
            _render = console.Progress()
                .AutoClear(false)
                .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn())
                .StartAsync(async context =>
                {
                    _task = context.AddTask(Markup.Escape(label), maxValue: total);
                    ready.Set();
                    await _done.Task.ConfigureAwait(false);
                });
            while (!ready.Wait(50))
            {
                if (_render.IsCompleted)
                {
                    _render.GetAwaiter().GetResult();
                    throw new InvalidOperationException("The progress display ended before it started.");
                }
            }
        }

        public void Update(long done, string suffix)
        {
            _task!.Value = done;
            _task.Description = Markup.Escape(string.IsNullOrEmpty(suffix) ? _label : $"{_label} {suffix}");
        }

        public void Finish(string suffix)
        {
            Update((long)_task!.MaxValue, suffix);
            _done.TrySetResult();
            _render.GetAwaiter().GetResult();
        }
    }
}
