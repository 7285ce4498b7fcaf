using VhsaKmt.Native.Hsa;
using VhsaKmt.TestSupport.Guest;
using VhsaKmt.Transport.VirtioGpu;
using Xunit;

namespace VhsaKmt.Integration.Tests.EndToEnd;

[Collection(EndToEndCollection.Name)]
public sealed class MemoryTests
{
    private const uint SystemFlags = HsaMemFlags.HostAccess | HsaMemFlags.CoarseGrain;
    private const uint VramFlags = HsaMemFlags.NonPaged | HsaMemFlags.CoarseGrain;

    [Fact]
    public async Task System_memory_is_mirrored_mapped_to_the_gpu_and_shared_through_the_host_visible_window()
    {
        await using var d = await DaemonHarness.StartAsync();
        var vmm = d.Connect();
        var p = DaemonHarness.Process(new GuestGpu(vmm));
        Assert.Equal(0, p.OpenKfd().Ret);
        var before = d.Kfd.Counters.Snapshot();

        var a = p.AllocMemory(0, 0x4000, SystemFlags, alignment: 0x10000);
        Assert.Equal(0, a.Ret);
        Assert.Equal(VirtioGpuCtrlType.VIRTIO_GPU_RESP_OK_NODATA, a.BlobStatus);
        Assert.Equal(0UL, a.Va % 0x10000);
        Assert.True(a.Va >= p.VmStart && a.Va + 0x4000 <= p.VmStart + p.VmSize, "allocation inside the context's VM area");
        Assert.NotNull(a.Blob!.ShmOffset);
        Assert.Equal(before.Allocations + 1, d.Kfd.Counters.Allocations);

        Assert.Equal(0, p.MapToGpuNodes(a.Va, 0x4000, [1], a.Blob.ResId).Ret);
        Assert.Equal(before.Mappings + 1, d.Kfd.Counters.Mappings);

        // The guest writes through its mapping of the blob (the hypervisor's window); the host sees it at the same VA.
        var pattern = Enumerable.Range(0, 0x4000).Select(i => (byte)(i * 7 + 3)).ToArray();
        vmm.Window!.Write(a.Blob.ShmOffset!.Value, pattern);
        Assert.Equal(pattern, DaemonHarness.ReadHost(a.Va, pattern.Length));

        Assert.Equal(0, p.UnmapFromGpu(a.Va).Ret);
        Assert.Equal(before.Mappings, d.Kfd.Counters.Mappings);
        p.Release(a.Blob);
        await DaemonHarness.Eventually(() => d.Kfd.Counters.Snapshot() == before, "allocation freed");
        Assert.DoesNotContain(vmm.Window.Mappings, m => m.ShmOffset == a.Blob.ShmOffset);
    }

    [Fact]
    public async Task Vram_allocation_lowers_available_memory_until_released()
    {
        await using var d = await DaemonHarness.StartAsync();
        var p = DaemonHarness.Process(new GuestGpu(d.Connect()));
        Assert.Equal(0, p.OpenKfd().Ret);
        var (r0, avail0) = p.AvailableMemory(1);
        Assert.Equal(0, r0);

        var v = p.AllocMemory(1, 64UL << 20, VramFlags);
        Assert.Equal(0, v.Ret);
        Assert.Equal(0UL, v.Va % (2UL << 20)); // device-local: 2 MiB aligned
        Assert.Null(v.Blob!.ShmOffset);         // not host-accessible: no mapping
        var (_, avail1) = p.AvailableMemory(1);
        Assert.Equal(avail0 - (64UL << 20), avail1);

        p.Release(v.Blob);
        await DaemonHarness.Eventually(() => d.Kfd.Counters.Allocations == 0, "VRAM freed");
        Assert.Equal(avail0, p.AvailableMemory(1).Bytes);
    }

    [Fact]
    public async Task A_mappable_blob_on_an_object_that_must_not_be_mapped_is_refused_and_the_object_stays_parked()
    {
        await using var d = await DaemonHarness.StartAsync();
        var vmm = d.Connect();
        var p = DaemonHarness.Process(new GuestGpu(vmm));
        Assert.Equal(0, p.OpenKfd().Ret);
        int maps = vmm.ShmemMaps;

        var ev = p.CreateEvent(blobFlags: VirtioGpuConst.VIRTIO_GPU_BLOB_FLAG_USE_MAPPABLE);
        Assert.Equal(0, ev.Ret);
        Assert.Equal(VirtioGpuCtrlType.VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, ev.BlobStatus);
        Assert.Equal(maps, vmm.ShmemMaps); // nothing of the host's event bookkeeping reached the guest

        // PROTOCOL.md §2.9: the object stays parked under its blob_id; the blob without MAPPABLE binds.
        var blob = p.CreateBlob(ev.Blob!.BlobId, 4096, 0, out var retry);
        Assert.Equal(VirtioGpuCtrlType.VIRTIO_GPU_RESP_OK_NODATA, retry);
        Assert.Equal(0, p.SetEvent(ev with { Blob = blob }).Ret);
    }

    [Fact]
    public async Task Userptr_blob_lets_the_host_see_the_guest_pages()
    {
        await using var d = await DaemonHarness.StartAsync();
        var vmm = d.Connect();
        var p = DaemonHarness.Process(new GuestGpu(vmm));
        Assert.Equal(0, p.OpenKfd().Ret);
        // Two guest pages in different places of guest RAM (pinned user pages are rarely contiguous).
        ulong g1 = vmm.Ram.Allocator.Alloc(4096, 4096), g2 = vmm.Ram.Allocator.Alloc(4096, 4096);
        var pattern = Enumerable.Range(0, 8192).Select(i => (byte)(i ^ 0x5a)).ToArray();
        vmm.Ram.Write(g1, pattern.AsSpan(0, 4096));
        vmm.Ram.Write(g2, pattern.AsSpan(4096));

        var u = p.RegisterUserptr([(g1, 4096u), (g2, 4096u)]);
        Assert.Equal(VirtioGpuCtrlType.VIRTIO_GPU_RESP_OK_NODATA, u.BlobStatus);
        Assert.Equal(0, u.MapRet);
        Assert.Equal(0, u.RegisterRet);
        Assert.NotEqual(0UL, u.HostVa);
        Assert.Equal(8192u, u.Bytes);
        Assert.Equal(pattern, DaemonHarness.ReadHost(u.HostVa, 8192));

        vmm.Ram.Write(g2 + 100, new byte[] { 1, 2, 3 });
        Assert.Equal(new byte[] { 1, 2, 3 }, DaemonHarness.ReadHost(u.HostVa + 4096 + 100, 3));
        p.Release(u.Blob);
        await DaemonHarness.Eventually(() => d.Kfd.Counters.Registrations == 0, "userptr deregistered");
    }
}
