namespace VhsaKmt.Bench.Stats;

/// <summary>One histogram bucket: samples ≤ <see cref="UpperUs"/> and above the previous bucket's bound.</summary>
public sealed record HistogramBucket(double UpperUs, int Count);

/// <summary>Round-trip latency percentiles in microseconds.</summary>
public sealed record LatencySummary(int Count, double P50, double P99, double P999, double Mean, double Min, double Max, HistogramBucket[] Histogram)
{
    public static readonly LatencySummary Empty = new(0, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, []);

    public bool IsValid => Count > 0 && double.IsFinite(P50) && P50 > 0;
}
