using System.Runtime.InteropServices;

namespace VhsaKmt.Transport.Virtio;

// Split-virtqueue ring layout from linux/virtio_ring.h (virtio 1.x: little-endian). The layout tests compile the
// real header with gcc and compare sizes, offsets and constants.

/// <summary>C <c>struct vring_desc</c> (structure, 16 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 16)]
public struct VringDesc
{
    public const int Size = 16;
    [FieldOffset(0)] public ulong addr;
    [FieldOffset(8)] public uint len;
    [FieldOffset(12)] public ushort flags;
    [FieldOffset(14)] public ushort next;
}

/// <summary>C <c>struct vring_avail</c> (structure, 4 bytes): the header; <c>ring[num]</c> and
/// <c>used_event</c> (u16 each) follow.</summary>
[StructLayout(LayoutKind.Explicit, Size = 4)]
public struct VringAvail
{
    public const int Size = 4;
    /// <summary>Offset of the flexible <c>ring[]</c> member.</summary>
    public const int RingOffset = 4;
    [FieldOffset(0)] public ushort flags;
    [FieldOffset(2)] public ushort idx;
}

/// <summary>C <c>struct vring_used_elem</c> (structure, 8 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 8)]
public struct VringUsedElem
{
    public const int Size = 8;
    [FieldOffset(0)] public uint id;
    [FieldOffset(4)] public uint len;
}

/// <summary>C <c>struct vring_used</c> (structure, 4 bytes): the header; <c>ring[num]</c> (vring_used_elem) and
/// <c>avail_event</c> (u16) follow.</summary>
[StructLayout(LayoutKind.Explicit, Size = 4)]
public struct VringUsed
{
    public const int Size = 4;
    /// <summary>Offset of the flexible <c>ring[]</c> member.</summary>
    public const int RingOffset = 4;
    [FieldOffset(0)] public ushort flags;
    [FieldOffset(2)] public ushort idx;
}

/// <summary>Split-ring flags, feature bits and alignments from linux/virtio_ring.h.</summary>
public static class VringConst
{
    public const ushort VRING_DESC_F_NEXT = 1;
    public const ushort VRING_DESC_F_WRITE = 2;
    public const ushort VRING_DESC_F_INDIRECT = 4;

    public const ushort VRING_USED_F_NO_NOTIFY = 1;
    public const ushort VRING_AVAIL_F_NO_INTERRUPT = 1;

    // Feature bit numbers (not masks).
    public const int VIRTIO_RING_F_INDIRECT_DESC = 28;
    public const int VIRTIO_RING_F_EVENT_IDX = 29;

    public const int VRING_AVAIL_ALIGN_SIZE = 2;
    public const int VRING_USED_ALIGN_SIZE = 4;
    public const int VRING_DESC_ALIGN_SIZE = 16;
}
