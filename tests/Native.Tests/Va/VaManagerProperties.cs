using FsCheck;
using FsCheck.Xunit;
using VhsaKmt.Native.Interop;
using VhsaKmt.Native.Va;

namespace VhsaKmt.Native.Tests.Va;

public class VaManagerProperties
{
    /// <summary>
    /// Random slices with random allocations (some backed by real pages): allocations stay inside their slice and
    /// never overlap across slices; after Dispose nothing of the area is left in /proc/self/maps.
    /// </summary>
    [Property(MaxTest = 25)]
    public bool Slices_are_disjoint_and_dispose_releases_the_whole_area(byte[] program)
    {
        var m = TestVa.Create(slices: 4, sliceSize: 64UL << 20);
        var area = m.Area;
        var slices = new List<VaSlice>();
        var ranges = new List<(VaSlice Slice, VaRange Range)>();
        using var file = Memfd.Create("prop", 1UL << 20);
        foreach (var op in program.Take(40))
        {
            if (op % 5 == 0 && m.ReserveSlice() is { } s) { slices.Add(s); continue; }
            if (slices.Count == 0) continue;
            var slice = slices[op % slices.Count];
            var r = slice.Allocate((ulong)(op % 8 + 1) * 4096, 4096UL << (op % 4));
            if (!r.IsOk) continue;
            ranges.Add((slice, new VaRange(r.Address, r.Size)));
            if (op % 3 == 0 && m.TryBack(r.Address, r.Size) is { } b)
                Mmap.MapSharedFixed(file, 0, r.Address, r.Size, (_, _) => m.Unback(b));
        }
        var ok = ranges.All(x => x.Slice.Contains(x.Range.Start, x.Range.Size))
                 && !ranges.Any(a => ranges.Any(b => a != b && a.Range.Start < b.Range.End && b.Range.Start < a.Range.End));
        foreach (var s in slices.Where((_, i) => i % 2 == 0)) s.Dispose();
        m.Dispose();
        return ok && ProcMaps.Overlapping(area.Start, area.End).Count == 0
               && slices.All(s => s.Allocate(4096, 0).Status == VaStatus.Disposed);
    }
}
