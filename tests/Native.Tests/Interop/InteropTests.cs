using VhsaKmt.Native.Interop;

namespace VhsaKmt.Native.Tests.Interop;

public class InteropTests
{
    [Fact]
    public void Memfd_is_sized_and_sealed_against_resizing()
    {
        using var m = Memfd.Create("t", 3 * 4096);
        Assert.Equal(3UL * 4096, m.Size);
        const int sealShrink = 0x2, sealGrow = 0x4, sealSeal = 0x1;
        Assert.Equal(sealShrink | sealGrow | sealSeal, m.Seals & (sealShrink | sealGrow | sealSeal));
        using var fs = new FileStream(m.Duplicate(), FileAccess.ReadWrite);
        Assert.Equal(3L * 4096, fs.Length);
        Assert.ThrowsAny<UnauthorizedAccessException>(() => fs.SetLength(4096)); // EPERM from the seal
    }

    [Fact]
    public void Shared_mappings_of_one_memfd_see_each_others_writes()
    {
        using var m = Memfd.Create("t", 8192);
        using var a = Mmap.MapShared(m, 0, 8192);
        using var b = Mmap.MapShared(m, 4096, 4096);
        a.AsSpan(4096 + 10, 1)[0] = 0x5A;
        Assert.Equal(0x5A, b.AsSpan(10, 1)[0]);
        a.U64(4096 + 16) = 0x0102_0304_0506_0708;
        var buf = new byte[8];
        Assert.Equal(8, FileDescriptors.PRead(m, buf, 4096 + 16));
        Assert.Equal(0x0102_0304_0506_0708L, BitConverter.ToInt64(buf));
        Assert.Throws<ArgumentOutOfRangeException>(() => b.AsSpan(4000, 200));
        Assert.Throws<ArgumentOutOfRangeException>(() => b.U64(3));
    }

    [Fact]
    public void Reserve_refuses_an_occupied_range_and_unmaps_on_dispose()
    {
        const ulong at = 0x3F00_0000_0000, size = 1 << 20;
        var r = Mmap.TryReserve(at, size);
        Assert.NotNull(r);
        Assert.Null(Mmap.TryReserve(at + 4096, 4096));
        r!.Dispose();
        r.Dispose();
        Assert.Empty(ProcMaps.Overlapping(at, at + size));
        Assert.Throws<ObjectDisposedException>(() => r.AsSpan(0, 1));
    }

    [Fact]
    public void Fixed_mapping_over_a_reservation_hands_the_range_back_on_dispose()
    {
        const ulong at = 0x3F10_0000_0000, size = 1 << 20;
        using var reservation = Mmap.TryReserve(at, size)!;
        using var m = Memfd.Create("t", 4096);
        var released = 0;
        var page = Mmap.MapSharedFixed(m, 0, at + 8192, 4096, (a, l) => { Mmap.Rereserve(a, l); released++; });
        Assert.Equal(at + 8192, page.Address);
        Assert.Contains(ProcMaps.Overlapping(at, at + size), x => x.Permissions.StartsWith("rw-s") && x.Start == at + 8192);
        page.Dispose();
        page.Dispose();
        Assert.Equal(1, released);
        Assert.All(ProcMaps.Overlapping(at, at + size), x => Assert.StartsWith("---p", x.Permissions));
    }

    [Fact]
    public void Eventfd_counts_and_reads_non_blocking()
    {
        using var e = EventFd.Create();
        Assert.Equal(0UL, EventFd.Drain(e));
        EventFd.Signal(e);
        EventFd.Signal(e, 2);
        Assert.Equal(3UL, EventFd.Drain(e));
        Assert.Equal(0UL, EventFd.Drain(e));
    }

    [Fact]
    public void File_identity_distinguishes_memfds_and_matches_dups()
    {
        using var a = Memfd.Create("a", 4096);
        using var b = Memfd.Create("b", 4096);
        using var dup = a.Duplicate();
        Assert.Equal(FileStat.Identity(a), FileStat.Identity(dup));
        Assert.NotEqual(FileStat.Identity(a), FileStat.Identity(b));
        Assert.Equal(Errno.EINVAL, new LibcException("x", Errno.EINVAL).Errno);
    }
}
