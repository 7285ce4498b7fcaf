using System.Runtime.InteropServices;
using VhsaKmt.Native.Hsa;

namespace VhsaKmt.Native;

/// <summary>
/// The file range that backs <c>[address, address + Length)</c> of a KFD object, for mapping it elsewhere
/// (SHMEM_MAP to the hypervisor). <see cref="Fd"/> is owned by the KFD object and closes with it: dup it to keep it.
/// </summary>
public sealed record MemoryBacking(SafeHandle Fd, ulong FdOffset, ulong Length);

/// <summary>
/// Arguments of hsaKmtCreateQueue / hsaKmtCreateQueueExt (the latter when <see cref="SdmaEngineId"/> != <see cref="AnySdmaEngine"/>).
/// The ring must lie inside KFD memory. For AQL queues the r/w pointers are the caller's (inside KFD memory);
/// for other queues the simulated KFD provides them in a r/w-pointer page (libhsakmt passes them through).
/// </summary>
public readonly record struct QueueCreateArgs(
    uint NodeId,
    uint Type,
    uint Percentage,
    long Priority,
    uint SdmaEngineId,
    ulong RingAddress,
    ulong RingSize,
    ulong EventHandle,
    ulong WritePtrAddress,
    ulong ReadPtrAddress)
{
    /// <summary>SdmaEngineId meaning "no specific engine": plain hsaKmtCreateQueue.</summary>
    public const uint AnySdmaEngine = 0xFFFF_FFFF;
}

/// <summary>HSA_QUEUE_TYPE values (hsakmttypes.h).</summary>
public static class HsaQueueType
{
    public const uint Compute = 1, Sdma = 2, MultimediaDecode = 3, MultimediaEncode = 4, SdmaXgmi = 5,
        SdmaByEngId = 6, ComputeOs = 11, SdmaOs = 12, MultimediaDecodeOs = 13, MultimediaEncodeOs = 14,
        ComputeAql = 21, Dma = 22;

    /// <summary>AQL queues keep their read/write pointers in the guest's own memory (no r/w-pointer page).</summary>
    public static bool IsAql(uint type) => type == ComputeAql;
}

/// <summary>
/// Result of a queue creation. <see cref="Resource"/> carries QueueId = <see cref="QueueHandle"/> and the doorbell,
/// write- and read-pointer VAs. The doorbell page (and for non-AQL queues the r/w-pointer page) are fd-backed so
/// they can be mapped into the guest.
/// </summary>
public sealed record QueueCreated(
    ulong QueueHandle,
    HsaQueueResource Resource,
    ulong DoorbellPageAddress,
    ulong DoorbellPageSize,
    MemoryBacking DoorbellPage,
    MemoryBacking? RwPointerPage);
