using VhsaKmt.Native;

namespace VhsaKmt.Actors.Objects;

/// <summary>
/// DOORBELL_PTR / DOORBELL_RW_PTR: a page owned by the KFD queue machinery, exposed to the guest as a mappable blob
/// backed by <see cref="Backing"/>. Releasing it does nothing on the KFD (PROTOCOL.md §5.2).
/// </summary>
public sealed class PageObject(ObjectKind kind, ulong address, ulong size, MemoryBacking backing) : KfdObject(address, size)
{
    public override ObjectKind Kind { get; } = kind is ObjectKind.DoorbellPtr or ObjectKind.DoorbellRwPtr
        ? kind : throw new ArgumentOutOfRangeException(nameof(kind));
    public override bool MappableAllowed => true;
    public MemoryBacking Backing { get; } = backing;
}

/// <summary>SCRATCH_MAP_MEM: a GPU mapping of a scratch sub-range; release = GPU unmap.</summary>
public sealed class ScratchMapObject(ulong address, ulong size) : KfdObject(address, size)
{
    public override ObjectKind Kind => ObjectKind.ScratchMapMem;
    public override bool MappableAllowed => false;
}

/// <summary>DMA_BUF: a dma-buf of another renderer attached to this context (GL interop); owns its fd.</summary>
public sealed class DmaBufObject(Microsoft.Win32.SafeHandles.SafeFileHandle fd, ulong size) : KfdObject(0, size)
{
    public override ObjectKind Kind => ObjectKind.DmaBuf;
    public override bool MappableAllowed => false;
    public Microsoft.Win32.SafeHandles.SafeFileHandle Fd { get; } = fd;
}

/// <summary>The shmem blob (blob_id 0) bound to a res_id; the mapping itself belongs to the ContextState.</summary>
public sealed class ShmemObject(ulong size) : KfdObject(0, size)
{
    public override ObjectKind Kind => ObjectKind.Shmem;
    public override bool MappableAllowed => true;
}
