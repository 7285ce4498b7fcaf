namespace VhsaKmt.Native;

/// <summary>Live KFD objects of one <see cref="IKfd"/>; every counter returns to zero when everything is released (leak tests).</summary>
public sealed class KfdCounters
{
    private long _allocations, _events, _queues, _registrations, _exports, _mappings;

    public long Allocations => Interlocked.Read(ref _allocations);
    public long Events => Interlocked.Read(ref _events);
    public long Queues => Interlocked.Read(ref _queues);
    public long Registrations => Interlocked.Read(ref _registrations);
    public long Exports => Interlocked.Read(ref _exports);
    /// <summary>Live GPU mappings (map-to-GPU calls not yet undone).</summary>
    public long Mappings => Interlocked.Read(ref _mappings);

    public void AddAllocations(long delta) => Interlocked.Add(ref _allocations, delta);
    public void AddEvents(long delta) => Interlocked.Add(ref _events, delta);
    public void AddQueues(long delta) => Interlocked.Add(ref _queues, delta);
    public void AddRegistrations(long delta) => Interlocked.Add(ref _registrations, delta);
    public void AddExports(long delta) => Interlocked.Add(ref _exports, delta);
    public void AddMappings(long delta) => Interlocked.Add(ref _mappings, delta);

    public KfdCountersSnapshot Snapshot() => new(Allocations, Events, Queues, Registrations, Exports, Mappings);
}

public readonly record struct KfdCountersSnapshot(long Allocations, long Events, long Queues, long Registrations, long Exports, long Mappings)
{
    public bool IsZero => this == default;
}
