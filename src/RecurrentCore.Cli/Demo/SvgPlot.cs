using System.Globalization;
using System.Text;

namespace RecurrentCore.Cli.Demo;

/// <summary>A hand-written SVG line plot with a log-scale y axis: one polyline per series, decade grid lines, a legend.</summary>
internal static class SvgPlot
{
    private static readonly string[] Colors = ["#d62728", "#ff7f0e", "#1f77b4", "#17becf", "#2ca02c", "#9467bd"];

    public static string LogY(string title, string xLabel, string yLabel, IReadOnlyList<(string Name, double[] X, double[] Y)> series)
    {
        const double width = 760, height = 460, left = 80, right = 190, top = 40, bottom = 60;
        double plotW = width - left - right, plotH = height - top - bottom;
        double xMax = series.Max(s => s.X.Max());
        var positives = series.SelectMany(s => s.Y).Where(v => v > 0 && double.IsFinite(v)).ToArray();
        int decadeLo = (int)Math.Floor(Math.Log10(positives.Min()));
        int decadeHi = Math.Max((int)Math.Ceiling(Math.Log10(positives.Max())), decadeLo + 1);

        // At most ~10 labelled grid lines; the range is widened to whole steps so the top and bottom are labelled.
        int decadeStep = Math.Max(1, (decadeHi - decadeLo + 9) / 10);
        decadeLo = (int)Math.Floor((double)decadeLo / decadeStep) * decadeStep;
        decadeHi = (int)Math.Ceiling((double)decadeHi / decadeStep) * decadeStep;
        double X(double x) => left + (x / Math.Max(xMax, 1) * plotW);
        double Y(double y) => top + plotH - ((Math.Log10(y) - decadeLo) / (decadeHi - decadeLo) * plotH);
        static string F(double v) => v.ToString("0.#", CultureInfo.InvariantCulture);

        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{F(width)}\" height=\"{F(height)}\" viewBox=\"0 0 {F(width)} {F(height)}\" font-family=\"sans-serif\" font-size=\"12\">\n");
        svg.Append(CultureInfo.InvariantCulture, $"<rect width=\"{F(width)}\" height=\"{F(height)}\" fill=\"white\"/>\n");
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{F(left + (plotW / 2))}\" y=\"22\" text-anchor=\"middle\" font-size=\"14\">{Escape(title)}</text>\n");
        for (int d = decadeLo; d <= decadeHi; d += decadeStep)
        {
            double y = Y(Math.Pow(10, d));
            svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{F(left)}\" y1=\"{F(y)}\" x2=\"{F(left + plotW)}\" y2=\"{F(y)}\" stroke=\"#ddd\"/>\n");
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{F(left - 6)}\" y=\"{F(y + 4)}\" text-anchor=\"end\">1e{d}</text>\n");
        }

        double xStep = NiceStep(xMax / 8);
        for (double x = 0; x <= xMax + 1e-9; x += xStep)
        {
            svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{F(X(x))}\" y1=\"{F(top)}\" x2=\"{F(X(x))}\" y2=\"{F(top + plotH)}\" stroke=\"#eee\"/>\n");
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{F(X(x))}\" y=\"{F(top + plotH + 18)}\" text-anchor=\"middle\">{F(x)}</text>\n");
        }

        svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"{F(left)}\" y=\"{F(top)}\" width=\"{F(plotW)}\" height=\"{F(plotH)}\" fill=\"none\" stroke=\"black\"/>\n");
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{F(left + (plotW / 2))}\" y=\"{F(height - 18)}\" text-anchor=\"middle\">{Escape(xLabel)}</text>\n");
        svg.Append(CultureInfo.InvariantCulture, $"<text transform=\"translate(20 {F(top + (plotH / 2))}) rotate(-90)\" text-anchor=\"middle\">{Escape(yLabel)}</text>\n");
        for (int i = 0; i < series.Count; i++)
        {
            var (name, xs, ys) = series[i];
            string color = Colors[i % Colors.Length];
            var points = new StringBuilder();
            for (int j = 0; j < xs.Length; j++)
            {
                if (ys[j] > 0 && double.IsFinite(ys[j]))
                {
                    points.Append(CultureInfo.InvariantCulture, $"{X(xs[j]):0.##},{Y(ys[j]):0.##} ");
                }
            }

            svg.Append(CultureInfo.InvariantCulture, $"<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" points=\"{points.ToString().TrimEnd()}\"/>\n");
            double ly = top + 16 + (i * 20);
            svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{F(left + plotW + 14)}\" y1=\"{F(ly)}\" x2=\"{F(left + plotW + 38)}\" y2=\"{F(ly)}\" stroke=\"{color}\" stroke-width=\"2\"/>\n");
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{F(left + plotW + 44)}\" y=\"{F(ly + 4)}\">{Escape(name)}</text>\n");
        }

        svg.Append("</svg>\n");
        return svg.ToString();
    }

    private static double NiceStep(double raw)
    {
        double p = Math.Pow(10, Math.Floor(Math.Log10(Math.Max(raw, 1e-9))));
        double m = raw / p;
        return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
    }

    private static string Escape(string s) => s.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal);
}
