using VhsaKmt.Native;
using VhsaKmt.Native.Faults;
using VhsaKmt.Native.Hsa;
using VhsaKmt.Robustness.Tests.Support;
using VhsaKmt.TestSupport.Guest;
using VhsaKmt.TestSupport.Vmm;
using VhsaKmt.Transport.Hsakmt;
using Xunit;
using static VhsaKmt.Transport.VirtioGpu.VirtioGpuCtrlType;

namespace VhsaKmt.Robustness.Tests;

/// <summary>
/// Faults from below (the KFD fails or throws) and from the side (the hypervisor vanishes): the guest sees an error
/// for the affected ccmd, the next ccmd works, and after teardown every leak counter is back at its baseline.
/// Each test runs its own daemon so a broken one cannot hide behind another test's state.
/// </summary>
public sealed class FaultInjectionTests : IDisposable
{
    private const int EIO = -5;
    private readonly HostileDaemon _daemon = new();
    private readonly Actors.Diagnostics.LeakSnapshot _baseline;

    public FaultInjectionTests()
    {
        // The KFD's event page is process-wide and outlives its events (as on the real KFD): make it before the baseline.
        Assert.Equal(HsaStatus.Success, _daemon.Kfd.CreateEvent(new HsaEventDescriptor { NodeId = 1 }, false, false, out _, out ulong ev));
        Assert.Equal(HsaStatus.Success, _daemon.Kfd.DestroyEvent(ev));
        _baseline = _daemon.Leaks();
    }

    private static byte[] GetVer() => RawCcmd.Request(new CcmdQueryInfoReq { type = (uint)QueryType.GetVer });

    private (TestVmm Vmm, GuestGpu Gpu, RocmProcess P) Guest()
    {
        var vmm = _daemon.Connect();
        var gpu = new GuestGpu(vmm);
        var p = HostileDaemon.Process(gpu, "faulty");
        Assert.Equal(0, p.OpenKfd().Ret);
        return (vmm, gpu, p);
    }

    [Theory]
    [InlineData(KfdFault.NoMemory, (int)HsaStatus.NoMemory)]
    [InlineData(KfdFault.DeviceLost, (int)HsaStatus.KernelCommunicationError)]
    public void Kfd_failure_reaches_the_guest_as_its_status_and_the_next_call_works(KfdFault fault, int expected)
    {
        var (vmm, _, p) = Guest();
        _daemon.Faults.Fail(nameof(IKfd.AllocMemory), fault);
        var failed = p.AllocMemory(1, 4096, HsaMemFlags.HostAccess);
        Assert.Equal(expected, failed.Ret);
        var ok = p.AllocMemory(1, 4096, HsaMemFlags.HostAccess);
        Assert.Equal(0, ok.Ret);
        Assert.Equal(1, _daemon.Kfd.Counters.Allocations);
        p.Exit();
        _daemon.Disconnect(vmm);
        _daemon.AssertBackToBaseline(_baseline);
    }

    [Fact]
    public void Handler_that_throws_answers_EIO_restarts_the_context_and_the_next_ccmd_works()
    {
        using var restarts = new VhsaKmt.TestSupport.Metrics.CounterProbe("vhsakmt.supervisor.restarts", "process", "faulty");
        var (vmm, _, p) = Guest();
        var a = p.AllocMemory(1, 4096, HsaMemFlags.HostAccess);
        Assert.Equal(0, a.Ret);
        _daemon.Faults.Fail(nameof(IKfd.GetVersion), KfdFault.Throw);
        var thrown = p.Submit(CcmdFamily.QueryInfo, GetVer(), CcmdQueryInfoRsp.Size);
        Assert.Equal(VIRTIO_GPU_RESP_OK_NODATA, thrown.SubmitStatus);
        Assert.Equal(EIO, thrown.Ret);
        Assert.Equal(p.LastSeqno, p.PublishedSeqno);
        // The restarted context kept its objects: the allocation is still there and usable.
        var again = p.Submit(CcmdFamily.QueryInfo, GetVer(), CcmdQueryInfoRsp.Size);
        Assert.Equal(0, again.Ret);
        Assert.True(restarts.Total >= 1, "the restart was not counted in vhsakmt.supervisor.restarts");
        Assert.Equal(0, p.MapToGpuNodes(a.Va, 4096, [1], a.Blob!.ResId).Ret);
        Assert.Equal(0, p.UnmapFromGpu(a.Va).Ret);
        p.Exit();
        _daemon.Disconnect(vmm);
        _daemon.AssertBackToBaseline(_baseline);
    }

    [Fact]
    public void Hypervisor_disconnect_with_live_objects_tears_everything_down()
    {
        var (vmm, gpu, p) = Guest();
        Assert.Equal(0, p.AllocMemory(1, 64 << 10, HsaMemFlags.HostAccess).Ret);
        Assert.Equal(0, p.CreateEvent(node: 1).Ret);
        var other = HostileDaemon.Process(gpu, "second");
        Assert.Equal(0, other.OpenKfd().Ret);
        Assert.Equal(1, _daemon.DeviceCount);
        _daemon.Disconnect(vmm); // no CTX_DESTROY, no UNREF: the VM is gone
        HostileDaemon.Eventually(() => _daemon.DeviceCount == 0, "device stopped after disconnect");
        Assert.Equal(0, _daemon.Kfd.Counters.Allocations);
        Assert.Equal(0, _daemon.Va.Options.SliceCount - _daemon.Va.FreeSliceCount);
        _daemon.AssertBackToBaseline(_baseline);
    }

    [Fact]
    public void Hypervisor_disconnect_mid_command_leaves_nothing_behind()
    {
        var (vmm, gpu, p) = Guest();
        // A fenced submit is put on the ring and kicked; the hypervisor goes away before reading the answer.
        var bytes = GetVer();
        var hdr = new CcmdReqHeader { cmd = (uint)CcmdFamily.QueryInfo, len = (uint)bytes.Length, seqno = p.LastSeqno + 1, rsp_off = 0 };
        System.Runtime.InteropServices.MemoryMarshal.Write(bytes, in hdr);
        for (int i = 0; i < 8; i++) vmm.PutChain(0, [GpuRequests.Submit3D(p.CtxId, bytes, GpuRequests.FenceAndRing, gpu.NextFence(), 0)], [1056]);
        vmm.Kick(0);
        _daemon.Disconnect(vmm);
        HostileDaemon.Eventually(() => _daemon.DeviceCount == 0, "device stopped after disconnect");
        _daemon.AssertBackToBaseline(_baseline);
    }

    [Fact]
    public void Hypervisor_disconnect_mid_handshake_leaves_nothing_behind()
    {
        var vmm = TestVmm.Connect(_daemon.SocketPath, new TestVmmOptions { Handshake = false, Timeout = TimeSpan.FromSeconds(10) });
        vmm.Realize(); // features, protocol features, backend channel, owner, call fds — but never DRIVER_OK
        vmm.Dispose();
        HostileDaemon.Eventually(() => _daemon.DeviceCount == 0, "device stopped after a half handshake");
        _daemon.AssertBackToBaseline(_baseline);
        // The daemon still serves the next hypervisor.
        var (vmm2, _, p) = Guest();
        Assert.Equal(0, p.Submit(CcmdFamily.QueryInfo, GetVer(), CcmdQueryInfoRsp.Size).Ret);
        p.Exit();
        _daemon.Disconnect(vmm2);
        _daemon.AssertBackToBaseline(_baseline);
    }

    [Fact]
    public void Kfd_timeout_is_the_guests_answer_and_exit_leaves_nothing()
    {
        var (vmm, _, p) = Guest();
        var a = p.AllocMemory(1, 4096, HsaMemFlags.HostAccess);
        Assert.Equal(0, a.Ret);
        _daemon.Faults.Fail(nameof(IKfd.CreateEvent), KfdFault.Timeout);
        Assert.Equal((int)HsaStatus.WaitTimeout, p.CreateEvent(node: 1).Ret);
        p.Exit();
        _daemon.Disconnect(vmm);
        _daemon.AssertBackToBaseline(_baseline);
    }

    public void Dispose() => _daemon.Dispose();
}
