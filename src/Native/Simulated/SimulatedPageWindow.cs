using VhsaKmt.Native.Interop;
using VhsaKmt.Native.Va;

namespace VhsaKmt.Native.Simulated;

/// <summary>
/// Places the KFD's own small pages (event page, doorbell pages, r/w-pointer pages) inside the VA manager's
/// doorbell window — reserved, outside every context slice, so guests can mirror them without colliding with
/// their own mappings. Without a VA manager the kernel chooses the address.
/// </summary>
internal sealed class SimulatedPageWindow
{
    private readonly object _lock = new();
    private readonly VaManager? _va;
    private readonly VaArena? _arena;

    public SimulatedPageWindow(VaManager? va)
    {
        _va = va;
        if (va is not null) _arena = new VaArena(va.DoorbellWindow, va.PageSize);
    }

    /// <summary>Maps all of <paramref name="file"/> read/write; null when the window is full.</summary>
    public MappedRegion? Map(Memfd file)
    {
        if (_va is null || _arena is null) return Mmap.MapShared(file, 0, file.Size);
        ulong address;
        lock (_lock)
        {
            var r = _arena.Allocate(file.Size, file.Size >= 8192 ? 8192UL : 0UL);
            if (!r.IsOk) return null;
            address = r.Address;
        }
        var backing = _va.TryBack(address, file.Size);
        if (backing is null)
        {
            lock (_lock) _arena.Free(address);
            return null;
        }
        return Mmap.MapSharedFixed(file, 0, address, file.Size, (a, _) =>
        {
            _va.Unback(backing);
            lock (_lock) _arena.Free(a);
        });
    }
}
