using VhsaKmt.Native.Interop;

namespace VhsaKmt.TestSupport.Vmm;

/// <summary>
/// The guest's view of a shared-memory region (virtio-gpu shm id 1, "host visible"): a PROT_NONE
/// reservation of the region's size into which SHMEM_MAP maps the back-end's fd ranges (MAP_FIXED at
/// shm_offset), as QEMU's BAR does. Tests read and write mapped blobs through it.
/// </summary>
public sealed class HostVisibleWindow : IDisposable
{
    private readonly MappedRegion _reservation;
    private readonly Lock _lock = new();
    private readonly Dictionary<ulong, Mapped> _mapped = new();
    // The fd ranges placed over the reservation, by shm offset; disposing one puts the reservation back there.
    private readonly Dictionary<ulong, MappedRegion> _runs = new();

    /// <summary>A mapped range: the fd stays open as long as the mapping is listed (QEMU keeps it too).</summary>
    public sealed record Mapped(ulong ShmOffset, ulong Length, ulong FdOffset, FdHandle Fd, bool Writable);

    public HostVisibleWindow(byte shmId, ulong size)
    {
        ShmId = shmId;
        Size = size;
        _reservation = Mmap.ReserveAnywhere(size);
    }

    public byte ShmId { get; }
    public ulong Size { get; }

    /// <summary>This process's address of the window start (the "user address" of a blob in the memory table).</summary>
    public ulong Address => _reservation.Address;

    public IReadOnlyList<Mapped> Mappings { get { lock (_lock) return _mapped.Values.ToArray(); } }

    /// <summary>Map a range (takes ownership of <paramref name="fd"/>). Null when accepted, otherwise why not.</summary>
    internal string? Map(ulong shmOffset, FdHandle fd, ulong fdOffset, ulong length, bool writable)
    {
        lock (_lock)
        {
            if (length == 0 || shmOffset % 4096 != 0 || length % 4096 != 0 || fdOffset % 4096 != 0)
                return Reject(fd, $"unaligned map [0x{shmOffset:x}, +0x{length:x}) fd offset 0x{fdOffset:x}");
            if (shmOffset > Size || length > Size - shmOffset)
                return Reject(fd, $"[0x{shmOffset:x}, +0x{length:x}) outside the 0x{Size:x}-byte window");
            foreach (var m in _mapped.Values)
            {
                if (shmOffset < m.ShmOffset + m.Length && m.ShmOffset < shmOffset + length)
                    return Reject(fd, $"[0x{shmOffset:x}, +0x{length:x}) overlaps a mapping at 0x{m.ShmOffset:x}");
            }
            try
            {
                _runs[shmOffset] = Mmap.MapSharedFixed(fd, fdOffset, _reservation.Address + shmOffset, length,
                    static (address, size) => Mmap.Rereserve(address, size), writable);
            }
            catch (LibcException e)
            {
                return Reject(fd, e.Message);
            }
            _mapped[shmOffset] = new Mapped(shmOffset, length, fdOffset, fd, writable);
            return null;
        }
    }

    /// <summary>Unmap the range mapped at <paramref name="shmOffset"/>; returns it (fd now owned by the caller) or null.</summary>
    internal Mapped? Unmap(ulong shmOffset, ulong length)
    {
        lock (_lock)
        {
            if (!_mapped.TryGetValue(shmOffset, out var m) || m.Length != length) return null;
            _mapped.Remove(shmOffset);
            _runs.Remove(shmOffset, out var run);
            run!.Dispose();
            return m;
        }
    }

    /// <summary>Read mapped bytes (throws for an unmapped range rather than faulting).</summary>
    public byte[] Read(ulong shmOffset, int length)
    {
        lock (_lock)
        {
            RequireMapped(shmOffset, (ulong)length);
            return _reservation.AsSpan(shmOffset, length).ToArray();
        }
    }

    /// <summary>Write mapped bytes (the mapping must be writable).</summary>
    public void Write(ulong shmOffset, ReadOnlySpan<byte> data)
    {
        lock (_lock)
        {
            var m = RequireMapped(shmOffset, (ulong)data.Length);
            if (!m.Writable) throw new InvalidOperationException("mapping is read-only");
            data.CopyTo(_reservation.AsSpan(shmOffset, data.Length));
        }
    }

    private Mapped RequireMapped(ulong offset, ulong length)
    {
        foreach (var m in _mapped.Values)
        {
            if (offset >= m.ShmOffset && offset + length <= m.ShmOffset + m.Length) return m;
        }
        throw new InvalidOperationException($"[0x{offset:x}, +{length}) is not mapped in the window");
    }

    private static string Reject(FdHandle fd, string why)
    {
        fd.Dispose();
        return why;
    }

    public void Dispose()
    {
        lock (_lock)
        {
            foreach (var m in _mapped.Values) m.Fd.Dispose();
            _mapped.Clear();
            foreach (var run in _runs.Values) run.Dispose();
            _runs.Clear();
        }
        _reservation.Dispose();
    }
}
