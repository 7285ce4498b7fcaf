using VhsaKmt.Actors.Messages;
using VhsaKmt.Native.Interop;
using VhsaKmt.Transport.Virtio;

namespace VhsaKmt.Actors.Objects;

/// <summary>
/// A userptr blob's guest page runs mapped back-to-back (MAP_FIXED over the front-end's memory fds) into a
/// placeholder range the kernel chooses outside the device VA area — the KFD treats memory inside that area as its
/// own, never as user memory — so the host and the GPU see the guest's bytes. <see cref="Dispose"/> unmaps it all.
/// </summary>
public sealed class GuestPageMapping : IDisposable
{
    private const ulong Page = 4096;
    private MappedRegion? _placeholder;
    private readonly List<MappedRegion> _runs;

    private GuestPageMapping(MappedRegion placeholder, List<MappedRegion> runs)
    {
        _placeholder = placeholder;
        _runs = runs;
        Address = placeholder.Address;
        Length = placeholder.Length;
    }

    public ulong Address { get; }
    public ulong Length { get; }

    /// <summary>Total bytes of the entries if every run is page aligned and non-empty, else null (guest error).</summary>
    public static ulong? TotalLength(IReadOnlyList<MemEntry> entries)
    {
        if (entries.Count == 0) return null;
        ulong total = 0;
        foreach (var e in entries)
        {
            if (e.Length == 0 || e.Addr % Page != 0 || e.Length % Page != 0) return null;
            total += e.Length;
        }
        return total;
    }

    /// <summary>Maps every run at placeholder + running offset; on failure nothing stays mapped. Null with a reason.</summary>
    public static GuestPageMapping? TryMap(IGuestMemory memory, IReadOnlyList<MemEntry> entries, ulong total, out string? reason)
    {
        MappedRegion placeholder;
        try
        {
            placeholder = Mmap.ReserveAnywhere(total);
        }
        catch (LibcException ex)
        {
            reason = ex.Message;
            return null;
        }
        ulong offset = 0;
        var runs = new List<MappedRegion>(entries.Count);
        try
        {
            foreach (var e in entries)
            {
                if (!memory.TryGetFdRange(e.Addr, e.Length, out var range))
                {
                    reason = $"guest range 0x{e.Addr:x}+0x{e.Length:x} is not in the memory table";
                    Release(runs, placeholder);
                    return null;
                }
                using (range.Fd)
                {
                    if (range.FdOffset % Page != 0)
                    {
                        reason = $"guest range 0x{e.Addr:x} maps to an unaligned fd offset 0x{range.FdOffset:x}";
                        Release(runs, placeholder);
                        return null;
                    }
                    // The run lives inside the placeholder: unmapping the placeholder drops it, so the run's own
                    // release is a no-op; it is still disposed so the mapping counters balance.
                    runs.Add(Mmap.MapSharedFixed(range.Fd, range.FdOffset, placeholder.Address + offset, e.Length, static (_, _) => { }));
                }
                offset += e.Length;
            }
        }
        catch (LibcException ex)
        {
            Release(runs, placeholder);
            reason = ex.Message;
            return null;
        }
        reason = null;
        return new GuestPageMapping(placeholder, runs);
    }

    private static void Release(List<MappedRegion> runs, MappedRegion placeholder)
    {
        foreach (var r in runs) r.Dispose();
        runs.Clear();
        placeholder.Dispose();
    }

    public void Dispose()
    {
        var placeholder = Interlocked.Exchange(ref _placeholder, null);
        if (placeholder is not null) Release(_runs, placeholder);
    }
}
