using System.Diagnostics.Metrics;

namespace VhsaKmt.TestSupport.Metrics;

/// <summary>Reads an observable gauge (any meter) once, as a scrape would: the value reported for one tag value, if any.</summary>
public static class GaugeReading
{
    public static long? Read(string instrument, string tagKey, string tagValue)
    {
        long? value = null;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (i, l) => { if (i.Name == instrument) l.EnableMeasurementEvents(i); };
        listener.SetMeasurementEventCallback<long>((_, v, tags, _) =>
        {
            foreach (var t in tags)
                if (t.Key == tagKey && (string?)t.Value == tagValue) value = v;
        });
        listener.Start();
        listener.RecordObservableInstruments();
        return value;
    }
}
