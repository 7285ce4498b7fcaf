using VhsaKmt.Native.Va;

namespace VhsaKmt.Native.Tests.Va;

public class VaArenaTests
{
    private const ulong Page = 4096, Base = 0x1000_0000;
    private static VaArena NewArena(ulong pages = 256) => new(new VaRange(Base, pages * Page), Page);

    [Theory]
    [InlineData(0UL, 0UL, VaStatus.InvalidSize)]
    [InlineData(100UL, 0UL, VaStatus.InvalidSize)]
    [InlineData(Page, 3 * Page, VaStatus.InvalidAlignment)]
    [InlineData(Page, 1024UL, VaStatus.InvalidAlignment)]
    [InlineData(257 * Page, 0UL, VaStatus.OutOfSpace)]
    [InlineData(Page, 1UL << 62, VaStatus.OutOfSpace)]
    public void Allocate_rejects_bad_requests(ulong size, ulong alignment, VaStatus expected)
    {
        var a = NewArena();
        Assert.Equal(expected, a.Allocate(size, alignment).Status);
        Assert.Equal(256 * Page, a.FreeBytes);
    }

    [Fact]
    public void Allocate_honours_alignment_and_splits_waste()
    {
        var a = NewArena(1024);
        var first = a.Allocate(Page, 0);
        Assert.Equal(Base, first.Address);
        var aligned = a.Allocate(2 * Page, 64 * Page);
        Assert.True(aligned.IsOk);
        Assert.Equal(0UL, aligned.Address % (64 * Page));
        // The waste between the two allocations stays usable.
        var filler = a.AllocateAt(Base + Page, Page);
        Assert.True(filler.IsOk);
        Assert.Equal((1024 - 4) * Page, a.FreeBytes);
    }

    [Fact]
    public void Best_fit_prefers_the_smallest_fragment()
    {
        var a = NewArena(64);
        var x = a.Allocate(4 * Page, 0).Address;   // [0,4)
        a.Allocate(Page, 0);                        // [4,5)
        var y = a.Allocate(2 * Page, 0).Address;   // [5,7)
        a.Allocate(Page, 0);                        // [7,8)
        a.Free(x);
        a.Free(y);
        Assert.Equal(y, a.Allocate(2 * Page, 0).Address);
    }

    [Fact]
    public void AllocateAt_detects_overlap_foreign_and_misalignment()
    {
        var a = NewArena();
        Assert.True(a.AllocateAt(Base + 8 * Page, 4 * Page).IsOk);
        Assert.Equal(VaStatus.Overlap, a.AllocateAt(Base + 10 * Page, 4 * Page).Status);
        Assert.Equal(VaStatus.Overlap, a.AllocateAt(Base + 6 * Page, 4 * Page).Status);
        Assert.Equal(VaStatus.Foreign, a.AllocateAt(Base - Page, Page).Status);
        Assert.Equal(VaStatus.Foreign, a.AllocateAt(Base + 255 * Page, 2 * Page).Status);
        Assert.Equal(VaStatus.InvalidAlignment, a.AllocateAt(Base + 1, Page).Status);
        Assert.True(a.AllocateAt(Base + 12 * Page, Page).IsOk);
    }

    [Fact]
    public void Free_detects_double_free_interior_and_foreign_addresses()
    {
        var a = NewArena();
        var r = a.Allocate(4 * Page, 0);
        Assert.Equal(VaStatus.NotAllocated, a.Free(r.Address + Page).Status);
        Assert.Equal(VaStatus.Foreign, a.Free(Base + 256 * Page).Status);
        Assert.Equal(new VaResult(VaStatus.Ok, r.Address, 4 * Page), a.Free(r.Address));
        Assert.Equal(VaStatus.DoubleFree, a.Free(r.Address).Status);
        Assert.Equal(256 * Page, a.FreeBytes);
    }

    [Fact]
    public void Free_coalesces_so_the_whole_range_is_allocatable_again()
    {
        var a = NewArena(16);
        var parts = Enumerable.Range(0, 16).Select(_ => a.Allocate(Page, 0).Address).ToList();
        Assert.Equal(VaStatus.OutOfSpace, a.Allocate(Page, 0).Status);
        foreach (var p in parts.Where((_, i) => i % 2 == 0)) a.Free(p);
        foreach (var p in parts.Where((_, i) => i % 2 == 1)) a.Free(p);
        Assert.Equal(new VaResult(VaStatus.Ok, Base, 16 * Page), a.Allocate(16 * Page, 0));
    }

    [Fact]
    public void TryFindAllocation_finds_the_containing_allocation_only()
    {
        var a = NewArena();
        var r = a.AllocateAt(Base + 4 * Page, 4 * Page);
        Assert.True(a.TryFindAllocation(Base + 5 * Page, Page, out var found));
        Assert.Equal(new VaRange(r.Address, r.Size), found);
        Assert.False(a.TryFindAllocation(Base + 7 * Page, 2 * Page, out _));
        Assert.False(a.TryFindAllocation(Base + 3 * Page, 1, out _));
        Assert.False(a.TryFindAllocation(Base + 8 * Page, 1, out _));
    }
}
