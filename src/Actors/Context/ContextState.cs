using VhsaKmt.Actors.Messages;
using VhsaKmt.Actors.Objects;
using VhsaKmt.Native.Va;

namespace VhsaKmt.Actors.Context;

/// <summary>Guest libhsakmt revision of a context (PROTOCOL.md §4.10).</summary>
public enum GuestRevision { Unknown, GNew, GInit }

/// <summary>
/// Everything a guest context owns on the host: shmem, VA slice, object tables (blobs, resources, deferred),
/// queues and regions. Created and held by the parent (DeviceActor) and passed to the ContextActor's props, so a
/// supervisor RESTART rebuilds the actor around the same KFD objects. Mutations happen under <see cref="Sync"/>:
/// the ContextActor and its queue/region children (PostStop) both touch it.
/// </summary>
public sealed class ContextState
{
    private static long s_nextKey;

    private ContextState(ContextInfo info, ContextSettings settings)
    {
        Info = info;
        Settings = settings;
        Objects = new ObjectTable(settings.MaxObjects);
        Key = Interlocked.Increment(ref s_nextKey);
    }

    public static ContextState Create(ContextInfo info, ContextSettings? settings = null) =>
        new(info, settings ?? ContextSettings.Default);

    public ContextInfo Info { get; }
    public ContextSettings Settings { get; }

    /// <summary>Process-unique key (tenancy arbitration, logs).</summary>
    public long Key { get; }

    /// <summary>Guards every field below.</summary>
    public object Sync { get; } = new();

    public ObjectTable Objects { get; }

    /// <summary>Created by CREATE_BLOB blob_id 0; null until then (SUBMIT_3D → ERR_UNSPEC).</summary>
    public ShmemRegion? Shmem { get; internal set; }

    /// <summary>The context's VA slice, reserved at the first OPEN_KFD or allocation.</summary>
    public VaSlice? Slice { get; internal set; }

    /// <summary>Device-local bytes allocated (quota).</summary>
    public ulong VramInUse { get; internal set; }

    /// <summary>Live (not destroyed) queues.</summary>
    public int LiveQueues { get; internal set; }

    /// <summary>Opaque amdgpu device handles issued per node (AMDGPU_DEVICE_HANDLE); the fd id is derived from it.</summary>
    public Dictionary<uint, ulong> DeviceHandles { get; } = new();

    /// <summary>Joined the KFD tenancy (process-wide arbitration).</summary>
    public bool JoinedTenancy { get; internal set; }

    /// <summary>Submits handled, ccmds handled (diagnostics and tests).</summary>
    /// <summary>The context's metric tags (vm, ctx, process), set by its DeviceActor; null when not tracked.</summary>
    public Metrics.ContextTags? MetricTags { get; set; }

    public long Submits { get; internal set; }
    public long Ccmds { get; internal set; }

    /// <summary>Handler faults answered (each one restarts the actor).</summary>
    public int HandlerFaults { get; internal set; }

    /// <summary>The guest revision was detected and logged (once per context).</summary>
    public bool GuestRevisionLogged { get; internal set; }

    /// <summary>G-new or G-init, fixed by the first MEMORY request (PROTOCOL.md §4.10).</summary>
    public GuestRevision GuestRevision { get; internal set; }

    /// <summary>Ordered teardown finished: every host resource released.</summary>
    public bool TornDown { get; internal set; }

    /// <summary>Lifetime actors (QueueActor / VaRegionActor) → their object; survives a restart with the state.</summary>
    internal Dictionary<Akka.Actor.IActorRef, KfdObject> Lifetimes { get; } = new();

    /// <summary>Queue / region actors still alive (leak checks).</summary>
    public int LiveActorCount => Lifetimes.Count;

    /// <summary>An inline submit faulted and the actor has not restarted yet: submits go to the actor meanwhile.</summary>
    public bool AwaitingRestart { get; internal set; }

    /// <summary>DestroyContext received: ordered teardown in progress.</summary>
    public bool Destroying { get; internal set; }

    /// <summary>Reusable request buffer (zero-extension of short requests); grows, never shrinks.</summary>
    internal byte[] RequestBuffer = new byte[512];

    /// <summary>Reusable private response buffer, sized to the response area when the shmem is created.</summary>
    internal byte[] ResponseBuffer = new byte[512];
}
