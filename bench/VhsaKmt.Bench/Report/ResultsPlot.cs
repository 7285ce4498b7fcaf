using ScottPlot;
using VhsaKmt.Bench.Stats;
using VhsaKmt.Bench.Suite;

namespace VhsaKmt.Bench.Report;

/// <summary>
/// results.png: (1) latency distributions as CDFs on a log axis — floors and full-stack NOP per regime;
/// (2) aggregate ccmd throughput against concurrent contexts (1 VM and 4 VMs), the same load on one context per VM
/// (the cores-linear reference) and the naive linear ideal (N × 1 synchronous context, clipped);
/// (3) p99 per submit against contexts.
/// </summary>
public static class ResultsPlot
{
    public static void Write(SuiteResults r, string path)
    {
        var mp = new Multiplot();
        mp.AddPlots(3);
        mp.Layout = new ScottPlot.MultiplotLayouts.Grid(1, 3);
        Latency(mp.GetPlot(0), r);
        Throughput(mp.GetPlot(1), r);
        TailLatency(mp.GetPlot(2), r);
        mp.SavePng(path, 2100, 700);
    }

    private static void Latency(Plot plot, SuiteResults r)
    {
        plot.Title("Round-trip latency (CDF)");
        plot.XLabel("µs (log scale)");
        plot.YLabel("fraction of round trips ≤ x");
        foreach (var f in r.Floors) Cdf(plot, f.Latency, $"floor {f.Kind} {f.Regime}", dashed: true);
        foreach (var n in r.Nop) Cdf(plot, n.Result.Latency, $"NOP {n.DaemonMode}/{n.ClientWait} {n.Regime}", dashed: false);
        LogX(plot);
        plot.Axes.SetLimitsY(0, 1.02);
        plot.ShowLegend(Alignment.LowerRight);
    }

    private static void Cdf(Plot plot, LatencySummary s, string label, bool dashed)
    {
        if (!s.IsValid || s.Histogram.Length == 0) return;
        var xs = new List<double>();
        var ys = new List<double>();
        double total = s.Histogram.Sum(b => b.Count), cum = 0;
        // Start the curve at the fastest sample, so the first bucket rises from 0 instead of appearing mid-air.
        xs.Add(Math.Log10(Math.Max(0.01, s.Min)));
        ys.Add(0);
        foreach (var b in s.Histogram)
        {
            cum += b.Count;
            xs.Add(Math.Log10(b.UpperUs));
            ys.Add(cum / total);
        }
        var line = plot.Add.ScatterLine(xs.ToArray(), ys.ToArray());
        line.LegendText = label;
        line.LineWidth = 2;
        if (dashed) line.LinePattern = LinePattern.Dashed;
    }

    private static void LogX(Plot plot)
    {
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
        {
            MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
            IntegerTicksOnly = true,
            LabelFormatter = v => Math.Pow(10, v).ToString("0.#", System.Globalization.CultureInfo.InvariantCulture),
        };
    }

    private static void Throughput(Plot plot, SuiteResults r)
    {
        plot.Title("Context scaling: aggregate NOP throughput");
        plot.XLabel("concurrent contexts (log2)");
        plot.YLabel("ccmds / s");
        foreach (var group in r.Scaling.GroupBy(p => p.Result.Vms))
        {
            var pts = group.OrderBy(p => p.Result.Contexts).ToArray();
            var line = plot.Add.ScatterLine(pts.Select(p => Math.Log2(p.Result.Contexts)).ToArray(), pts.Select(p => p.Result.CcmdsPerSecond).ToArray());
            line.LegendText = $"{group.Key} VM(s)";
            line.LineWidth = 2;
            line.MarkerSize = 8;
            var same = pts.Where(p => double.IsFinite(p.SameLoadCcmdsPerSecond)).ToArray();
            if (same.Length > 0)
            {
                var sl = plot.Add.ScatterLine(same.Select(p => Math.Log2(p.Result.Contexts)).ToArray(), same.Select(p => p.SameLoadCcmdsPerSecond).ToArray());
                sl.LegendText = $"same load on 1 ctx/VM, {group.Key} VM(s)";
                sl.LinePattern = LinePattern.Dashed;
                sl.Color = line.Color;
                sl.MarkerSize = 6;
            }
        }
        var single = r.Scaling.FirstOrDefault(p => p.Result.Contexts == 1 && p.Result.Vms == 1);
        if (single is not null)
        {
            var ns = r.Scaling.Select(p => p.Result.Contexts).Distinct().OrderBy(n => n).ToArray();
            double cap = MaxThroughput(r) * 1.5;
            var ideal = plot.Add.ScatterLine(ns.Select(n => Math.Log2(n)).ToArray(), ns.Select(n => Math.Min(cap, n * single.Result.CcmdsPerSecond)).ToArray());
            ideal.LegendText = "naive linear (N × 1 sync context), clipped";
            ideal.LinePattern = LinePattern.Dotted;
        }
        Log2X(plot);
        plot.Axes.SetLimitsY(0, r.Scaling.Count == 0 ? 1 : MaxThroughput(r) * 1.1);
        plot.ShowLegend(Alignment.UpperLeft);
    }

    /// <summary>The highest throughput of any scaling run or its same-load pair.</summary>
    private static double MaxThroughput(SuiteResults r) =>
        r.Scaling.Select(p => p.Result.CcmdsPerSecond).Concat(r.Scaling.Select(p => p.SameLoadCcmdsPerSecond).Where(double.IsFinite)).DefaultIfEmpty(1).Max();

    private static void TailLatency(Plot plot, SuiteResults r)
    {
        plot.Title("Context scaling: per-submit latency");
        plot.XLabel("concurrent contexts (log2)");
        plot.YLabel("µs (log scale)");
        foreach (var group in r.Scaling.GroupBy(p => p.Result.Vms))
        {
            var pts = group.OrderBy(p => p.Result.Contexts).ToArray();
            var p99 = plot.Add.ScatterLine(pts.Select(p => Math.Log2(p.Result.Contexts)).ToArray(), pts.Select(p => Math.Log10(p.Result.Latency.P99)).ToArray());
            p99.LegendText = $"p99, {group.Key} VM(s)";
            p99.LineWidth = 2;
            p99.MarkerSize = 8;
            var p50 = plot.Add.ScatterLine(pts.Select(p => Math.Log2(p.Result.Contexts)).ToArray(), pts.Select(p => Math.Log10(p.Result.Latency.P50)).ToArray());
            p50.LegendText = $"p50, {group.Key} VM(s)";
            p50.LinePattern = LinePattern.Dashed;
        }
        Log2X(plot);
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
        {
            MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
            IntegerTicksOnly = true,
            LabelFormatter = v => Math.Pow(10, v).ToString("0", System.Globalization.CultureInfo.InvariantCulture),
        };
        plot.ShowLegend(Alignment.UpperLeft);
    }

    private static void Log2X(Plot plot)
    {
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
        {
            IntegerTicksOnly = true,
            LabelFormatter = v => Math.Pow(2, v).ToString("0", System.Globalization.CultureInfo.InvariantCulture),
        };
    }
}
