using VhsaKmt.Actors.Messages;
using VhsaKmt.Native.Interop;
using VhsaKmt.Native.Va;
using VhsaKmt.Transport.Virtio;

namespace VhsaKmt.Actors.Objects;

/// <summary>
/// A userptr blob's guest page runs mapped back-to-back at a placeholder VA of the context's slice (MAP_FIXED over
/// the front-end's memory fds), so the host and the GPU see the guest's bytes. The placeholder is recorded as backed
/// in the <see cref="VaManager"/>; <see cref="Dispose"/> re-reserves it PROT_NONE (dropping the guest pages).
/// </summary>
public sealed class GuestPageMapping : IDisposable
{
    private const ulong Page = 4096;
    private readonly VaManager _va;
    private VaBacking? _backing;

    private GuestPageMapping(VaManager va, VaBacking backing, ulong address, ulong length)
    {
        _va = va;
        _backing = backing;
        Address = address;
        Length = length;
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

    /// <summary>Maps every run at <paramref name="placeholder"/> + running offset; on failure nothing stays mapped. Null with a reason.</summary>
    public static GuestPageMapping? TryMap(VaManager va, IGuestMemory memory, IReadOnlyList<MemEntry> entries, ulong placeholder, ulong total, out string? reason)
    {
        var backing = va.TryBack(placeholder, total);
        if (backing is null)
        {
            reason = $"placeholder 0x{placeholder:x}+0x{total:x} cannot be backed";
            return null;
        }
        ulong offset = 0;
        try
        {
            foreach (var e in entries)
            {
                if (!memory.TryGetFdRange(e.Addr, e.Length, out var range))
                {
                    reason = $"guest range 0x{e.Addr:x}+0x{e.Length:x} is not in the memory table";
                    va.Unback(backing);
                    return null;
                }
                using (range.Fd)
                {
                    if (range.FdOffset % Page != 0)
                    {
                        reason = $"guest range 0x{e.Addr:x} maps to an unaligned fd offset 0x{range.FdOffset:x}";
                        va.Unback(backing);
                        return null;
                    }
                    // The region object is dropped on purpose: the pages stay until the backing is re-reserved.
                    Mmap.MapSharedFixed(range.Fd, range.FdOffset, placeholder + offset, e.Length, static (_, _) => { });
                }
                offset += e.Length;
            }
        }
        catch (LibcException ex)
        {
            va.Unback(backing);
            reason = ex.Message;
            return null;
        }
        reason = null;
        return new GuestPageMapping(va, backing, placeholder, total);
    }

    public void Dispose()
    {
        var b = Interlocked.Exchange(ref _backing, null);
        if (b is not null) _va.Unback(b);
    }
}
