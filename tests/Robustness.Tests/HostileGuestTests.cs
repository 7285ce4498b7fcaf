using System.Buffers.Binary;
using System.Runtime.InteropServices;
using VhsaKmt.Native;
using VhsaKmt.Native.Hsa;
using VhsaKmt.Robustness.Tests.Support;
using VhsaKmt.TestSupport.Guest;
using VhsaKmt.TestSupport.Vmm;
using VhsaKmt.Transport.Hsakmt;
using VhsaKmt.Transport.VirtioGpu;
using Xunit;
using static VhsaKmt.Transport.VirtioGpu.VirtioGpuCtrlType;

namespace VhsaKmt.Robustness.Tests;

/// <summary>One daemon and one VM for the whole suite; a bystander process on the same VM that must keep answering.</summary>
public sealed class HostileFixture : IDisposable
{
    public HostileFixture()
    {
        Daemon = new HostileDaemon();
        Vmm = Daemon.Connect();
        Gpu = new GuestGpu(Vmm);
        Bystander = HostileDaemon.Process(Gpu, "bystander");
        Assert.Equal(0, Bystander.OpenKfd().Ret);
        BystanderAlloc = Bystander.AllocMemory(1, 64 << 10, HsaMemFlags.HostAccess);
        Assert.Equal(0, BystanderAlloc.Ret);
        // The KFD's event page is process-wide (made with the first event, kept while the KFD is open): create it
        // before the baseline, as a long-lived process would have.
        Assert.Equal(0, Bystander.CreateEvent(node: 1).Ret);
        // Likewise the doorbell page of the GPU node, made with the process's first queue there.
        var ring = Bystander.AllocMemory(1, 64 << 10, HsaMemFlags.HostAccess);
        var rw = Bystander.AllocMemory(1, 4096, HsaMemFlags.HostAccess);
        Assert.Equal(0, Bystander.CreateQueue(1, 21, ring, 64 << 10, rw, rw.Va + 0x38, rw.Va + 0x80).Ret);
        Baseline = Daemon.Leaks();
    }

    public HostileDaemon Daemon { get; }
    public TestVmm Vmm { get; }
    public GuestGpu Gpu { get; }
    public RocmProcess Bystander { get; }
    public GuestAllocation BystanderAlloc { get; }
    public Actors.Diagnostics.LeakSnapshot Baseline { get; }

    public void Dispose() => Daemon.Dispose();
}

/// <summary>
/// The hostile-guest suite (≥ 50 cases) through the real socket: each case runs a misbehaving guest process next to a
/// well-behaved one, asserts the clear error it gets (ccmd ret or virtio response type), then checks that the
/// bystander still answers correctly, that the victim's context still answers (or is gone when the case killed it),
/// and that after the victim exits every leak counter is back at its baseline.
/// </summary>
public sealed class HostileGuestTests(HostileFixture fx) : IClassFixture<HostileFixture>
{
    /// <summary>Detach, unmap, unref as the kernel does on a GEM close; tolerant (the case may have released it already).</summary>
    private void Release(uint ctxId, GuestBlob b)
    {
        fx.Gpu.Command(GpuRequests.CtxDetach(ctxId, b.ResId));
        if (b.ShmOffset is not null) fx.Gpu.Command(GpuRequests.UnmapBlob(ctxId, b.ResId));
        fx.Gpu.Command(GpuRequests.Unref(b.ResId));
    }

    public static TheoryData<string> Cases() => new(HostileCases.All.Keys);

    [Theory]
    [MemberData(nameof(Cases))]
    public void Hostile_guest_gets_an_error_and_nothing_else_is_affected(string name)
    {
        var victim = new RocmProcess(fx.Gpu, "victim");
        victim.Start();
        Assert.Equal(0, victim.OpenKfd().Ret);
        var s = new Scenario(fx.Daemon, fx.Vmm, fx.Gpu, victim, fx.Bystander);

        try
        {
            HostileCases.All[name](s);

            // The bystander (same VM, other context) answers exactly as before.
            var ver = fx.Bystander.Submit(CcmdFamily.QueryInfo, RawCcmd.Request(new CcmdQueryInfoReq { type = (uint)QueryType.GetVer }), CcmdQueryInfoRsp.Size);
            Assert.Equal(VIRTIO_GPU_RESP_OK_NODATA, ver.SubmitStatus);
            Assert.Equal(0, ver.Ret);
            Assert.Equal(1u, ver.Read<CcmdQueryInfoRsp>().kfd_version.KernelInterfaceMajorVersion);
            Assert.Equal(0, fx.Bystander.MapToGpuNodes(fx.BystanderAlloc.Va, 64 << 10, [1], fx.BystanderAlloc.Blob!.ResId).Ret);
            Assert.Equal(0, fx.Bystander.UnmapFromGpu(fx.BystanderAlloc.Va).Ret);

            if (!s.VictimGone)
            {
                // The victim's own context still answers a well-formed call.
                var again = victim.Submit(CcmdFamily.QueryInfo, RawCcmd.Request(new CcmdQueryInfoReq { type = (uint)QueryType.GetVer }), CcmdQueryInfoRsp.Size);
                Assert.Equal(0, again.Ret);
            }
        }
        finally
        {
            // Exit even after a failed assertion, so one failing case does not leak into the next one's baseline.
            if (!s.VictimGone)
            {
                foreach (var b in victim.LiveBlobs.AsEnumerable().Reverse()) Release(victim.CtxId, b);
                fx.Gpu.Command(GpuRequests.CtxDestroy(victim.CtxId));
            }
            foreach (var res in s.LooseResources) fx.Gpu.Command(GpuRequests.Unref(res));
        }
        fx.Daemon.AssertBackToBaseline(fx.Baseline);
    }
}
