using VhsaKmt.Native.Hsa;
using VhsaKmt.TestSupport.Guest;
using VhsaKmt.Transport.VirtioGpu;
using Xunit;

namespace VhsaKmt.Integration.Tests.EndToEnd;

[Collection(EndToEndCollection.Name)]
public sealed class TeardownTests
{
    private const uint HostMem = HsaMemFlags.HostAccess | HsaMemFlags.CoarseGrain;

    /// <summary>A guest process holding mapped host memory (GPU-mapped), VRAM, an event and an AQL queue with its ring.</summary>
    private static RocmProcess BusyProcess(DaemonHarness d, GuestGpu gpu, string name)
    {
        var p = DaemonHarness.Process(gpu, name);
        Assert.Equal(0, p.OpenKfd().Ret);
        var host = p.AllocMemory(0, 0x8000, HostMem);
        Assert.Equal(0, p.MapToGpuNodes(host.Va, 0x8000, [1], host.Blob!.ResId).Ret);
        Assert.Equal(0, p.AllocMemory(1, 2UL << 20, HsaMemFlags.NonPaged).Ret);
        Assert.Equal(0, p.CreateEvent().Ret);
        var ring = p.AllocMemory(1, 0x10000, HostMem);
        var rw = p.AllocMemory(1, 0x1000, HostMem);
        Assert.Equal(0, p.CreateQueue(1, 21, ring, 0x10000, rw, rw.Va, rw.Va + 8).Ret);
        Assert.True(d.Kfd.Counters.Queues > 0 && d.Kfd.Counters.Events > 0 && d.Kfd.Counters.Mappings > 0);
        return p;
    }

    [Fact]
    public async Task Context_destroy_with_live_objects_releases_everything_and_late_unrefs_still_work()
    {
        await using var d = await DaemonHarness.StartAsync();
        await d.WarmUpAsync();
        var vmm = d.Connect();
        var gpu = new GuestGpu(vmm);
        var baseline = d.Leaks();
        var p = BusyProcess(d, gpu, "crashy");
        var device = (await d.DevicesAsync()).Values.Single();
        Assert.True(await d.ContextAliveAsync(device, p.CtxId));

        // A crashed process: the kernel destroys the context first, its blobs are released afterwards (VHOST-USER.md §7).
        Assert.True(p.DestroyContextNow().Ok);
        await DaemonHarness.Eventually(() => d.Kfd.Counters.Snapshot().IsZero, "KFD objects of the destroyed context released");
        await DaemonHarness.Eventually(() => !d.ContextAliveAsync(device, p.CtxId).Result, "context actor stopped");

        foreach (var blob in p.LiveBlobs)
        {
            if (blob.ShmOffset is not null) Assert.Equal(VirtioGpuCtrlType.VIRTIO_GPU_RESP_OK_NODATA, gpu.Command(GpuRequests.UnmapBlob(p.CtxId, blob.ResId)).Type);
            Assert.Equal(VirtioGpuCtrlType.VIRTIO_GPU_RESP_OK_NODATA, gpu.Command(GpuRequests.Unref(blob.ResId)).Type);
        }
        Assert.Equal(VirtioGpuCtrlType.VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID,
            gpu.Command(GpuRequests.Submit3D(p.CtxId, new byte[16], GpuRequests.FenceAndRing, gpu.NextFence())).Type);
        Assert.Empty(vmm.Window!.Mappings);
        await DaemonHarness.Eventually(() => d.Leaks() == baseline, $"leak counters back to {baseline} (now {d.Leaks()})");
    }

    [Fact]
    public async Task Hypervisor_disconnect_with_live_objects_tears_every_context_down_and_stops_the_device()
    {
        await using var d = await DaemonHarness.StartAsync();
        await d.WarmUpAsync();
        var baseline = d.Leaks();
        var vmm = d.Connect();
        var gpu = new GuestGpu(vmm);
        BusyProcess(d, gpu, "a");
        BusyProcess(d, gpu, "b");
        Assert.Single(await d.DevicesAsync());
        var other = new GuestGpu(d.Connect()); // a second VM keeps working throughout
        var survivor = DaemonHarness.Process(other, "survivor");
        Assert.Equal(0, survivor.OpenKfd().Ret);
        var leaksWithSurvivor = d.Leaks();

        vmm.Dispose();
        await DaemonHarness.Eventually(() => d.DevicesAsync().Result.Count == 1, "device of the disconnected VM stopped");
        Assert.Equal(0, survivor.GetSystemProperties().Ret);
        await DaemonHarness.Eventually(() => d.Kfd.Counters.Snapshot().IsZero, "every KFD object of the VM released");
        Assert.True(d.Leaks().FreeSlices >= leaksWithSurvivor.FreeSlices);

        survivor.Exit();
        other.Vmm.Dispose();
        await DaemonHarness.Eventually(() => d.DevicesAsync().Result.Count == 0, "every device stopped");
        await DaemonHarness.Eventually(() => d.Leaks() == baseline, $"leak counters back to {baseline} (now {d.Leaks()})");
    }
}
