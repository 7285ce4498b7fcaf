using System.Runtime.InteropServices;
using VhsaKmt.Native.Hsa;
using VhsaKmt.Native.Interop;
using VhsaKmt.Native.Va;

namespace VhsaKmt.Native.Tests.Simulated;

public class SimulatedMemoryTests
{
    private const ulong MiB = 1 << 20;

    [Fact]
    public void Fixed_allocation_puts_real_shared_pages_at_the_address()
    {
        using var f = new SimulatedFixture();
        var va = f.Alloc(2 * MiB);
        Assert.Contains(ProcMaps.Overlapping(va, va + 2 * MiB), m => m.Permissions.StartsWith("rw-s"));

        Marshal.WriteInt64((nint)(va + MiB + 8), 0x1122_3344_5566_7788);
        Assert.True(f.Kfd.TryGetMemoryBacking(va + MiB, 4096, out var backing));
        Assert.Equal(MiB, backing.FdOffset);
        var buf = new byte[16];
        Assert.Equal(16, FileDescriptors.PRead(backing.Fd, buf, backing.FdOffset));
        Assert.Equal(0x1122_3344_5566_7788, BitConverter.ToInt64(buf, 8));

        // A second, independent mapping of the same file sees the same bytes (what the hypervisor gets).
        using var other = Mmap.MapShared(backing.Fd, 0, 2 * MiB);
        Assert.Equal(0x1122_3344_5566_7788, BitConverter.ToInt64(other.AsSpan(MiB + 8, 8)));
        Assert.Equal(1, f.Kfd.Counters.Allocations);
    }

    [Fact]
    public void Free_re_reserves_the_range_and_releases_the_slice_va()
    {
        using var f = new SimulatedFixture();
        var va = f.Alloc(MiB);
        Assert.Equal(VaStatus.Busy, f.Slice.Free(va).Status);
        Assert.Equal(HsaStatus.Success, f.Kfd.FreeMemory(va, MiB));
        Assert.All(ProcMaps.Overlapping(va, va + MiB), m => Assert.StartsWith("---p", m.Permissions));
        Assert.True(f.Slice.Free(va).IsOk);
        Assert.Equal(HsaStatus.MemoryNotRegistered, f.Kfd.FreeMemory(va, MiB));
        Assert.False(f.Kfd.TryGetMemoryBacking(va, 4096, out _));
        Assert.Equal(0, f.Kfd.Counters.Allocations);
    }

    [Theory]
    [InlineData(5u, 4096UL, VhsaKmtFlags.Fixed, HsaStatus.InvalidNodeUnit)]
    [InlineData(1u, 0UL, VhsaKmtFlags.Fixed, HsaStatus.InvalidParameter)]
    [InlineData(1u, 100UL, VhsaKmtFlags.Fixed, HsaStatus.InvalidParameter)]
    [InlineData(0u, 4096UL, VhsaKmtFlags.Scratch, HsaStatus.InvalidNodeUnit)]
    [InlineData(1u, 4096UL, VhsaKmtFlags.FixedOutside, HsaStatus.InvalidParameter)]
    [InlineData(1u, 4096UL, VhsaKmtFlags.FixedUnaligned, HsaStatus.InvalidParameter)]
    [InlineData(1u, 4096UL, VhsaKmtFlags.FixedInDoorbellWindow, HsaStatus.InvalidParameter)]
    public void Bad_allocations_get_the_thunk_status(uint node, ulong size, VhsaKmtFlags kind, HsaStatus expected)
    {
        using var f = new SimulatedFixture();
        var address = kind switch
        {
            VhsaKmtFlags.FixedOutside => 0x10_0000UL,
            VhsaKmtFlags.FixedUnaligned => f.Slice.Start + 12,
            VhsaKmtFlags.FixedInDoorbellWindow => f.Va.DoorbellWindow.Start,
            _ => f.Slice.Start,
        };
        var flags = HsaMemFlags.FixedAddress | (kind == VhsaKmtFlags.Scratch ? HsaMemFlags.Scratch : 0);
        Assert.Equal(expected, f.Kfd.AllocMemory(node, size, new HsaMemFlags(flags), ref address));
        Assert.Equal(0, f.Kfd.Counters.Allocations);
    }

    public enum VhsaKmtFlags { Fixed, Scratch, FixedOutside, FixedUnaligned, FixedInDoorbellWindow }

    [Fact]
    public void Overlapping_fixed_allocation_is_no_memory()
    {
        using var f = new SimulatedFixture();
        var va = f.Alloc(MiB);
        var again = va + 4096;
        Assert.Equal(HsaStatus.NoMemory, f.Kfd.AllocMemory(1, 4096, new HsaMemFlags(HsaMemFlags.FixedAddress | HsaMemFlags.NonPaged), ref again));
    }

    [Fact]
    public void Fixed_allocation_spanning_a_smaller_page_less_object_is_no_memory_not_an_exception()
    {
        using var f = new SimulatedFixture();
        var scratch = f.Slice.ScratchRange(0)!.Value;
        var inner = scratch.Start + MiB;
        Assert.Equal(HsaStatus.Success, f.Kfd.AllocMemory(1, MiB, new HsaMemFlags(HsaMemFlags.FixedAddress | HsaMemFlags.Scratch), ref inner));
        var outer = scratch.Start;
        Assert.Equal(HsaStatus.NoMemory, f.Kfd.AllocMemory(1, 4 * MiB, new HsaMemFlags(HsaMemFlags.FixedAddress | HsaMemFlags.Scratch), ref outer));
        Assert.Equal(1, f.Kfd.Counters.Allocations);
    }

    [Fact]
    public void Vram_is_accounted_and_exhaustion_is_no_memory()
    {
        var options = new VhsaKmt.Native.Simulated.SimulatedKfdOptions { Gpus = [new() { VramBytes = 4 * MiB }] };
        using var f = new SimulatedFixture(options);
        Assert.Equal(HsaStatus.Success, f.Kfd.AvailableMemory(1, out var before));
        Assert.Equal(4 * MiB, before);
        var a = f.Alloc(3 * MiB);
        f.Kfd.AvailableMemory(1, out var after);
        Assert.Equal(MiB, after);
        var r = f.Slice.Allocate(2 * MiB, 0);
        var b = r.Address;
        Assert.Equal(HsaStatus.NoMemory, f.Kfd.AllocMemory(1, 2 * MiB, new HsaMemFlags(HsaMemFlags.FixedAddress | HsaMemFlags.NonPaged), ref b));
        // System memory (no NonPaged) is a different bank.
        Assert.Equal(HsaStatus.Success, f.Kfd.AllocMemory(1, 2 * MiB, new HsaMemFlags(HsaMemFlags.FixedAddress | HsaMemFlags.HostAccess), ref b));
        f.Kfd.FreeMemory(a, 3 * MiB);
        f.Kfd.AvailableMemory(1, out var end);
        Assert.Equal(4 * MiB, end);
        Assert.Equal(HsaStatus.Error, f.Kfd.AvailableMemory(0, out _));
    }

    [Fact]
    public void NoAddress_allocation_returns_an_opaque_handle_still_backed_by_a_memfd()
    {
        using var f = new SimulatedFixture();
        ulong handle = 0;
        Assert.Equal(HsaStatus.Success, f.Kfd.AllocMemory(1, MiB, new HsaMemFlags(HsaMemFlags.NoAddress | HsaMemFlags.NonPaged), ref handle));
        Assert.NotEqual(0UL, handle);
        Assert.False(f.Va.Covers(handle, 1));
        Assert.True(f.Kfd.TryGetMemoryBacking(handle, MiB, out var backing));
        Assert.Equal(0UL, backing.FdOffset);
        Assert.Equal(HsaStatus.Success, f.Kfd.FreeMemory(handle, MiB));
        Assert.Equal(0, f.Kfd.Counters.Allocations);
    }

    [Fact]
    public void Gpu_map_unmap_bookkeeping()
    {
        using var f = new SimulatedFixture();
        var va = f.Alloc(MiB);
        Assert.Equal(HsaStatus.InvalidParameter, f.Kfd.MapMemoryToGpu(f.Slice.Start + f.Slice.Size - 4096, 4096, out _));
        Assert.Equal(HsaStatus.Error, f.Kfd.UnmapMemoryToGpu(va));
        Assert.Equal(HsaStatus.Success, f.Kfd.MapMemoryToGpu(va, MiB, out var alt));
        Assert.Equal(va, alt);
        Assert.Equal(HsaStatus.InvalidNodeUnit, f.Kfd.MapMemoryToGpuNodes(va, MiB, out _, 0, [0u]));
        Assert.Equal(HsaStatus.Success, f.Kfd.MapMemoryToGpuNodes(va, MiB, out _, 0, [1u]));
        Assert.Equal(2, f.Kfd.Counters.Mappings);

        var nodes = new uint[4];
        Assert.Equal(HsaStatus.Success, f.Kfd.QueryPointerInfo(va + 100, out var info, nodes));
        Assert.Equal((1u, 1u, va, MiB, 1u), (info.Type, info.Node, info.GPUAddress, info.SizeInBytes, info.NMappedNodes));
        Assert.Equal(1u, nodes[0]);

        Assert.Equal(HsaStatus.Success, f.Kfd.UnmapMemoryToGpu(va));
        Assert.Equal(HsaStatus.Success, f.Kfd.UnmapMemoryToGpu(va));
        Assert.Equal(HsaStatus.Error, f.Kfd.UnmapMemoryToGpu(va));
        Assert.Equal(HsaStatus.InvalidParameter, f.Kfd.UnmapMemoryToGpu(0x1000));
        Assert.Equal(HsaStatus.Error, f.Kfd.QueryPointerInfo(0x1000, out var unknown, nodes));
        Assert.Equal(0u, unknown.Type);
        Assert.Equal(0, f.Kfd.Counters.Mappings);
    }

    [Fact]
    public void Free_of_a_gpu_mapped_allocation_drops_its_mappings()
    {
        using var f = new SimulatedFixture();
        var va = f.Alloc(MiB);
        f.Kfd.MapMemoryToGpu(va, MiB, out _);
        f.Kfd.FreeMemory(va, MiB);
        Assert.Equal(default, f.Kfd.Counters.Snapshot());
    }

    [Fact]
    public void Userptr_registration_detects_double_registration_and_unknown_deregistration()
    {
        using var f = new SimulatedFixture();
        var user = Marshal.AllocHGlobal(8192);
        try
        {
            var a = (ulong)user;
            Assert.Equal(HsaStatus.Success, f.Kfd.RegisterMemoryWithFlags(a, 8192, default));
            Assert.Equal(HsaStatus.MemoryAlreadyRegistered, f.Kfd.RegisterMemoryWithFlags(a, 8192, default));
            Assert.Equal(HsaStatus.MemoryAlreadyRegistered, f.Kfd.RegisterMemoryWithFlags(a + 4096, 100, default));
            Assert.Equal(HsaStatus.Success, f.Kfd.QueryPointerInfo(a + 10, out var info, []));
            Assert.Equal(2u, info.Type);
            Assert.Equal(1, f.Kfd.Counters.Registrations);
            Assert.Equal(HsaStatus.MemoryNotRegistered, f.Kfd.DeregisterMemory(a + 4096));
            Assert.Equal(HsaStatus.Success, f.Kfd.DeregisterMemory(a));
            Assert.Equal(HsaStatus.MemoryNotRegistered, f.Kfd.DeregisterMemory(a));
            Assert.Equal(HsaStatus.InvalidParameter, f.Kfd.RegisterMemoryWithFlags(f.Slice.Start, 4096, default));
            Assert.Equal(0, f.Kfd.Counters.Registrations);
        }
        finally
        {
            Marshal.FreeHGlobal(user);
        }
    }

    [Fact]
    public void Share_and_import_see_the_same_bytes_and_import_can_be_placed()
    {
        using var f = new SimulatedFixture();
        var va = f.Alloc(MiB);
        Marshal.WriteInt32((nint)va, 77);
        Assert.Equal(HsaStatus.Success, f.Kfd.ShareMemory(va, MiB, out var handle));
        Assert.Equal(1, f.Kfd.Counters.Exports);

        ulong placed = 0;
        Assert.Equal(HsaStatus.Success, f.Kfd.RegisterSharedHandleToNodes(handle, [1u], size =>
        {
            var r = f.Slice.Allocate(size, 0);
            return placed = r.Address;
        }, out var imported, out var size));
        Assert.Equal(placed, imported);
        Assert.Equal(MiB, size);
        Assert.Equal(77, Marshal.ReadInt32((nint)imported));
        Marshal.WriteInt32((nint)imported + 4, 88);
        Assert.Equal(88, Marshal.ReadInt32((nint)va + 4));

        var bogus = handle;
        bogus[2] ^= 0xFFFF;
        Assert.Equal(HsaStatus.InvalidHandle, f.Kfd.RegisterSharedHandleToNodes(bogus, [], out _, out _));
        Assert.Equal(HsaStatus.InvalidNodeUnit, f.Kfd.RegisterSharedHandleToNodes(handle, [0u], out _, out _));
        Assert.Equal(HsaStatus.NoMemory, f.Kfd.RegisterSharedHandleToNodes(handle, [], _ => 0, out _, out _));

        // The import outlives the freed source (its own reference to the pages), and goes with DeregisterMemory.
        Assert.Equal(HsaStatus.Success, f.Kfd.FreeMemory(va, MiB));
        Assert.Equal(77, Marshal.ReadInt32((nint)imported));
        Assert.Equal(HsaStatus.Success, f.Kfd.DeregisterMemory(imported));
        Assert.Equal(default, f.Kfd.Counters.Snapshot());
    }

    [Fact]
    public void Export_dma_buf_is_a_dup_of_the_memfd_and_imports_as_graphics_handle()
    {
        using var f = new SimulatedFixture();
        var va = f.Alloc(MiB);
        Marshal.WriteInt64((nint)(va + 8192), 4242);
        Assert.Equal(HsaStatus.Success, f.Kfd.ExportDmaBuf(va + 8192, 4096, out var fd, out var offset));
        using (fd)
        {
            Assert.Equal(8192UL, offset);
            var buf = new byte[8];
            FileDescriptors.PRead(fd, buf, offset);
            Assert.Equal(4242, BitConverter.ToInt64(buf));
            Assert.Equal(HsaStatus.Success, f.Kfd.RegisterGraphicsHandleToNodes(fd, [1u], 0, out var info, new byte[64]));
            Assert.Equal(MiB, info.SizeInBytes);
            Assert.Equal(4242, Marshal.ReadInt64((nint)(info.MemoryAddress + 8192)));
            Assert.Equal(HsaStatus.Success, f.Kfd.DeregisterMemory(info.MemoryAddress));
        }
        Assert.Equal(HsaStatus.InvalidParameter, f.Kfd.ExportDmaBuf(0x1000, 4096, out _, out _));
        using var foreign = Memfd.Create("foreign", 4096);
        Assert.Equal(HsaStatus.InvalidHandle, f.Kfd.RegisterGraphicsHandleToNodes(foreign, [], 0, out _, []));
    }

    [Fact]
    public void Scratch_is_bookkeeping_only_inside_the_scratch_range()
    {
        using var f = new SimulatedFixture();
        var scratch = f.Slice.ScratchRange(0)!.Value;
        var address = scratch.Start;
        Assert.Equal(HsaStatus.Success, f.Kfd.AllocMemory(1, scratch.Size, new HsaMemFlags(HsaMemFlags.FixedAddress | HsaMemFlags.Scratch), ref address));
        Assert.False(f.Kfd.TryGetMemoryBacking(address, 4096, out _));
        Assert.All(ProcMaps.Overlapping(scratch.Start, scratch.End), m => Assert.StartsWith("---p", m.Permissions));
        Assert.Equal(HsaStatus.Success, f.Kfd.MapMemoryToGpu(address + 4096, 4096, out _));
        Assert.Equal(HsaStatus.Success, f.Kfd.UnmapMemoryToGpu(address + 4096));
        Assert.Equal(HsaStatus.Success, f.Kfd.FreeMemory(address, scratch.Size));
    }

    [Fact]
    public void Svm_attributes_round_trip_and_bad_types_are_refused()
    {
        using var f = new SimulatedFixture();
        var va = f.Alloc(MiB);
        Assert.Equal(HsaStatus.Success, f.Kfd.SvmSetAttr(va, MiB, [2UL | 1UL << 32, 5UL | 0x10UL << 32]));
        var attrs = new ulong[] { 2, 5, 0 };
        Assert.Equal(HsaStatus.Success, f.Kfd.SvmGetAttr(va, MiB, attrs));
        Assert.Equal([2UL | 1UL << 32, 5UL | 0x10UL << 32, 0UL], attrs);
        Assert.Equal(HsaStatus.InvalidParameter, f.Kfd.SvmSetAttr(va, MiB, [99UL]));
        Assert.Equal(HsaStatus.InvalidParameter, f.Kfd.SvmSetAttr(va + 1, MiB, []));
    }

    [Fact]
    public void Dispose_frees_everything_and_returns_all_pages_to_the_reservation()
    {
        var f = new SimulatedFixture();
        var a = f.Alloc(MiB);
        var b = f.Alloc(2 * MiB);
        f.Kfd.MapMemoryToGpu(a, MiB, out _);
        f.Kfd.ShareMemory(b, 2 * MiB, out _);
        ulong h = 0;
        f.Kfd.AllocMemory(1, MiB, new HsaMemFlags(HsaMemFlags.NoAddress), ref h);
        var area = f.Va.Area;
        f.Kfd.Dispose();
        Assert.Equal(default, f.Kfd.Counters.Snapshot());
        Assert.All(ProcMaps.Overlapping(area.Start, area.End), m => Assert.StartsWith("---p", m.Permissions));
        Assert.Equal(0, f.Va.LiveBackingCount);
        f.Dispose();
        Assert.Empty(ProcMaps.Overlapping(area.Start, area.End));
    }
}
