using FsCheck;
using FsCheck.Xunit;
using VhsaKmt.Native.Va;

namespace VhsaKmt.Native.Tests.Va;

public class VaArenaProperties
{
    private const ulong Page = 4096, Base = 0x4000_0000;

    /// <summary>A random program of allocations (size in pages, alignment exponent) and frees (index).</summary>
    [Property(MaxTest = 200)]
    public bool Allocations_never_overlap_and_honour_alignment(byte[] program)
    {
        var arena = new VaArena(new VaRange(Base, 512 * Page), Page);
        var live = new List<VaRange>();
        foreach (var op in program)
        {
            if (op % 3 == 0 && live.Count > 0)
            {
                var victim = live[op % live.Count];
                if (!arena.Free(victim.Start).IsOk) return false;
                live.Remove(victim);
                continue;
            }
            var size = (ulong)(op % 17 + 1) * Page;
            var alignment = Page << (op % 6);
            var r = arena.Allocate(size, alignment);
            if (!r.IsOk) continue;
            if (r.Address % alignment != 0 || !arena.Range.Contains(r.Address, r.Size)) return false;
            var range = new VaRange(r.Address, r.Size);
            if (live.Any(l => l.Start < range.End && range.Start < l.End)) return false;
            live.Add(range);
        }
        return arena.FreeBytes == 512 * Page - (ulong)live.Sum(l => (long)l.Size);
    }

    [Property(MaxTest = 100)]
    public bool Free_then_alloc_reuses_space(PositiveInt count)
    {
        var n = count.Get % 64 + 1;
        var arena = new VaArena(new VaRange(Base, (ulong)n * Page), Page);
        var all = Enumerable.Range(0, n).Select(_ => arena.Allocate(Page, 0)).ToList();
        if (all.Any(r => !r.IsOk) || arena.Allocate(Page, 0).IsOk) return false;
        foreach (var r in all) arena.Free(r.Address);
        var whole = arena.Allocate((ulong)n * Page, 0);
        return whole.IsOk && whole.Address == Base;
    }

    [Property(MaxTest = 100)]
    public bool Double_free_is_always_detected(PositiveInt pages)
    {
        var arena = new VaArena(new VaRange(Base, 128 * Page), Page);
        var r = arena.Allocate((ulong)(pages.Get % 128 + 1) * Page, 0);
        return r.IsOk && arena.Free(r.Address).IsOk && arena.Free(r.Address).Status == VaStatus.DoubleFree;
    }
}
