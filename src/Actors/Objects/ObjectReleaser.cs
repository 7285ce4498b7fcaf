using Serilog;
using VhsaKmt.Actors.Context;
using VhsaKmt.Native;
using VhsaKmt.Native.Va;

namespace VhsaKmt.Actors.Objects;

/// <summary>
/// Releases host objects exactly once, each with its KFD release sequence (PROTOCOL.md §5.2), and enforces the
/// queue/memory invariant of §5.3: memory used by a live queue is never freed. Callers hold
/// <see cref="ContextState.Sync"/>. KFD failures on release are logged, not thrown: the object is gone for the guest
/// either way and teardown must continue.
/// </summary>
public sealed class ObjectReleaser(ContextState state, IKfd kfd, ILogger log)
{
    public ContextState State { get; } = state;

    private void CheckVa(VaResult r, KfdObject o)
    {
        if (!r.IsOk)
            log.Warning("release of {Object}: VA not returned to the slice ({Status})", o.ToString(), r.Status);
    }

    private void Check(HsaStatus st, string what, KfdObject o)
    {
        if (st != HsaStatus.Success)
            log.Warning("release of {Object}: {Call} returned {Status}", o.ToString(), what, st);
    }

    /// <summary>Releases a memory region unless a live queue still uses it; true if released (or already).</summary>
    public bool TryReleaseRegion(KfdObject region)
    {
        switch (region)
        {
            case MemoryObject m when m.IsQueueMem:
                return false;
            case MemoryObject m:
                ReleaseMemory(m);
                return true;
            case UserptrObject u:
                ReleaseUserptr(u);
                return true;
            default:
                throw new Supervision.ContextInvariantException($"{region} is not a region");
        }
    }

    public void ReleaseMemory(MemoryObject m)
    {
        if (m.Released) return;
        if (m.IsQueueMem)
            throw new Supervision.ContextInvariantException($"free of {m} while queue {m.QueueLinks[0]} uses it");
        m.Released = true;
        if (m.GpuMapped) Check(kfd.UnmapMemoryToGpu(m.Address), "UnmapMemoryToGpu", m);
        m.ExportFd?.Dispose();
        switch (m.Placement)
        {
            case MemoryPlacement.Slice:
            case MemoryPlacement.Scratch:
                Check(kfd.FreeMemory(m.Address, m.Size), "FreeMemory", m);
                if (State.Slice is { } slice) CheckVa(slice.Free(m.Address), m);
                break;
            case MemoryPlacement.NoAddress:
                Check(kfd.FreeMemory(m.Address, m.Size), "FreeMemory", m);
                break;
            case MemoryPlacement.SharedImport:
                Check(kfd.FreeMemory(m.Address, m.Size), "FreeMemory", m);
                if (State.Slice?.Contains(m.Address, m.Size) == true) State.Slice.Free(m.Address);
                break;
        }
        State.VramInUse -= Math.Min(State.VramInUse, m.QuotaBytes);
        State.Objects.Remove(m);
    }

    public void ReleaseUserptr(UserptrObject u)
    {
        if (u.Released) return;
        u.Released = true;
        if (u.GpuMapped) Check(kfd.UnmapMemoryToGpu(u.Address), "UnmapMemoryToGpu", u);
        if (u.Registered) Check(kfd.DeregisterMemory(u.Address), "DeregisterMemory", u);
        u.Mapping.Dispose(); // unmaps the placeholder and with it the guest's pages
        State.Objects.Remove(u);
    }

    public void ReleaseEvent(EventObject e)
    {
        if (e.Released) return;
        e.Released = true;
        Check(kfd.SetEvent(e.KfdHandle), "SetEvent", e); // wake waiters before the event goes away
        Check(kfd.DestroyEvent(e.KfdHandle), "DestroyEvent", e);
        State.Objects.Remove(e);
    }

    /// <summary>
    /// hsaKmtDestroyQueue first, then unlinks its memory. Returns the memory objects it unlinked, which the caller
    /// releases if the guest has dropped them (the death-watch step of ordered teardown).
    /// </summary>
    public IReadOnlyList<MemoryObject> DestroyQueue(QueueObject q)
    {
        if (q.Destroyed) return [];
        q.Destroyed = true;
        q.Released = true;
        Check(kfd.DestroyQueue(q.KfdHandle), "DestroyQueue", q);
        State.LiveQueues--;
        var unlinked = new List<MemoryObject>(2);
        foreach (var m in new[] { q.Ring, q.RwMemory })
            if (m is not null && m.QueueLinks.Remove(q) && !unlinked.Contains(m))
                unlinked.Add(m);
        State.Objects.Remove(q);
        return unlinked;
    }

    public void ReleaseScratchMap(ScratchMapObject s)
    {
        if (s.Released) return;
        s.Released = true;
        Check(kfd.UnmapMemoryToGpu(s.Address), "UnmapMemoryToGpu", s);
        State.Objects.Remove(s);
    }

    /// <summary>Objects without KFD state of their own (doorbell pages, DMA_BUF, shmem binding).</summary>
    public void ReleasePlain(KfdObject o)
    {
        if (o.Released) return;
        o.Released = true;
        if (o is DmaBufObject d) d.Fd.Dispose();
        State.Objects.Remove(o);
    }

    /// <summary>Releases one object of any kind (queue memory only if unlinked).</summary>
    public void Release(KfdObject o)
    {
        switch (o)
        {
            case QueueObject q: DestroyQueue(q); break;
            case EventObject e: ReleaseEvent(e); break;
            case ScratchMapObject s: ReleaseScratchMap(s); break;
            case MemoryObject m: ReleaseMemory(m); break;
            case UserptrObject u: ReleaseUserptr(u); break;
            default: ReleasePlain(o); break;
        }
    }

    /// <summary>
    /// Everything still alive, in the order of PROTOCOL.md §5.4: queues → events → scratch GPU unmaps → memory →
    /// userptrs → dma-bufs and pages. Idempotent; the VA slice and shmem are the caller's last steps.
    /// </summary>
    public void ReleaseAll()
    {
        foreach (var q in Snapshot<QueueObject>()) DestroyQueue(q);
        foreach (var e in Snapshot<EventObject>()) ReleaseEvent(e);
        foreach (var s in Snapshot<ScratchMapObject>()) ReleaseScratchMap(s);
        foreach (var m in Snapshot<MemoryObject>()) ReleaseMemory(m);
        foreach (var u in Snapshot<UserptrObject>()) ReleaseUserptr(u);
        foreach (var o in State.Objects.Live.ToArray()) ReleasePlain(o);
    }

    private T[] Snapshot<T>() where T : KfdObject => State.Objects.OfType<T>().ToArray();
}
