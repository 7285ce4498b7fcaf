using VhsaKmt.Native;
using VhsaKmt.Native.Hsa;
using VhsaKmt.Robustness.Tests.Support;
using VhsaKmt.TestSupport.Guest;
using VhsaKmt.TestSupport.Vmm;
using Xunit;
using static VhsaKmt.Transport.VirtioGpu.VirtioGpuCtrlType;

namespace VhsaKmt.Robustness.Tests;

/// <summary>
/// The hypervisor refuses SHMEM_MAP (out of address space, a policy): RESOURCE_MAP_BLOB answers ERR_UNSPEC, the
/// context keeps serving ccmds, another VM is untouched, and after teardown every leak counter is at its baseline.
/// </summary>
public sealed class ShmemMapRefusalTests : IDisposable
{
    private readonly HostileDaemon _daemon = new();
    private readonly Actors.Diagnostics.LeakSnapshot _baseline;

    public ShmemMapRefusalTests()
    {
        // The KFD's event page is process-wide and outlives its events: make it before the baseline.
        Assert.Equal(HsaStatus.Success, _daemon.Kfd.CreateEvent(new HsaEventDescriptor { NodeId = 1 }, false, false, out _, out ulong ev));
        Assert.Equal(HsaStatus.Success, _daemon.Kfd.DestroyEvent(ev));
        _baseline = _daemon.Leaks();
    }

    private (TestVmm Vmm, RocmProcess P) Guest(string name)
    {
        var vmm = _daemon.Connect();
        var p = HostileDaemon.Process(new GuestGpu(vmm), name);
        Assert.Equal(0, p.OpenKfd().Ret);
        return (vmm, p);
    }

    [Fact]
    public void Refused_blob_map_is_ERR_UNSPEC_and_the_context_and_another_vm_keep_working()
    {
        var (vmm, p) = Guest("refused");
        var (bystanderVmm, bystander) = Guest("bystander");
        int mapsBefore = vmm.ShmemMaps;
        int windowBefore = vmm.Window!.Mappings.Count;

        vmm.RefuseShmemMap = true;
        var a = p.AllocMemory(1, 64 << 10, HsaMemFlags.HostAccess);
        Assert.Equal(0, a.Ret);
        Assert.Equal(VIRTIO_GPU_RESP_ERR_UNSPEC, a.BlobStatus);
        Assert.Null(a.Blob!.ShmOffset);
        Assert.Equal(mapsBefore + 1, vmm.ShmemMaps); // the request did reach the front-end
        Assert.Equal(windowBefore, vmm.Window.Mappings.Count); // and nothing was mapped
        Assert.Null(vmm.BackendChannelError);

        // The context still answers ccmds through its (earlier mapped) shmem.
        var (ret, props) = p.GetSystemProperties();
        Assert.Equal(0, ret);
        Assert.NotEqual(0u, props.NumNodes);

        // Another VM maps blobs as usual.
        var b = bystander.AllocMemory(1, 64 << 10, HsaMemFlags.HostAccess);
        Assert.Equal(0, b.Ret);
        Assert.Equal(VIRTIO_GPU_RESP_OK_NODATA, b.BlobStatus);
        Assert.NotNull(b.Blob!.ShmOffset);

        // Once the front-end maps again, so does the same context.
        vmm.RefuseShmemMap = false;
        var c = p.AllocMemory(1, 4096, HsaMemFlags.HostAccess);
        Assert.Equal(VIRTIO_GPU_RESP_OK_NODATA, c.BlobStatus);
        Assert.NotNull(c.Blob!.ShmOffset);

        p.Exit();
        bystander.Exit();
        _daemon.Disconnect(vmm);
        _daemon.Disconnect(bystanderVmm);
        HostileDaemon.Eventually(() => _daemon.DeviceCount == 0, "devices stopped after disconnect");
        _daemon.AssertBackToBaseline(_baseline);
    }

    [Fact]
    public void Process_whose_shmem_map_is_refused_fails_cleanly_and_leaves_nothing()
    {
        var vmm = _daemon.Connect();
        var gpu = new GuestGpu(vmm);
        vmm.RefuseShmemMap = true;
        var p = new RocmProcess(gpu, "no-shmem");
        var refused = Assert.Throws<InvalidOperationException>(p.Start);
        Assert.Contains(nameof(VIRTIO_GPU_RESP_ERR_UNSPEC), refused.Message);
        Assert.Null(vmm.BackendChannelError);
        p.Exit(); // releases the unmapped shmem blob and destroys the context

        // The same VM starts the next process once the front-end maps again.
        vmm.RefuseShmemMap = false;
        var next = HostileDaemon.Process(gpu, "next");
        Assert.Equal(0, next.OpenKfd().Ret);
        Assert.Equal(0, next.GetSystemProperties().Ret);
        next.Exit();
        _daemon.Disconnect(vmm);
        HostileDaemon.Eventually(() => _daemon.DeviceCount == 0, "device stopped after disconnect");
        _daemon.AssertBackToBaseline(_baseline);
    }

    public void Dispose() => _daemon.Dispose();
}
