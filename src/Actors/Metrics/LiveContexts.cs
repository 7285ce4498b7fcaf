using System.Diagnostics.Metrics;
using VhsaKmt.Actors.Context;
using VhsaKmt.Actors.Objects;

namespace VhsaKmt.Actors.Metrics;

/// <summary>
/// Contexts alive in this process with their metric tags. The DeviceActor adds one at CTX_CREATE and removes it when
/// the context actor has stopped; the live-object, memory and VA gauges are read from here at scrape time (under each
/// state's lock), so nothing is counted on the ccmd path.
/// </summary>
public static class LiveContexts
{
    private static readonly Dictionary<ContextState, ContextTags> s_live = new(ReferenceEqualityComparer.Instance);

    public static void Add(ContextState state, ContextTags tags)
    {
        lock (s_live) s_live[state] = tags;
    }

    public static void Remove(ContextState state)
    {
        lock (s_live) s_live.Remove(state);
    }

    public static int Count
    {
        get { lock (s_live) return s_live.Count; }
    }

    public static IReadOnlyList<(ContextState State, ContextTags Tags)> Snapshot()
    {
        lock (s_live) return s_live.Select(kv => (kv.Key, kv.Value)).ToList();
    }

    /// <summary>Metric kind label of a host object (memory, userptr, event, queue, doorbell, dmabuf, shmem).</summary>
    public static string KindLabel(ObjectKind kind) => kind switch
    {
        ObjectKind.HostMem or ObjectKind.ScratchMapMem => "memory",
        ObjectKind.Userptr => "userptr",
        ObjectKind.Event => "event",
        ObjectKind.Queue => "queue",
        ObjectKind.DoorbellPtr or ObjectKind.DoorbellRwPtr => "doorbell",
        ObjectKind.DmaBuf => "dmabuf",
        ObjectKind.Shmem => "shmem",
        _ => "other",
    };

    internal static void RegisterGauges(Meter meter)
    {
        meter.CreateObservableGauge("vhsakmt.objects.live", ObserveObjects, "{object}", "live host objects by kind (blob = bound to a virtio-gpu resource)");
        meter.CreateObservableGauge("vhsakmt.memory.allocated", ObserveBytes, "By", "bytes allocated by domain (vram, system, userptr)");
        meter.CreateObservableGauge("vhsakmt.va.reserved", ObserveVa, "By", "VA slice reserved per context");
        meter.CreateObservableCounter("vhsakmt.context.ccmds", ObserveCcmds, "{ccmd}", "ccmds handled by each live context");
        meter.CreateObservableGauge("vhsakmt.contexts.live", () => (long)Count, "{context}", "live contexts");
    }

    private static IEnumerable<Measurement<long>> ObserveObjects()
    {
        var result = new List<Measurement<long>>();
        foreach (var (state, tags) in Snapshot())
        {
            var counts = new Dictionary<string, long>();
            long blobs;
            lock (state.Sync)
            {
                foreach (var o in state.Objects.Live)
                {
                    var k = KindLabel(o.Kind);
                    counts[k] = counts.GetValueOrDefault(k) + 1;
                }
                blobs = state.Objects.BoundCount;
            }
            counts["blob"] = blobs;
            foreach (var k in new[] { "memory", "userptr", "event", "queue", "blob" }) counts.TryAdd(k, 0);
            foreach (var (kind, n) in counts) result.Add(new Measurement<long>(n, WithKey(tags, "kind", kind)));
        }
        return result;
    }

    private static IEnumerable<Measurement<long>> ObserveBytes()
    {
        var result = new List<Measurement<long>>();
        foreach (var (state, tags) in Snapshot())
        {
            var b = MemoryOf(state);
            result.Add(new Measurement<long>((long)b.Vram, WithKey(tags, "domain", "vram")));
            result.Add(new Measurement<long>((long)b.System, WithKey(tags, "domain", "system")));
            result.Add(new Measurement<long>((long)b.Userptr, WithKey(tags, "domain", "userptr")));
        }
        return result;
    }

    private static IEnumerable<Measurement<long>> ObserveVa()
    {
        var result = new List<Measurement<long>>();
        foreach (var (state, tags) in Snapshot())
        {
            ulong size;
            lock (state.Sync) size = state.Slice?.Size ?? 0;
            result.Add(new Measurement<long>((long)size, tags.Span));
        }
        return result;
    }

    private static IEnumerable<Measurement<long>> ObserveCcmds()
    {
        var result = new List<Measurement<long>>();
        foreach (var (state, tags) in Snapshot())
        {
            long n;
            lock (state.Sync) n = state.Ccmds;
            result.Add(new Measurement<long>(n, tags.Span));
        }
        return result;
    }

    /// <summary>Bytes a context holds: VRAM (its quota counter), other KFD memory as system, userptr registrations.</summary>
    public static (ulong Vram, ulong System, ulong Userptr) MemoryOf(ContextState state)
    {
        lock (state.Sync)
        {
            ulong memory = 0, userptr = 0;
            foreach (var o in state.Objects.Live)
            {
                if (o is MemoryObject m && m.Placement != MemoryPlacement.NoAddress) memory += m.Size;
                else if (o.Kind == ObjectKind.Userptr) userptr += o.Size;
            }
            ulong vram = state.VramInUse;
            return (vram, memory > vram ? memory - vram : 0, userptr);
        }
    }

    private static KeyValuePair<string, object?>[] WithKey(ContextTags tags, string key, string value)
    {
        var span = tags.Span;
        var a = new KeyValuePair<string, object?>[span.Length + 1];
        span.CopyTo(a);
        a[^1] = new(key, value);
        return a;
    }
}
