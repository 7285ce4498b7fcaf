using Akka.Actor;
using Microsoft.Win32.SafeHandles;
using VhsaKmt.Native.Hsa;

namespace VhsaKmt.Actors.Objects;

/// <summary>Where a <see cref="MemoryObject"/>'s VA came from, which decides how it is given back.</summary>
public enum MemoryPlacement
{
    /// <summary>FixedAddress allocation inside the context's VA slice heap.</summary>
    Slice,
    /// <summary>Scratch sub-range from the context's per-node scratch arena.</summary>
    Scratch,
    /// <summary>NoAddress: <see cref="KfdObject.Address"/> is the KFD handle, no VA.</summary>
    NoAddress,
    /// <summary>IPC import (REGISTER_SHARED_HANDLE): VA chosen by the KFD.</summary>
    SharedImport,
}

/// <summary>
/// HOST_MEM (and QUEUE_MEM while <see cref="QueueLinks"/> is non-empty): a KFD allocation. Freed only when no live
/// queue uses it and the guest dropped it, or at context teardown after every queue is gone (PROTOCOL.md §5.3).
/// </summary>
public sealed class MemoryObject(ulong address, ulong size, uint node, HsaMemFlags flags, MemoryPlacement placement, int gpuIndex = -1)
    : KfdObject(address, size)
{
    public override ObjectKind Kind => ObjectKind.HostMem;
    public uint Node { get; } = node;
    public HsaMemFlags Flags { get; } = flags;
    public MemoryPlacement Placement { get; } = placement;
    /// <summary>Scratch arena index (GPU index) for <see cref="MemoryPlacement.Scratch"/>.</summary>
    public int GpuIndex { get; } = gpuIndex;

    /// <summary>Bytes charged against the context's VRAM quota.</summary>
    public ulong QuotaBytes { get; init; }

    public bool GpuMapped { get; internal set; }
    public bool Registered { get; internal set; }
    public SafeFileHandle? ExportFd { get; internal set; }
    public ulong ExportOffset { get; internal set; }

    /// <summary>Queues whose ring or r/w pointers live here (QUEUE_MEM).</summary>
    public List<QueueObject> QueueLinks { get; } = new(1);
    public bool IsQueueMem => QueueLinks.Count > 0;

    /// <summary>The VaRegionActor carrying this region's lifetime.</summary>
    public IActorRef? Actor { get; internal set; }

    public override bool MappableAllowed =>
        Placement is MemoryPlacement.NoAddress or MemoryPlacement.SharedImport
        || (Placement == MemoryPlacement.Slice && Flags.Has(HsaMemFlags.HostAccess) && !Flags.Has(HsaMemFlags.Scratch));
}
