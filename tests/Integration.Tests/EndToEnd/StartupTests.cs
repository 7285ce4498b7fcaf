using System.Runtime.InteropServices;
using VhsaKmt.Native;
using VhsaKmt.Native.Hsa;
using VhsaKmt.TestSupport.Guest;
using VhsaKmt.Transport.VirtioGpu;
using Xunit;

namespace VhsaKmt.Integration.Tests.EndToEnd;

[Collection(EndToEndCollection.Name)]
public sealed class StartupTests
{
    private static byte[] Raw<T>(T v) where T : unmanaged => MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in v)).ToArray();

    [Fact]
    public async Task Capset_context_shmem_and_open_kfd_give_one_vm_area_even_when_repeated()
    {
        await using var d = await DaemonHarness.StartAsync();
        var vmm = d.Connect();
        Assert.Equal(16, vmm.Config.Length);
        Assert.Equal(1u, BitConverter.ToUInt32(vmm.Config, 12)); // num_capsets
        Assert.True(vmm.ShmemSizes.Count > 1 && vmm.ShmemSizes[1] == 8UL << 30);
        var gpu = new GuestGpu(vmm);

        var info = gpu.Command(GpuRequests.GetCapsetInfo(0)).Read<VirtioGpuRespCapsetInfo>();
        Assert.Equal((8u, 1u, 24u), (info.capset_id, info.capset_max_version, info.capset_max_size));
        var caps = gpu.Capset();
        Assert.Equal(1u, caps.ContextType);
        Assert.Equal(d.Kfd.GetVersion(out var v) == HsaStatus.Success ? v.KernelInterfaceMajorVersion : 1, caps.VersionMajor);

        var p = DaemonHarness.Process(gpu);
        Assert.Equal(16u, BitConverter.ToUInt32(gpu.Window.Read(p.Shmem!.ShmOffset!.Value + 4, 4))); // rsp_mem_offset
        Assert.Equal(1, vmm.ShmemMaps);

        var first = p.OpenKfd();
        Assert.Equal(0, first.Ret);
        Assert.NotEqual(0UL, p.VmStart);
        Assert.NotEqual(0UL, p.VmSize);
        Assert.True(d.Va.Area.Contains(p.VmStart, p.VmSize), "the VM area lies in the daemon's reserved VA area");
        var again = p.OpenKfd(0x5555_6666_0000);
        Assert.Equal(0, again.Ret);
        Assert.Equal(first.Slot.AsSpan(8, 16).ToArray(), again.Slot.AsSpan(8, 16).ToArray());
        Assert.Equal(2u, p.PublishedSeqno);
    }

    [Fact]
    public async Task Topology_seen_by_the_guest_is_the_configured_simulated_topology()
    {
        await using var d = await DaemonHarness.StartAsync();
        var p = DaemonHarness.Process(new GuestGpu(d.Connect()));
        Assert.Equal(0, p.OpenKfd().Ret);

        var (ret, sys) = p.GetSystemProperties();
        Assert.Equal(0, ret);
        Assert.Equal(HsaStatus.Success, d.Kfd.AcquireSystemProperties(out var hostSys));
        Assert.Equal(Raw(hostSys), Raw(sys));
        Assert.Equal(2u, sys.NumNodes); // HOCON: one CPU node + gpu-count 1

        for (uint n = 0; n < sys.NumNodes; n++)
        {
            var (nr, props) = p.GetNodeProperties(n);
            Assert.Equal(0, nr);
            Assert.Equal(HsaStatus.Success, d.Kfd.GetNodeProperties(n, out var hostProps));
            Assert.Equal(Raw(hostProps), Raw(props));

            var (mr, banks) = p.GetNodeMemoryProperties(n, props.NumMemoryBanks);
            var hostBanks = new HsaMemoryProperties[props.NumMemoryBanks];
            Assert.Equal(HsaStatus.Success, d.Kfd.GetNodeMemoryProperties(n, hostBanks));
            Assert.Equal(0, mr);
            Assert.Equal(hostBanks.Select(Raw).SelectMany(b => b), banks.Select(Raw).SelectMany(b => b));

            var (cr, caches) = p.GetNodeCacheProperties(n, props.CComputeIdLo, props.NumCaches);
            var hostCaches = new HsaCacheProperties[props.NumCaches];
            Assert.Equal(HsaStatus.Success, d.Kfd.GetNodeCacheProperties(n, props.CComputeIdLo, hostCaches));
            Assert.Equal(0, cr);
            Assert.Equal(hostCaches.Select(Raw).SelectMany(b => b), caches.Select(Raw).SelectMany(b => b));

            var (lr, links) = p.GetNodeIoLinkProperties(n, props.NumIOLinks);
            var hostLinks = new HsaIoLinkProperties[props.NumIOLinks];
            Assert.Equal(HsaStatus.Success, d.Kfd.GetNodeIoLinkProperties(n, hostLinks));
            Assert.Equal(0, lr);
            Assert.Equal(hostLinks.Select(Raw).SelectMany(b => b), links.Select(Raw).SelectMany(b => b));
        }
        Assert.Equal("node 1: AMD Radeon Pro W7900", Assert.Single(d.Started.GpuNodes)); // HOCON marketing-name
    }
}
