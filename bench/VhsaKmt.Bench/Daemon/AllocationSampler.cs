using System.Diagnostics.Tracing;

namespace VhsaKmt.Bench.Daemon;

/// <summary>
/// In-process allocation profiler for the daemon host: listens to the runtime's GCAllocationTick events
/// (one every ~100 KB allocated, carrying the type of the allocation that crossed the threshold) and sums
/// the sampled bytes per type — enough to name what a steady-state ccmd allocates without a tracer.
/// </summary>
public sealed class AllocationSampler : EventListener
{
    private const string RuntimeSource = "Microsoft-Windows-DotNETRuntime";
    private const EventKeywords GcKeyword = (EventKeywords)0x1;
    private readonly Dictionary<string, long> _bytesByType = new();
    private EventSource? _runtime;
    private bool _enabled;

    protected override void OnEventSourceCreated(EventSource eventSource)
    {
        if (eventSource.Name == RuntimeSource) _runtime = eventSource;
        base.OnEventSourceCreated(eventSource);
    }

    public void Start()
    {
        lock (_bytesByType) _bytesByType.Clear();
        if (_runtime is null) throw new InvalidOperationException("the runtime event source is not available");
        _enabled = true;
        EnableEvents(_runtime, EventLevel.Verbose, GcKeyword);
    }

    /// <summary>Stop and return (type, sampled bytes) by descending bytes.</summary>
    public IReadOnlyList<(string Type, long Bytes)> Stop(int top)
    {
        if (_runtime is not null) DisableEvents(_runtime);
        _enabled = false;
        lock (_bytesByType) return _bytesByType.OrderByDescending(kv => kv.Value).Take(top).Select(kv => (kv.Key, kv.Value)).ToList();
    }

    protected override void OnEventWritten(EventWrittenEventArgs e)
    {
        if (!_enabled || e.EventName is null || !e.EventName.StartsWith("GCAllocationTick", StringComparison.Ordinal) || e.PayloadNames is null) return;
        int typeAt = e.PayloadNames.IndexOf("TypeName");
        int amountAt = e.PayloadNames.IndexOf("AllocationAmount64");
        if (typeAt < 0 || e.Payload is null) return;
        string type = e.Payload[typeAt] as string ?? "?";
        long amount = amountAt >= 0 && e.Payload[amountAt] is ulong a ? (long)a : 100_000;
        lock (_bytesByType) _bytesByType[type] = _bytesByType.GetValueOrDefault(type) + amount;
    }
}
