using System.Runtime.InteropServices;
using VhsaKmt.Native.Interop;
using VhsaKmt.Transport.VhostUser;

namespace VhsaKmt.TestSupport.Vmm;

/// <summary>
/// The test guest's RAM: one memfd per region, mapped here (this process plays the hypervisor, so the
/// mapping address is the region's "user address" in SET_MEM_TABLE, as in QEMU). Access by guest-physical address.
/// </summary>
public sealed class GuestRam : IDisposable
{
    private readonly List<(GuestRamRegion Region, Memfd Fd, MappedRegion Map)> _regions = new();

    public GuestRam(IReadOnlyList<GuestRamRegion> regions)
    {
        try
        {
            foreach (var r in regions)
            {
                var fd = Memfd.Create($"testvmm-ram-{r.GuestPhysAddr:x}", r.Size, seal: false);
                try
                {
                    _regions.Add((r, fd, Mmap.MapShared(fd, 0, r.Size)));
                }
                catch
                {
                    fd.Dispose();
                    throw;
                }
            }
        }
        catch
        {
            Dispose();
            throw;
        }
        Allocator = new GpaAllocator(regions);
    }

    public GpaAllocator Allocator { get; }

    public IReadOnlyList<GuestRamRegion> Regions => _regions.Select(r => r.Region).ToArray();

    /// <summary>The SET_MEM_TABLE entries for the RAM (user address = this process's mapping).</summary>
    public MemoryRegionPayload[] TableEntries() => _regions.Select(r => new MemoryRegionPayload
    {
        GuestPhysAddr = r.Region.GuestPhysAddr, MemorySize = r.Region.Size, UserAddr = r.Map.Address, MmapOffset = 0,
    }).ToArray();

    /// <summary>The region memfds, in table order (to send with SET_MEM_TABLE).</summary>
    public IReadOnlyList<Memfd> Fds => _regions.Select(r => r.Fd).ToArray();

    /// <summary>The front-end user address of <paramref name="gpa"/> (what QEMU puts in SET_VRING_ADDR).</summary>
    public ulong UserAddress(ulong gpa)
    {
        var (region, _, map) = Find(gpa, 1);
        return map.Address + (gpa - region.GuestPhysAddr);
    }

    public Span<byte> Span(ulong gpa, int length)
    {
        var (region, _, map) = Find(gpa, (ulong)length);
        return map.AsSpan(gpa - region.GuestPhysAddr, length);
    }

    public void Write(ulong gpa, ReadOnlySpan<byte> data) => data.CopyTo(Span(gpa, data.Length));

    public byte[] Read(ulong gpa, int length) => Span(gpa, length).ToArray();

    public void Write<T>(ulong gpa, in T value) where T : unmanaged => Write(gpa, MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in value)));

    public T Read<T>(ulong gpa) where T : unmanaged => MemoryMarshal.Read<T>(Span(gpa, Marshal.SizeOf<T>()));

    /// <summary>Ordered u16 access for ring indices.</summary>
    public ushort ReadU16Acquire(ulong gpa)
    {
        var (region, _, map) = Find(gpa, 2);
        return Volatile.Read(ref map.RefAt<ushort>(gpa - region.GuestPhysAddr));
    }

    public void WriteU16Release(ulong gpa, ushort value)
    {
        var (region, _, map) = Find(gpa, 2);
        Volatile.Write(ref map.RefAt<ushort>(gpa - region.GuestPhysAddr), value);
    }

    private (GuestRamRegion Region, Memfd Fd, MappedRegion Map) Find(ulong gpa, ulong length)
    {
        foreach (var r in _regions)
        {
            if (gpa >= r.Region.GuestPhysAddr && gpa + length <= r.Region.GuestPhysAddr + r.Region.Size) return r;
        }
        throw new ArgumentOutOfRangeException(nameof(gpa), $"[0x{gpa:x}, +{length}) is not guest RAM");
    }

    public void Dispose()
    {
        foreach (var (_, fd, map) in _regions)
        {
            map.Dispose();
            fd.Dispose();
        }
        _regions.Clear();
    }
}
