using System.Diagnostics.Metrics;

namespace VhsaKmt.TestSupport.Metrics;

/// <summary>
/// Sums what one counter instrument (any meter) records with a given tag value, from creation until disposal: tests
/// assert on the daemon's metrics without an exporter.
/// </summary>
public sealed class CounterProbe : IDisposable
{
    private readonly MeterListener _listener = new();
    private long _total;

    public CounterProbe(string instrument, string tagKey, string tagValue)
    {
        _listener.InstrumentPublished = (i, l) => { if (i.Name == instrument) l.EnableMeasurementEvents(i); };
        _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (var t in tags)
                if (t.Key == tagKey && (string?)t.Value == tagValue) Interlocked.Add(ref _total, value);
        });
        _listener.Start();
    }

    public long Total => Interlocked.Read(ref _total);

    public void Dispose() => _listener.Dispose();
}
