using System.Globalization;
using Xunit;

namespace RecurrentCore.Tests.Cli;

/// <summary><c>recurrent demo --quick</c>: the table structure, the gradient table and plot, and what is reliable about the numbers.</summary>
public sealed class DemoCliTests : IDisposable
{
    private readonly CliHarness _cli = new();

    public void Dispose() => _cli.Dispose();

    [Fact]
    public void Quick_demo_prints_its_tables_writes_the_plot_and_shows_the_effects()
    {
        string outDir = _cli.Path("demo");
        var (code, output, error) = _cli.Run("demo", "--quick", "--seed", "1", "--out-dir", outDir);
        Assert.True(code == 0, error);
        var lines = output.Split('\n').Select(l => l.TrimEnd('\r')).ToArray();

        // (1) The accuracy table: a header naming every cell and one row per length.
        string header = Assert.Single(lines, l => l.TrimStart().StartsWith("T ", StringComparison.Ordinal));
        foreach (var name in new[] { "rnn-tanh loss", "lstm loss", "lstm fb+3 loss", "gru loss" })
        {
            Assert.Contains(name, header, StringComparison.Ordinal);
        }

        var rows = new Dictionary<int, double[]>();
        foreach (int t in new[] { 5, 30 })
        {
            string row = Assert.Single(lines, l => l.Trim().StartsWith(t.ToString(CultureInfo.InvariantCulture) + " ", StringComparison.Ordinal) && l.Contains('%', StringComparison.Ordinal));
            var cells = row.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1..];
            Assert.Equal(8, cells.Length); // loss, acc for 4 models
            rows[t] = [.. cells.Where((_, i) => i % 2 == 1).Select(a => double.Parse(a.TrimEnd('%'), CultureInfo.InvariantCulture))];
        }

        // Reliable at the quick setting: every gated cell solves T = 5; at T = 30 the GRU clearly beats RNN-tanh.
        Assert.All(rows[5][1..], acc => Assert.True(acc >= 95, $"T=5 accuracy {acc}"));
        Assert.True(rows[30][3] >= rows[30][0] + 25, $"T=30: gru {rows[30][3]}% vs rnn-tanh {rows[30][0]}%");

        // (2) The gradient table: rows d = 0, 1, 2, 5, 10, 20, 29; tanh decays by orders of magnitude, relu 1.1I grows, gru stays within 10x.
        int at = Array.FindIndex(lines, l => l.Trim().StartsWith("d ", StringComparison.Ordinal));
        Assert.True(at > 0, "no gradient table");
        var table = lines[(at + 1)..(at + 8)].Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToArray();
        Assert.Equal(["0", "1", "2", "5", "10", "20", "29"], table.Select(r => r[0]));
        double Cell(int row, int column) => double.Parse(table[row][column], CultureInfo.InvariantCulture);
        Assert.True(Cell(6, 1) < Cell(0, 1) * 1e-3, "rnn-tanh should vanish");
        Assert.True(Cell(6, 2) > Cell(0, 2) * 3, "rnn-relu 1.1I should grow");
        Assert.True(Cell(6, 5) > Cell(0, 5) / 10, "gru should preserve");

        string svgPath = Path.Combine(outDir, "demo-gradients.svg");
        Assert.Contains(svgPath, output, StringComparison.Ordinal);
        string svg = File.ReadAllText(svgPath);
        Assert.StartsWith("<svg", svg, StringComparison.Ordinal);
        Assert.Equal(5, svg.Split("<polyline").Length - 1);

        // (3) Baselines: AR(26) beats the last value; the LSTM beats the order-1 Markov chain on the second-order sequence.
        double Value(string label) => double.Parse(Assert.Single(lines, l => l.TrimStart().StartsWith(label, StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[^1], CultureInfo.InvariantCulture);
        Assert.True(Value("AR(26)") < Value("last value"));
        var lstmLines = lines.Where(l => l.TrimStart().StartsWith("LSTM H=", StringComparison.Ordinal)).ToArray();
        Assert.Equal(2, lstmLines.Length);
        Assert.True(double.Parse(lstmLines[1].Split(' ', StringSplitOptions.RemoveEmptyEntries)[^1], CultureInfo.InvariantCulture) < Value("Markov order 1") - 0.3);
        Assert.DoesNotContain("\r", error, StringComparison.Ordinal); // stderr is redirected: plain progress lines, no redraws
    }
}
