using ScottPlot;

namespace EvolverActors.Host.Experiment;

/// <summary>The experiment's PNG charts, drawn with ScottPlot (SkiaSharp underneath; no display needed).</summary>
internal static class ExperimentCharts
{
    private const string FontName = "DejaVu Sans";

    /// <summary>Per method a test bar and an ood bar, each the mean over seeds with a ±std whisker.</summary>
    public static void SaveBars(string path, string title, string metric, IReadOnlyList<MethodSummary> methods)
    {
        var plot = NewPlot(title, metric);
        var series = new (string Name, Func<MethodSummary, MeanStd> Value, Color Color)[]
        {
            ("test (in-domain)", m => m.Test, Colors.C0),
            ("ood", m => m.Ood, Colors.C1),
        };
        var group = series.Length + 1.0; // one empty slot between methods
        var bars = new List<Bar>();
        for (var i = 0; i < methods.Count; i++)
        {
            for (var s = 0; s < series.Length; s++)
            {
                var value = series[s].Value(methods[i]);
                bars.Add(new Bar { Position = i * group + s, Value = value.Mean, Error = value.Std, FillColor = series[s].Color });
            }
        }
        plot.Add.Bars(bars);
        plot.Axes.Bottom.SetTicks([.. methods.Select((_, i) => i * group + (series.Length - 1) / 2.0)], [.. methods.Select(m => m.Name)]);
        plot.Axes.Bottom.TickLabelStyle.Rotation = 45;
        plot.Axes.Bottom.TickLabelStyle.Alignment = Alignment.MiddleLeft;
        plot.Axes.Bottom.MinimumSize = 150;
        plot.Axes.Bottom.MajorTickStyle.Length = 0;
        foreach (var (name, _, color) in series)
        {
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = name, FillColor = color });
        }
        plot.ShowLegend(Edge.Right); // outside the data area: inside it would cover a bar
        // Zoom to the data: the differences that matter are a few points, invisible on a 0..1 axis.
        var values = bars.Where(b => !double.IsNaN(b.Value)).ToList();
        var low = Math.Max(0, Math.Floor((values.Min(b => b.Value - b.Error) - 0.05) * 20) / 20);
        var high = Math.Min(1, Math.Ceiling((values.Max(b => b.Value + b.Error) + 0.05) * 20) / 20);
        plot.Axes.SetLimits(-1, methods.Count * group - 1, low, high);
        plot.SavePng(path, Math.Max(640, 70 * methods.Count + 200), 520);
    }

    /// <summary>
    /// A forest plot: one row per comparison (a vs b on a split), a dot at the mean paired difference and a line across
    /// its 95 % interval, with a vertical line at 0 (no difference); test rows and ood rows in their own colours.
    /// </summary>
    public static void SaveForest(string path, string title, string metric, IReadOnlyList<PairedComparison> comparisons)
    {
        var plot = NewPlot(title, "");
        plot.XLabel($"a − b ({metric})");
        var splits = comparisons.Select(c => c.Split).Distinct().ToList();
        for (var i = 0; i < comparisons.Count; i++)
        {
            var c = comparisons[i];
            var y = comparisons.Count - 1 - i; // first comparison at the top
            var color = Palette(splits.IndexOf(c.Split));
            var interval = plot.Add.Line(c.CiLow, y, c.CiHigh, y);
            interval.Color = color;
            interval.LineWidth = 2;
            var mean = plot.Add.Marker(c.MeanDiff, y);
            mean.Color = color;
            mean.Size = 9;
        }
        var zero = plot.Add.VerticalLine(0);
        zero.Color = Colors.Gray;
        zero.LinePattern = LinePattern.Dashed;
        plot.Axes.Left.SetTicks([.. comparisons.Select((_, i) => (double)(comparisons.Count - 1 - i))],
            [.. comparisons.Select(c => $"{c.A} vs {c.B} ({c.Split})")]);
        plot.Axes.Left.MajorTickStyle.Length = 0;
        foreach (var (split, s) in splits.Select((split, s) => (split, s)))
        {
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = split, LineColor = Palette(s), LineWidth = 2, MarkerShape = MarkerShape.FilledCircle, MarkerFillColor = Palette(s) });
        }
        plot.ShowLegend(Edge.Right);
        plot.Axes.SetLimitsY(-1, Math.Max(1, comparisons.Count));
        plot.SavePng(path, 900, Math.Max(320, 34 * comparisons.Count + 140));
    }

    /// <summary>
    /// Best dev score so far against <paramref name="x"/> (evaluations or seconds), one step line per run,
    /// one colour per <paramref name="groupOf"/> value (a schedule or a method), seeds sharing their group's colour.
    /// </summary>
    public static void SaveCurves(string path, string title, string metric, string xLabel, IReadOnlyList<Curve> curves,
        Func<Curve, string> groupOf, Func<CurvePoint, double> x)
    {
        var plot = NewPlot(title, "best dev " + metric);
        plot.XLabel(xLabel);
        var groups = curves.Select(groupOf).Distinct().ToList();
        var patterns = new[] { LinePattern.Solid, LinePattern.Dashed, LinePattern.Dotted, LinePattern.DenselyDashed };
        foreach (var curve in curves)
        {
            var g = groups.IndexOf(groupOf(curve));
            var line = plot.Add.Scatter(curve.Points.Select(x).ToArray(), curve.Points.Select(p => p.BestDev).ToArray());
            line.ConnectStyle = ConnectStyle.StepHorizontal;
            line.MarkerSize = 0;
            line.LineWidth = 2;
            line.Color = Palette(g);
            line.LinePattern = patterns[g % patterns.Length];
        }
        foreach (var (name, g) in groups.Select((name, g) => (name, g)))
        {
            plot.Legend.ManualItems.Add(new LegendItem
            {
                LabelText = name,
                LineColor = Palette(g),
                LineWidth = 2,
                LinePattern = patterns[g % patterns.Length],
            });
        }
        plot.ShowLegend(Alignment.LowerRight);
        plot.SavePng(path, 760, 480);
    }

    private static Plot NewPlot(string title, string yLabel)
    {
        var plot = new Plot();
        plot.Font.Set(FontName);
        plot.Title(title, size: 15);
        plot.YLabel(yLabel);
        return plot;
    }

    private static readonly ScottPlot.Palettes.Category10 Colours = new();

    private static Color Palette(int index) => Colours.GetColor(index);
}
