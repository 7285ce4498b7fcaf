using Microsoft.Win32.SafeHandles;
using VhsaKmt.Transport.Virtio;

namespace VhsaKmt.Actors.Device;

public enum ResourceKind { Blob, TwoD }

/// <summary>
/// One virtio-gpu resource of a device (res_id is device-wide). A mappable blob keeps its own dup of the
/// backing fd, so the SHMEM_MAP at MAP_BLOB does not depend on the context's object still being alive.
/// </summary>
public sealed class DeviceResource : IDisposable
{
    public DeviceResource(uint resId, ResourceKind kind, uint ownerCtx, ulong size)
    { ResId = resId; Kind = kind; OwnerCtx = ownerCtx; Size = size; }

    public uint ResId { get; }
    public ResourceKind Kind { get; }
    /// <summary>The context that created it (0 for 2D resources and context-less GUEST blobs).</summary>
    public uint OwnerCtx { get; }
    public ulong Size { get; }

    public SafeFileHandle? BackingFd { get; private set; }
    public ulong BackingOffset { get; private set; }
    public ulong BackingLength { get; private set; }
    public uint MapInfo { get; set; }

    /// <summary>Offset in the host-visible region while mapped (SHMEM_MAP acknowledged).</summary>
    public ulong? MappedOffset { get; private set; }
    public ulong MappedLength { get; private set; }

    /// <summary>Guest pages of a 2D resource (ATTACH_BACKING); only validated and kept, never rendered.</summary>
    public GuestSegment[] GuestBacking { get; set; } = [];

    public void SetBacking(SafeFileHandle fd, ulong offset, ulong length)
    {
        BackingFd?.Dispose();
        BackingFd = fd; BackingOffset = offset; BackingLength = length;
    }

    public void SetMapped(ulong offset, ulong length) { MappedOffset = offset; MappedLength = length; }
    public void SetUnmapped() { MappedOffset = null; MappedLength = 0; }

    public void Dispose()
    {
        BackingFd?.Dispose();
        BackingFd = null;
    }
}
