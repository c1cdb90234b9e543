using System.Globalization;
using System.Security;
using System.Text;

namespace EvolverActors.Host.Experiment;

/// <summary>
/// Two small hand-written SVG charts (no plotting library renders PNGs on this Linux box without native
/// SkiaSharp assets): grouped bars with ±std error bars, and best-dev-vs-evaluations lines.
/// </summary>
internal static class SvgCharts
{
    private static readonly string[] Palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"];

    /// <summary>Per method, one bar per series (e.g. test, ood): mean with a ±std whisker.</summary>
    public static string Bars(string title, IReadOnlyList<MethodSummary> methods, IReadOnlyList<(string Name, Func<MethodSummary, MeanStd> Value)> series)
    {
        const double left = 60, top = 40, plotHeight = 300, bottomSpace = 150;
        var group = 16.0 * series.Count + 14;
        var width = left + 20 + group * methods.Count;
        var all = methods.SelectMany(m => series.Select(s => s.Value(m))).Where(v => !double.IsNaN(v.Mean)).ToList();
        var lo = Math.Max(0, Math.Floor((all.Min(v => v.Mean - v.Std) - 0.02) * 20) / 20);
        var hi = Math.Min(1, Math.Ceiling((all.Max(v => v.Mean + v.Std) + 0.01) * 20) / 20);
        double Y(double v) => top + plotHeight * (1 - (Math.Clamp(v, lo, hi) - lo) / (hi - lo));
        var svg = Start(width, top + plotHeight + bottomSpace, title);
        Axis(svg, left, top, plotHeight, width - 10, lo, hi, Y);
        for (var i = 0; i < methods.Count; i++)
        {
            var x0 = left + 10 + i * group;
            for (var s = 0; s < series.Count; s++)
            {
                var v = series[s].Value(methods[i]);
                var x = x0 + s * 16;
                svg.Append(I($"<rect x=\"{x:F1}\" y=\"{Y(v.Mean):F1}\" width=\"14\" height=\"{Y(lo) - Y(v.Mean):F1}\" fill=\"{Palette[s % Palette.Length]}\"/>\n"));
                svg.Append(I($"<line x1=\"{x + 7:F1}\" x2=\"{x + 7:F1}\" y1=\"{Y(v.Mean - v.Std):F1}\" y2=\"{Y(v.Mean + v.Std):F1}\" stroke=\"black\"/>\n"));
                svg.Append(I($"<line x1=\"{x + 3:F1}\" x2=\"{x + 11:F1}\" y1=\"{Y(v.Mean + v.Std):F1}\" y2=\"{Y(v.Mean + v.Std):F1}\" stroke=\"black\"/>\n"));
                svg.Append(I($"<line x1=\"{x + 3:F1}\" x2=\"{x + 11:F1}\" y1=\"{Y(v.Mean - v.Std):F1}\" y2=\"{Y(v.Mean - v.Std):F1}\" stroke=\"black\"/>\n"));
            }
            var lx = x0 + group / 2 - 7;
            var ly = top + plotHeight + 8;
            svg.Append(I($"<text x=\"{lx:F1}\" y=\"{ly:F1}\" font-size=\"11\" transform=\"rotate(60 {lx:F1} {ly:F1})\">{Escape(methods[i].Name)}</text>\n"));
        }
        Legend(svg, left + 10, 28, series.Select(s => s.Name).ToList());
        return svg.Append("</svg>\n").ToString();
    }

    /// <summary>One polyline per curve (x: evaluations, y: best dev so far); lines of one method share a colour.</summary>
    public static string Lines(string title, IReadOnlyList<Curve> curves)
    {
        const double left = 60, top = 40, plotHeight = 300, plotWidth = 520;
        var points = curves.SelectMany(c => c.Points).ToList();
        var svg = Start(left + plotWidth + 200, top + plotHeight + 50, title);
        if (points.Count == 0)
        {
            return svg.Append("</svg>\n").ToString();
        }
        var xmax = Math.Max(1, points.Max(p => p[0]));
        var lo = Math.Floor((points.Min(p => p[1]) - 0.005) * 100) / 100;
        var hi = Math.Ceiling((points.Max(p => p[1]) + 0.005) * 100) / 100;
        double X(double e) => left + plotWidth * e / xmax;
        double Y(double v) => top + plotHeight * (1 - (v - lo) / (hi - lo));
        Axis(svg, left, top, plotHeight, left + plotWidth, lo, hi, Y);
        svg.Append(I($"<text x=\"{left + plotWidth / 2:F1}\" y=\"{top + plotHeight + 35:F1}\" font-size=\"12\" text-anchor=\"middle\">evaluations</text>\n"));
        svg.Append(I($"<text x=\"{left + plotWidth:F1}\" y=\"{top + plotHeight + 15:F1}\" font-size=\"10\" text-anchor=\"end\">{xmax:F0}</text>\n"));
        var methods = curves.Select(c => c.Method).Distinct().ToList();
        foreach (var curve in curves)
        {
            var colour = Palette[methods.IndexOf(curve.Method) % Palette.Length];
            // A step line: the best dev holds until the next accepted offspring.
            var path = new StringBuilder();
            for (var i = 0; i < curve.Points.Count; i++)
            {
                var p = curve.Points[i];
                if (i > 0)
                {
                    path.Append(I($"{X(p[0]):F1},{Y(curve.Points[i - 1][1]):F1} "));
                }
                path.Append(I($"{X(p[0]):F1},{Y(p[1]):F1} "));
            }
            svg.Append(I($"<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"1.5\" points=\"{path.ToString().TrimEnd()}\"/>\n"));
        }
        Legend(svg, left + plotWidth + 20, top + 10, methods, vertical: true);
        return svg.Append("</svg>\n").ToString();
    }

    private static StringBuilder Start(double width, double height, string title) => new StringBuilder()
        .Append(I($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width:F0}\" height=\"{height:F0}\" font-family=\"sans-serif\">\n"))
        .Append(I($"<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n<text x=\"10\" y=\"18\" font-size=\"14\">{Escape(title)}</text>\n"));

    private static void Axis(StringBuilder svg, double left, double top, double height, double right, double lo, double hi, Func<double, double> y)
    {
        svg.Append(I($"<line x1=\"{left}\" x2=\"{left}\" y1=\"{top}\" y2=\"{top + height}\" stroke=\"black\"/>\n"));
        svg.Append(I($"<line x1=\"{left}\" x2=\"{right:F1}\" y1=\"{top + height}\" y2=\"{top + height}\" stroke=\"black\"/>\n"));
        for (var k = 0; k <= 5; k++)
        {
            var v = lo + (hi - lo) * k / 5;
            svg.Append(I($"<line x1=\"{left}\" x2=\"{right:F1}\" y1=\"{y(v):F1}\" y2=\"{y(v):F1}\" stroke=\"#ddd\"/>\n"));
            svg.Append(I($"<text x=\"{left - 5}\" y=\"{y(v) + 4:F1}\" font-size=\"10\" text-anchor=\"end\">{v:F3}</text>\n"));
        }
    }

    private static void Legend(StringBuilder svg, double x, double y, List<string> names, bool vertical = false)
    {
        for (var i = 0; i < names.Count; i++)
        {
            var (lx, ly) = vertical ? (x, y + i * 18) : (x + i * 120, y);
            svg.Append(I($"<rect x=\"{lx:F1}\" y=\"{ly - 9:F1}\" width=\"10\" height=\"10\" fill=\"{Palette[i % Palette.Length]}\"/>\n"));
            svg.Append(I($"<text x=\"{lx + 14:F1}\" y=\"{ly:F1}\" font-size=\"11\">{Escape(names[i])}</text>\n"));
        }
    }

    private static string I(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private static string Escape(string text) => SecurityElement.Escape(text) ?? "";
}
