using System.Diagnostics;

namespace VhsaKmt.Bench.Stats;

/// <summary>
/// A fixed-capacity buffer of round-trip samples in Stopwatch ticks: recording is an array store, so the
/// measuring loop allocates nothing; percentiles are computed once at the end.
/// </summary>
public sealed class LatencyRecorder(int capacity)
{
    private readonly long[] _ticks = new long[capacity];

    public int Count { get; private set; }

    public bool IsFull => Count == _ticks.Length;

    public void Record(long ticks)
    {
        if (Count < _ticks.Length) _ticks[Count++] = ticks;
    }

    public void Reset() => Count = 0;

    /// <summary>Append another recorder's samples (as many as fit).</summary>
    public void AddFrom(LatencyRecorder other)
    {
        int n = Math.Min(other.Count, _ticks.Length - Count);
        other._ticks.AsSpan(0, n).CopyTo(_ticks.AsSpan(Count));
        Count += n;
    }

    /// <summary>Percentiles in microseconds over what was recorded (sorts the samples in place).</summary>
    public LatencySummary Summarize()
    {
        if (Count == 0) return LatencySummary.Empty;
        var span = _ticks.AsSpan(0, Count);
        span.Sort();
        double toUs = 1_000_000.0 / Stopwatch.Frequency;
        double sum = 0;
        foreach (long t in span) sum += t;
        return new LatencySummary(Count, At(span, 0.50) * toUs, At(span, 0.99) * toUs, At(span, 0.999) * toUs,
            sum / Count * toUs, span[0] * toUs, span[^1] * toUs, Histogram(span, toUs));
    }

    private static long At(ReadOnlySpan<long> sorted, double q) =>
        sorted[Math.Min(sorted.Length - 1, (int)Math.Floor(q * (sorted.Length - 1) + 0.5))];

    /// <summary>A log-spaced histogram of the samples (for the plot): bucket upper bounds in µs and counts.</summary>
    private static HistogramBucket[] Histogram(ReadOnlySpan<long> sorted, double toUs)
    {
        const int perDecade = 20;
        var buckets = new List<HistogramBucket>();
        int i = 0;
        double lo = Math.Max(0.1, sorted[0] * toUs);
        double edge = Math.Pow(10, Math.Floor(Math.Log10(lo) * perDecade) / perDecade);
        while (i < sorted.Length)
        {
            edge *= Math.Pow(10, 1.0 / perDecade);
            int n = 0;
            while (i < sorted.Length && sorted[i] * toUs <= edge) { i++; n++; }
            buckets.Add(new HistogramBucket(edge, n));
        }
        return buckets.ToArray();
    }
}
