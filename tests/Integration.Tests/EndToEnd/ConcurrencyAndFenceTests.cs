using System.Runtime.InteropServices;
using VhsaKmt.Native.Hsa;
using VhsaKmt.TestSupport.Guest;
using VhsaKmt.Transport.Hsakmt;
using VhsaKmt.Transport.VirtioGpu;
using Xunit;

namespace VhsaKmt.Integration.Tests.EndToEnd;

[Collection(EndToEndCollection.Name)]
public sealed class ConcurrencyAndFenceTests
{
    [Fact]
    public async Task Eight_contexts_in_two_vms_interleave_without_cross_talk()
    {
        await using var d = await DaemonHarness.StartAsync();
        var gpus = new[] { new GuestGpu(d.Connect()), new GuestGpu(d.Connect()) };
        var procs = Enumerable.Range(0, 8).Select(i => DaemonHarness.Process(gpus[i % 2], $"p{i}")).ToArray();
        const int rounds = 6;

        var work = procs.Select((p, i) => Task.Run(() =>
        {
            Assert.Equal(0, p.OpenKfd().Ret);
            var window = gpus[i % 2].Window;
            for (int r = 0; r < rounds; r++)
            {
                var a = p.AllocMemory(0, 0x1000 * (ulong)(r + 1), HsaMemFlags.HostAccess);
                Assert.Equal(0, a.Ret);
                Assert.True(a.Va >= p.VmStart && a.Va < p.VmStart + p.VmSize, $"p{i}: 0x{a.Va:x} outside its own area");
                var tag = Enumerable.Repeat((byte)(i * 16 + r), 64).ToArray();
                window.Write(a.Blob!.ShmOffset!.Value, tag);
                Assert.Equal(0, p.MapToGpuNodes(a.Va, 0x1000, [1], a.Blob.ResId).Ret);
                Assert.Equal(tag, DaemonHarness.ReadHost(a.Va, 64));
                Assert.Equal(2u, p.GetSystemProperties().Props.NumNodes);
                Assert.Equal(0, p.UnmapFromGpu(a.Va).Ret);
                p.Release(a.Blob);
            }
            return p.LastSeqno;
        })).ToArray();
        var seqnos = await Task.WhenAll(work).WaitAsync(TimeSpan.FromSeconds(60));

        // OPEN_KFD + 4 ccmds per round, each published in order on the process's own shmem.
        Assert.All(seqnos, s => Assert.Equal((uint)(1 + rounds * 4), s));
        Assert.All(procs, p => Assert.Equal(p.LastSeqno, p.PublishedSeqno));
        var areas = procs.Select(p => (p.VmStart, End: p.VmStart + p.VmSize)).OrderBy(a => a.VmStart).ToArray();
        for (int i = 1; i < areas.Length; i++) Assert.True(areas[i].VmStart >= areas[i - 1].End, "VM areas of two contexts overlap");
        await DaemonHarness.Eventually(() => d.Kfd.Counters.Allocations == 0, "every allocation freed");
    }

    private static byte[] Nop(uint seqno)
    {
        var h = new CcmdReqHeader { cmd = (uint)CcmdFamily.Nop, len = CcmdNopReq.Size, seqno = seqno, rsp_off = 0 };
        return MemoryMarshal.AsBytes(new ReadOnlySpan<CcmdReqHeader>(in h)).ToArray();
    }

    [Fact]
    public async Task Fences_on_several_rings_all_retire_in_order_per_ring()
    {
        await using var d = await DaemonHarness.StartAsync();
        var gpu = new GuestGpu(d.Connect());
        var p = DaemonHarness.Process(gpu);
        var rings = new byte[] { 0, 1, 0, 2, 1, 0, 2, 3 };
        var requests = rings.Select((ring, i) =>
            GpuRequests.Submit3D(p.CtxId, Nop((uint)(i + 1)), GpuRequests.FenceAndRing, gpu.NextFence(), ring)).ToArray();
        var fences = requests.Select(r => GpuRequests.ReadHeader(r).fence_id).ToArray();

        var used = gpu.Batch(requests, out var tokens);
        Assert.Equal(rings.Length, used.Count);
        Assert.All(used, u => Assert.Equal(VirtioGpuCtrlType.VIRTIO_GPU_RESP_OK_NODATA, u.Response.Type));
        Assert.All(used, u => Assert.Equal(GpuRequests.FenceAndRing, u.Response.Header.flags));
        Assert.All(used, u => Assert.Equal(p.CtxId, u.Response.Header.ctx_id));
        Assert.Equal(fences.Order(), used.Select(u => u.Response.Header.fence_id).Order());
        foreach (var ring in rings.Distinct())
        {
            var retired = used.Where(u => u.Response.Header.ring_idx == ring).Select(u => u.Response.Header.fence_id).ToArray();
            Assert.Equal(retired.Order(), retired);
            Assert.Equal(rings.Count(r => r == ring), retired.Length);
        }
        Assert.Equal((uint)rings.Length, p.PublishedSeqno);
    }

    [Fact]
    public async Task A_submit_before_the_shmem_exists_is_err_unspec_and_its_fence_retires()
    {
        await using var d = await DaemonHarness.StartAsync();
        var gpu = new GuestGpu(d.Connect());
        var p = new RocmProcess(gpu, "early");
        p.CreateContextOnly();
        ulong fence = gpu.NextFence();
        var r = gpu.Command(GpuRequests.Submit3D(p.CtxId, Nop(1), GpuRequests.FenceAndRing, fence, 0));
        Assert.Equal(VirtioGpuCtrlType.VIRTIO_GPU_RESP_ERR_UNSPEC, r.Type);
        Assert.Equal(fence, r.Header.fence_id);
        Assert.Equal(GpuRequests.FenceAndRing, r.Header.flags);

        p.Start(); // the context is still usable afterwards
        Assert.Equal(0, p.OpenKfd().Ret);
    }
}
