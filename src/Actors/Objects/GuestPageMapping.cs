using System.Runtime.InteropServices;
using Tmds.Linux;
using VhsaKmt.Actors.Messages;
using VhsaKmt.Transport.Virtio;

namespace VhsaKmt.Actors.Objects;

/// <summary>
/// Maps a userptr blob's guest page runs back-to-back at a placeholder VA (already reserved PROT_NONE in the
/// context's slice) with MAP_FIXED over the front-end's memory fds, so the host sees the guest's bytes. Releasing
/// is re-reserving the placeholder (the slice does that when the VA is freed).
/// </summary>
public sealed unsafe class GuestPageMapping
{
    private const int PROT_READ = 1, PROT_WRITE = 2, MAP_SHARED = 1, MAP_FIXED = 0x10;
    private const ulong Page = 4096;

    private GuestPageMapping(ulong address, ulong length) { Address = address; Length = length; }

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

    /// <summary>
    /// Maps every run at <paramref name="placeholder"/> + running offset. On failure nothing stays mapped beyond the
    /// placeholder's reservation semantics: the caller frees (re-reserves) the placeholder. Returns null with a reason.
    /// </summary>
    public static GuestPageMapping? TryMap(IGuestMemory memory, IReadOnlyList<MemEntry> entries, ulong placeholder, bool readOnly, out string? reason)
    {
        ulong offset = 0;
        int prot = readOnly ? PROT_READ : PROT_READ | PROT_WRITE;
        foreach (var e in entries)
        {
            if (!memory.TryGetFdRange(e.Addr, e.Length, out var range))
            {
                reason = $"guest range 0x{e.Addr:x}+0x{e.Length:x} is not in the memory table";
                return null;
            }
            using (range.Fd)
            {
                if (range.FdOffset % Page != 0)
                {
                    reason = $"guest range 0x{e.Addr:x} maps to an unaligned fd offset 0x{range.FdOffset:x}";
                    return null;
                }
                void* want = (void*)(placeholder + offset);
                void* got = LibC.mmap(want, (size_t)e.Length, prot, MAP_SHARED | MAP_FIXED, (int)range.Fd.DangerousGetHandle(), (long)range.FdOffset);
                if (got != want)
                {
                    reason = $"mmap of guest pages failed: errno {Marshal.GetLastPInvokeError()}";
                    return null;
                }
            }
            offset += e.Length;
        }
        reason = null;
        return new GuestPageMapping(placeholder, offset);
    }
}
