using System.Runtime.InteropServices;

namespace VhsaKmt.Transport.VhostUser;

// Wire structs of vhost-user payloads (native byte order, packed as QEMU sends them). Sizes are pinned by tests.

/// <summary>Message header: request, flags (version 1 | REPLY | NEED_REPLY), payload size.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public struct VhostUserHeader
{
    public const int Size = 12;
    public const uint Version = 0x1;
    public const uint VersionMask = 0x3;
    public const uint ReplyFlag = 0x4;
    public const uint NeedReplyFlag = 0x8;

    public uint Request;
    public uint Flags;
    public uint PayloadSize;

    public readonly bool NeedsReply => (Flags & NeedReplyFlag) != 0;
    public readonly bool IsReply => (Flags & ReplyFlag) != 0;
}

/// <summary>A vring state description: index, num.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public struct VringStatePayload
{
    public const int Size = 8;
    public uint Index;
    public uint Num;
}

/// <summary>A vring address description (addresses are front-end user addresses without IOMMU).</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public struct VringAddrPayload
{
    public const int Size = 40;
    public uint Index;
    public uint Flags;
    public ulong DescUserAddr;
    public ulong UsedUserAddr;
    public ulong AvailUserAddr;
    public ulong LogGuestAddr;
}

/// <summary>One memory region: guest address, size, user address, mmap offset.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public struct MemoryRegionPayload
{
    public const int Size = 32;
    public ulong GuestPhysAddr;
    public ulong MemorySize;
    public ulong UserAddr;
    public ulong MmapOffset;
}

/// <summary>Head of SET_MEM_TABLE: nregions, padding; then nregions × <see cref="MemoryRegionPayload"/>.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public struct MemoryTableHeader
{
    public const int Size = 8;
    public const int MaxRegions = 8;
    public uint RegionCount;
    public uint Padding;
}

/// <summary>ADD_MEM_REG / REM_MEM_REG: u64 padding then one region.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public struct SingleMemoryRegionPayload
{
    public const int Size = 40;
    public ulong Padding;
    public MemoryRegionPayload Region;
}

/// <summary>Config space access header (offset, size, flags); <c>size</c> bytes of payload follow (≤ 256).</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public struct ConfigHeader
{
    public const int Size = 12;
    public const int MaxPayload = 256;
    public uint Offset;
    public uint PayloadSize;
    public uint Flags;
}

/// <summary>GET_SHMEM_CONFIG reply: u32 nregions, u32 padding, u64 memory_sizes[256] (index = shm id).</summary>
public static class ShmemConfigWire
{
    public const int MaxRegions = 256;
    public const int Size = 8 + 8 * MaxRegions;
}

/// <summary>BACKEND_SHMEM_MAP / UNMAP payload: u8 shmid, 7 pad, fd_offset, shm_offset, len, flags.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public struct ShmemMapPayload
{
    public const int Size = 40;
    public byte ShmId;
    private byte _pad1, _pad2, _pad3, _pad4, _pad5, _pad6, _pad7;
    public ulong FdOffset;
    public ulong ShmOffset;
    public ulong Length;
    public ulong Flags;
}

/// <summary>SET_VRING_KICK/CALL/ERR u64: low byte = queue index, bit 8 = "no fd, poll instead".</summary>
public static class VringFdPayload
{
    public const ulong IndexMask = 0xFF;
    public const ulong NoFdFlag = 0x100;
}
