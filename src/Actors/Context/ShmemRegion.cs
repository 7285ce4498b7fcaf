using System.Runtime.InteropServices;
using VhsaKmt.Native.Interop;

namespace VhsaKmt.Actors.Context;

/// <summary>
/// The context's shmem (PROTOCOL.md §3.1): a sealed memfd of the blob size, mapped shared in the daemon and handed to
/// the hypervisor (SHMEM_MAP) on MAP_BLOB. Layout: seqno u32 @0, rsp_mem_offset u32 @4 (= 16), async_error u32 @8,
/// global_faults @12, response area from 16. The guest may write any byte at any time: every read is a single
/// volatile load and no value read here is trusted.
/// </summary>
public sealed unsafe class ShmemRegion : IDisposable
{
    public const uint ResponseOffset = 16;

    private readonly Memfd _fd;
    private readonly MappedRegion _mapping;
    private byte* _base;

    private ShmemRegion(Memfd fd, MappedRegion mapping, ulong size)
    {
        _fd = fd;
        _mapping = mapping;
        _base = (byte*)mapping.Address;
        Size = size;
        // The view is capped at int.MaxValue; a larger blob (allowed up to 2^32-1) simply has an unused tail.
        // A blob smaller than the header has no response area: ccmds then only get their seqno.
        AreaSize = size <= ResponseOffset ? 0 : (int)Math.Min(size - ResponseOffset, (ulong)int.MaxValue);
    }

    /// <summary>The memfd (owned here; the device dups it for SHMEM_MAP).</summary>
    public SafeHandle Fd => _fd;
    public ulong Size { get; }
    /// <summary>Bytes of the response area (blob size − 16).</summary>
    public int AreaSize { get; }

    /// <summary>Creates, sizes, seals and maps the memfd; writes rsp_mem_offset. Throws on a host failure (not a guest error).</summary>
    public static ShmemRegion Create(ulong size, string name)
    {
        if (size < 8 || size > uint.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(size), size, "shmem size must be 8..2^32-1");
        // The file (and our mapping) is at least a page, so the 16-byte header always exists on the host side.
        ulong fileSize = Math.Max((size + 4095) & ~4095UL, 4096);
        // Sealed: the hypervisor that receives the fd cannot shrink it under our mapping (SIGBUS).
        var fd = Memfd.Create(name, fileSize, seal: true);
        try
        {
            var region = new ShmemRegion(fd, Mmap.MapShared(fd, 0, fileSize), size);
            Volatile.Write(ref *(uint*)(region._base + 4), ResponseOffset);
            return region;
        }
        catch
        {
            fd.Dispose();
            throw;
        }
    }

    private byte* Base => _base != null ? _base : throw new ObjectDisposedException(nameof(ShmemRegion));

    /// <summary>The response area (shmem offset 16 onwards).</summary>
    public Span<byte> Area => new(Base + ResponseOffset, AreaSize);

    /// <summary>Reads the guest's pre-written slot <c>len</c> once.</summary>
    public uint ReadSlotLength(int rspOff) => Volatile.Read(ref *(uint*)(Base + ResponseOffset + rspOff));

    /// <summary>Completion signal: full barrier (Interlocked), so the response bytes are visible before seqno.</summary>
    public void PublishSeqno(uint seqno) => Interlocked.Exchange(ref *(uint*)Base, seqno);

    public uint Seqno => Volatile.Read(ref *(uint*)Base);

    /// <summary>Diagnostics counter at offset 8 (the guest never reads it, PROTOCOL.md §3.6).</summary>
    public void RecordFault() => Interlocked.Increment(ref *(int*)(Base + 8));

    public uint AsyncError => Volatile.Read(ref *(uint*)(Base + 8));

    public void Dispose()
    {
        if (_base == null) return;
        _base = null;
        _mapping.Dispose();
        _fd.Dispose();
    }
}
