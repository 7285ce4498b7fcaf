using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;
using Tmds.Linux;

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
    private const uint MFD_CLOEXEC = 1, MFD_ALLOW_SEALING = 2;
    private const int F_ADD_SEALS = 1033, F_SEAL_SEAL = 1, F_SEAL_SHRINK = 2, F_SEAL_GROW = 4;
    private const int PROT_READ = 1, PROT_WRITE = 2, MAP_SHARED = 1;

    private byte* _base;

    private ShmemRegion(SafeFileHandle fd, byte* mapping, ulong size, ulong mapped)
    {
        Fd = fd;
        _base = mapping;
        Size = size;
        _mapped = mapped;
        // The view is capped at int.MaxValue; a larger blob (allowed up to 2^32-1) simply has an unused tail.
        // A blob smaller than the header has no response area: ccmds then only get their seqno.
        AreaSize = size <= ResponseOffset ? 0 : (int)Math.Min(size - ResponseOffset, (ulong)int.MaxValue);
    }

    private readonly ulong _mapped;

    /// <summary>The memfd (owned here; the device dups it for SHMEM_MAP).</summary>
    public SafeFileHandle Fd { get; }
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
        var nameBytes = Encoding.ASCII.GetBytes(name + "\0");
        int fd;
        fixed (byte* n = nameBytes) fd = LibC.memfd_create(n, MFD_CLOEXEC | MFD_ALLOW_SEALING);
        if (fd < 0) throw new IOException($"memfd_create failed: errno {Marshal.GetLastPInvokeError()}");
        var handle = new SafeFileHandle(fd, ownsHandle: true);
        try
        {
            if (LibC.ftruncate(fd, (long)fileSize) != 0)
                throw new IOException($"ftruncate({fileSize}) failed: errno {Marshal.GetLastPInvokeError()}");
            if (LibC.fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0)
                throw new IOException($"sealing the shmem memfd failed: errno {Marshal.GetLastPInvokeError()}");
            void* p = LibC.mmap(null, (size_t)fileSize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
            if (p == (void*)-1) throw new IOException($"mmap of the shmem failed: errno {Marshal.GetLastPInvokeError()}");
            var region = new ShmemRegion(handle, (byte*)p, size, fileSize);
            Volatile.Write(ref *(uint*)((byte*)p + 4), ResponseOffset);
            return region;
        }
        catch
        {
            handle.Dispose();
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
        var p = _base;
        if (p == null) return;
        _base = null;
        LibC.munmap(p, (size_t)_mapped);
        Fd.Dispose();
    }
}
