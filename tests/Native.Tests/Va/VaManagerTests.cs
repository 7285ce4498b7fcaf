using VhsaKmt.Native.Interop;
using VhsaKmt.Native.Va;

namespace VhsaKmt.Native.Tests.Va;

public class VaManagerTests
{
    [Fact]
    public void Reservation_is_visible_PROT_NONE_and_gone_after_dispose()
    {
        VaRange area;
        using (var m = TestVa.Create())
        {
            area = m.Area;
            var maps = ProcMaps.Overlapping(area.Start, area.End);
            Assert.NotEmpty(maps);
            Assert.All(maps, x => Assert.StartsWith("---p", x.Permissions));
            Assert.Equal(area.Size, maps.Aggregate(0UL, (s, x) => s + (Math.Min(x.End, area.End) - Math.Max(x.Start, area.Start))));
        }
        Assert.Empty(ProcMaps.Overlapping(area.Start, area.End));
    }

    [Fact]
    public void Default_options_fit_256_slices_below_the_guest_region()
    {
        var o = new VaOptions();
        Assert.Equal(0x1000_0000_0000UL, o.Base);
        Assert.True(o.SliceCount >= 256);
        var end = o.Base + o.SliceSize * (ulong)o.SliceCount + o.ScratchSizePerNode * (ulong)o.SliceCount * (ulong)o.GpuNodeCount + o.DoorbellWindowSize;
        Assert.True(end <= o.GuestRegionFloor - o.Margin);
    }

    [Fact]
    public void The_default_layout_reserves_its_9_TiB_at_16_TiB()
    {
        using var m = new VaManager(new VaOptions());
        Assert.Equal(0x1000_0000_0000UL, m.Area.Start);
        Assert.Equal(256, m.FreeSliceCount);
        var maps = ProcMaps.Overlapping(m.Area.Start, m.Area.End);
        Assert.Equal(m.Area.Size, maps.Aggregate(0UL, (s, x) => s + (Math.Min(x.End, m.Area.End) - Math.Max(x.Start, m.Area.Start))));
        var last = Enumerable.Range(0, 256).Select(_ => m.ReserveSlice()!).ToList()[^1]; // ToList: Last() alone would run the selector once
        Assert.Equal(m.SliceArea.End, last.Start + last.Size);
        Assert.True(last.ScratchRange(0)!.Value.End <= m.DoorbellWindow.Start);
    }

    [Fact]
    public void A_second_manager_over_the_same_range_is_refused()
    {
        var o = TestVa.Options();
        using var m = new VaManager(o);
        Assert.Throws<InvalidOperationException>(() => new VaManager(o));
    }

    [Fact]
    public void Options_ending_too_close_to_the_guest_region_are_refused()
    {
        var o = TestVa.Options() with { Base = 0x5400_0000_0000 };
        Assert.Throws<ArgumentException>(() => new VaManager(o));
    }

    [Fact]
    public void Slices_are_disjoint_exhaust_and_are_reused_after_dispose()
    {
        using var m = TestVa.Create(slices: 3);
        var s = Enumerable.Range(0, 3).Select(_ => m.ReserveSlice()!).ToList();
        Assert.Null(m.ReserveSlice());
        Assert.Equal(3, s.Select(x => x.Start).Distinct().Count());
        Assert.All(s, x => Assert.True(m.SliceArea.Contains(x.Start, x.Size)));
        Assert.All(s, x => Assert.False(x.Contains(m.DoorbellWindow.Start, 1)));
        var scratch = s.Select(x => x.ScratchRange(0)!.Value).ToList();
        Assert.All(scratch, r => Assert.True(m.ScratchArea.Contains(r.Start, r.Size)));
        Assert.Equal(3, scratch.Distinct().Count());
        var second = s[1].Start;
        s[1].Dispose();
        Assert.Equal(1, m.FreeSliceCount);
        var again = m.ReserveSlice()!;
        Assert.Equal(second, again.Start);
        Assert.Equal(0, again.AllocationCount);
    }

    [Fact]
    public void Slice_operations_return_results_and_scratch_is_per_node()
    {
        using var m = TestVa.Create(gpuNodes: 2);
        using var s = m.ReserveSlice()!;
        var a = s.Allocate(2 << 20, 2 << 20);
        Assert.True(a.IsOk);
        Assert.True(s.Contains(a.Address, a.Size));
        Assert.Equal(VaStatus.Foreign, s.AllocateAt(s.Start + s.Size, 4096).Status);
        Assert.Equal(VaStatus.Foreign, s.Free(m.DoorbellWindow.Start).Status);
        var sc = s.AllocateScratch(1, 1 << 20, 0);
        Assert.True(s.ScratchRange(1)!.Value.Contains(sc.Address, sc.Size));
        Assert.Equal(VaStatus.Foreign, s.AllocateScratch(2, 4096, 0).Status);
        Assert.True(s.Free(sc.Address).IsOk);
        Assert.True(s.Free(a.Address).IsOk);
        Assert.Equal(VaStatus.DoubleFree, s.Free(a.Address).Status);
        s.Dispose();
        Assert.Equal(VaStatus.Disposed, s.Allocate(4096, 0).Status);
    }

    [Fact]
    public void Backed_ranges_block_free_and_slice_dispose_reclaims_them()
    {
        using var m = TestVa.Create();
        var s = m.ReserveSlice()!;
        var a = s.Allocate(1 << 20, 0);
        var backing = m.TryBack(a.Address, a.Size)!;
        Assert.NotNull(backing);
        Assert.Null(m.TryBack(a.Address, 4096));           // overlap
        Assert.Null(m.TryBack(m.Area.End, 4096));          // outside
        Mmap.MapSharedFixed(Memfd.Create("t", a.Size), 0, a.Address, a.Size, (_, _) => { }); // real pages over the reservation
        Assert.Contains(ProcMaps.Overlapping(a.Address, a.Address + a.Size), x => x.Permissions.StartsWith("rw-s"));
        Assert.Equal(VaStatus.Busy, s.Free(a.Address).Status);
        s.Dispose();
        Assert.False(backing.IsValid);
        Assert.Equal(0, m.LiveBackingCount);
        Assert.All(ProcMaps.Overlapping(a.Address, a.Address + a.Size), x => Assert.StartsWith("---p", x.Permissions));
        m.Unback(backing); // already reclaimed: no effect
    }

    [Fact]
    public void Unback_re_reserves_and_allows_free()
    {
        using var m = TestVa.Create();
        using var s = m.ReserveSlice()!;
        var a = s.Allocate(1 << 20, 0);
        var b = m.TryBack(a.Address, a.Size)!;
        using var fd = Memfd.Create("t", a.Size);
        var region = Mmap.MapSharedFixed(fd, 0, a.Address, a.Size, (_, _) => m.Unback(b));
        region.AsSpan(0, 4)[0] = 42;
        region.Dispose();
        Assert.All(ProcMaps.Overlapping(a.Address, a.Address + a.Size), x => Assert.StartsWith("---p", x.Permissions));
        Assert.True(s.Free(a.Address).IsOk);
    }
}
