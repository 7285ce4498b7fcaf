using System.Runtime.CompilerServices;
using Microsoft.Win32.SafeHandles;
using VhsaKmt.Native.Interop;
using VhsaKmt.Transport.Virtio;

namespace VhsaKmt.Transport.VhostUser;

/// <summary>
/// The front-end's memory table (SET_MEM_TABLE, ADD/REM_MEM_REG): guest-physical and front-end user
/// addresses → regions mapped here. Readers take a snapshot of the region array and a reference on the
/// region they touch, so a table swap (QEMU re-sends the table around every SHMEM_MAP) never unmaps memory
/// under a chain in flight: the old region goes when its last reader lets go.
/// </summary>
public sealed class GuestMemoryTable : IRingMemory, IDisposable
{
    /// <summary>Slots offered in GET_MAX_MEM_SLOTS (QEMU's own limit with CONFIGURE_MEM_SLOTS is 509).</summary>
    public const int MaxSlots = 32;

    private readonly Lock _writeLock = new();
    private MappedRegion[] _regions = [];

    public int RegionCount => Volatile.Read(ref _regions).Length;

    /// <summary>Replace the whole table. New regions are mapped first; on failure the old table stays.</summary>
    internal void Replace(ReadOnlySpan<MemoryRegionPayload> descs, Func<int, FdHandle> takeFd)
    {
        var mapped = new MappedRegion[descs.Length];
        int done = 0;
        try
        {
            for (; done < descs.Length; done++) mapped[done] = MappedRegion.Map(descs[done], takeFd(done));
            CheckNoOverlap(mapped);
        }
        catch
        {
            for (int i = 0; i < done; i++) mapped[i].Release();
            throw;
        }
        MappedRegion[] old;
        lock (_writeLock) old = Interlocked.Exchange(ref _regions, mapped);
        foreach (var region in old) region.Release();
    }

    /// <summary>ADD_MEM_REG.</summary>
    internal void Add(in MemoryRegionPayload desc, FdHandle fd)
    {
        var region = MappedRegion.Map(desc, fd);
        lock (_writeLock)
        {
            var current = _regions;
            if (current.Length >= MaxSlots)
            {
                region.Release();
                throw new VhostUserProtocolException($"memory table full ({MaxSlots} slots)", fatal: false);
            }
            var next = new MappedRegion[current.Length + 1];
            current.CopyTo(next, 0);
            next[^1] = region;
            try
            {
                CheckNoOverlap(next);
            }
            catch
            {
                region.Release();
                throw;
            }
            Volatile.Write(ref _regions, next);
        }
    }

    /// <summary>REM_MEM_REG: remove the region matching guest address and size.</summary>
    internal void Remove(in MemoryRegionPayload desc)
    {
        MappedRegion? removed = null;
        lock (_writeLock)
        {
            var current = _regions;
            var next = new List<MappedRegion>(current.Length);
            foreach (var r in current)
            {
                if (removed is null && r.Matches(desc)) removed = r;
                else next.Add(r);
            }
            if (removed is null)
                throw new VhostUserProtocolException($"no region at gpa 0x{desc.GuestPhysAddr:x} size 0x{desc.MemorySize:x}", fatal: false);
            Volatile.Write(ref _regions, next.ToArray());
        }
        removed.Release();
    }

    /// <summary>Translate a front-end user address range (SET_VRING_ADDR) to guest-physical.</summary>
    public bool TryTranslateUser(ulong userAddr, ulong length, out ulong gpa)
    {
        foreach (var r in Volatile.Read(ref _regions))
        {
            if (r.ContainsUser(userAddr, length))
            {
                gpa = r.GuestPhysAddr + (userAddr - r.UserAddr);
                return true;
            }
        }
        gpa = 0;
        return false;
    }

    public bool TryRead(ulong gpa, Span<byte> destination)
    {
        if (destination.IsEmpty) return Contains(gpa, 0);
        var region = AcquireRegion(gpa, (ulong)destination.Length);
        if (region is null) return false;
        try
        {
            region.Span(gpa, destination.Length).CopyTo(destination);
            return true;
        }
        finally
        {
            region.Release();
        }
    }

    public bool TryWrite(ulong gpa, ReadOnlySpan<byte> source)
    {
        if (source.IsEmpty) return Contains(gpa, 0);
        var region = AcquireRegion(gpa, (ulong)source.Length);
        if (region is null) return false;
        try
        {
            source.CopyTo(region.Span(gpa, source.Length));
            return true;
        }
        finally
        {
            region.Release();
        }
    }

    public bool TryReadU16Acquire(ulong gpa, out ushort value)
    {
        value = 0;
        if ((gpa & 1) != 0) return false;
        var region = AcquireRegion(gpa, 2);
        if (region is null) return false;
        try
        {
            value = Volatile.Read(ref region.U16(gpa));
            return true;
        }
        finally
        {
            region.Release();
        }
    }

    public bool TryWriteU16Release(ulong gpa, ushort value)
    {
        if ((gpa & 1) != 0) return false;
        var region = AcquireRegion(gpa, 2);
        if (region is null) return false;
        try
        {
            Volatile.Write(ref region.U16(gpa), value);
            return true;
        }
        finally
        {
            region.Release();
        }
    }

    public bool TryGetFdRange(ulong gpa, ulong length, out GuestFdRange range)
    {
        range = null!;
        var region = AcquireRegion(gpa, length);
        if (region is null) return false;
        try
        {
            var (fd, offset) = region.FdAt(gpa);
            // Hand the dup over as the contract's SafeFileHandle; ownership of the fd moves with it.
            var handle = new SafeFileHandle(new IntPtr(fd.Detach()), ownsHandle: true);
            range = new GuestFdRange(handle, offset, length);
            return true;
        }
        finally
        {
            region.Release();
        }
    }

    public bool Contains(ulong gpa, ulong length)
    {
        foreach (var r in Volatile.Read(ref _regions)) if (r.ContainsGpa(gpa, length)) return true;
        return false;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private MappedRegion? AcquireRegion(ulong gpa, ulong length)
    {
        while (true)
        {
            MappedRegion? found = null;
            foreach (var r in Volatile.Read(ref _regions))
            {
                if (r.ContainsGpa(gpa, length)) { found = r; break; }
            }
            if (found is null) return null;
            if (found.TryAcquire()) return found;
            // Retired between the snapshot and the acquire: the table changed, look again.
        }
    }

    private static void CheckNoOverlap(MappedRegion[] regions)
    {
        for (int i = 0; i < regions.Length; i++)
        for (int j = i + 1; j < regions.Length; j++)
        {
            var a = regions[i];
            var b = regions[j];
            if (a.GuestPhysAddr < b.GuestPhysAddr + b.Size && b.GuestPhysAddr < a.GuestPhysAddr + a.Size)
                throw new VhostUserProtocolException($"regions at gpa 0x{a.GuestPhysAddr:x} and 0x{b.GuestPhysAddr:x} overlap", fatal: false);
        }
    }

    /// <summary>Drop every region (disconnect / RESET_OWNER); mappings go when the last reader lets go.</summary>
    public void Clear()
    {
        MappedRegion[] old;
        lock (_writeLock) old = Interlocked.Exchange(ref _regions, []);
        foreach (var region in old) region.Release();
    }

    public void Dispose() => Clear();
}
