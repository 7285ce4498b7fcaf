using VhsaKmt.Native.Interop;
using HostMapping = VhsaKmt.Native.Interop.MappedRegion;

namespace VhsaKmt.Transport.VhostUser;

/// <summary>
/// One front-end memory region mapped into this process. Reference-counted: the memory table holds one
/// reference, each access holds one while it copies, so a table swap never unmaps memory under a reader.
/// </summary>
internal sealed class MappedRegion
{
    private readonly HostMapping _mapping;
    private readonly FdHandle _fd;
    private readonly ulong _delta; // mmap_offset minus the page-aligned offset actually mapped
    private int _refs = 1;

    private MappedRegion(in MemoryRegionPayload desc, FdHandle fd, HostMapping mapping, ulong delta)
    {
        GuestPhysAddr = desc.GuestPhysAddr;
        Size = desc.MemorySize;
        UserAddr = desc.UserAddr;
        MmapOffset = desc.MmapOffset;
        _fd = fd;
        _mapping = mapping;
        _delta = delta;
    }

    public ulong GuestPhysAddr { get; }
    public ulong Size { get; }
    public ulong UserAddr { get; }
    public ulong MmapOffset { get; }

    /// <summary>
    /// Validate <paramref name="desc"/> and map it. Takes ownership of <paramref name="fd"/> (closed on failure).
    /// Throws <see cref="VhostUserProtocolException"/> (non-fatal) for a region the front-end got wrong.
    /// </summary>
    public static MappedRegion Map(in MemoryRegionPayload desc, FdHandle fd)
    {
        try
        {
            const ulong page = 4096;
            if (desc.MemorySize == 0) throw Bad("region size 0");
            if (desc.GuestPhysAddr + desc.MemorySize < desc.GuestPhysAddr) throw Bad("guest address range wraps");
            if (desc.UserAddr + desc.MemorySize < desc.UserAddr) throw Bad("user address range wraps");
            if (desc.MmapOffset + desc.MemorySize < desc.MmapOffset || desc.MmapOffset + desc.MemorySize > long.MaxValue)
                throw Bad("mmap offset range wraps");
            // Touching a page past the end of a file raises SIGBUS: refuse a region larger than its file.
            long? fileSize = FileStat.RegularFileSize(fd);
            if (fileSize is { } size && (ulong)size < desc.MmapOffset + desc.MemorySize)
                throw Bad($"region [{desc.MmapOffset:x}, +{desc.MemorySize:x}) exceeds its file of {size:x} bytes");
            ulong alignedOffset = desc.MmapOffset & ~(page - 1);
            ulong delta = desc.MmapOffset - alignedOffset;
            HostMapping mapping;
            try
            {
                mapping = Mmap.MapShared(fd, alignedOffset, desc.MemorySize + delta);
            }
            catch (LibcException e)
            {
                throw Bad($"cannot map region: {e.Message}");
            }
            return new MappedRegion(desc, fd, mapping, delta);
        }
        catch
        {
            fd.Dispose();
            throw;
        }
    }

    private static VhostUserProtocolException Bad(string why) => new(why, fatal: false);

    public bool ContainsGpa(ulong gpa, ulong length) =>
        gpa >= GuestPhysAddr && gpa - GuestPhysAddr <= Size && length <= Size - (gpa - GuestPhysAddr);

    public bool ContainsUser(ulong addr, ulong length) =>
        addr >= UserAddr && addr - UserAddr <= Size && length <= Size - (addr - UserAddr);

    /// <summary>REM_MEM_REG identifies a region by guest address and size (as libvhost-user and rust-vmm match it).</summary>
    public bool Matches(in MemoryRegionPayload desc) => desc.GuestPhysAddr == GuestPhysAddr && desc.MemorySize == Size;

    /// <summary>A span over guest-physical [gpa, gpa+length); caller checked <see cref="ContainsGpa"/> and holds a reference.</summary>
    public Span<byte> Span(ulong gpa, int length) => _mapping.AsSpan(_delta + (gpa - GuestPhysAddr), length);

    public ref ushort U16(ulong gpa) => ref _mapping.RefAt<ushort>(_delta + (gpa - GuestPhysAddr));

    /// <summary>Dup of the region's fd and the file offset of <paramref name="gpa"/>.</summary>
    public (FdHandle Fd, ulong Offset) FdAt(ulong gpa) => (_fd.Duplicate(), MmapOffset + (gpa - GuestPhysAddr));

    /// <summary>Add a reference unless the region is already retired.</summary>
    public bool TryAcquire()
    {
        while (true)
        {
            int refs = Volatile.Read(ref _refs);
            if (refs <= 0) return false;
            if (Interlocked.CompareExchange(ref _refs, refs + 1, refs) == refs) return true;
        }
    }

    /// <summary>Drop a reference; the last one unmaps and closes the fd.</summary>
    public void Release()
    {
        if (Interlocked.Decrement(ref _refs) == 0)
        {
            _mapping.Dispose();
            _fd.Dispose();
        }
    }
}
