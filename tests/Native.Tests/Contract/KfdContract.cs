using VhsaKmt.Native.Hsa;

namespace VhsaKmt.Native.Tests.Contract;

/// <summary>
/// What every IKfd must do, whatever backs it: consistent topology, thunk statuses for unknown handles and bad
/// nodes, polling waits, counters that return to zero, and a closed KFD that answers with statuses, never throws.
/// Subclasses provide an open KFD (and, for memory tests, a VA the backend accepts for FixedAddress allocations).
/// </summary>
public abstract class KfdContract : IDisposable
{
    protected abstract IKfd Kfd { get; }
    /// <summary>A page-aligned VA of at least <paramref name="size"/> bytes the backend accepts for FixedAddress.</summary>
    protected abstract ulong ReserveVa(ulong size);

    public abstract void Dispose();

    [Fact]
    public void Topology_is_self_consistent()
    {
        Assert.Equal(HsaStatus.Success, Kfd.AcquireSystemProperties(out var sys));
        Assert.True(sys.NumNodes >= 1);
        var gpus = 0;
        for (uint n = 0; n < sys.NumNodes; n++)
        {
            Assert.Equal(HsaStatus.Success, Kfd.GetNodeProperties(n, out var p));
            Assert.Equal(HsaStatus.Success, Kfd.GetNodeMemoryProperties(n, new HsaMemoryProperties[p.NumMemoryBanks]));
            Assert.Equal(HsaStatus.Success, Kfd.GetNodeIoLinkProperties(n, new HsaIoLinkProperties[p.NumIOLinks]));
            var links = new HsaIoLinkProperties[p.NumIOLinks];
            Kfd.GetNodeIoLinkProperties(n, links);
            Assert.All(links, l => Assert.Equal(n, l.NodeFrom));
            if (p.NumFComputeCores > 0)
            {
                gpus++;
                Assert.Equal(HsaStatus.Success, Kfd.GetNodeCacheProperties(n, p.FComputeIdLo, new HsaCacheProperties[p.NumCaches]));
                Assert.NotEqual(0u, p.KFDGpuID);
                Assert.True(p.WaveFrontSize is 32 or 64);
            }
        }
        Assert.True(gpus >= 1, "at least one GPU node");
        Assert.NotEqual(HsaStatus.Success, Kfd.GetNodeProperties(sys.NumNodes, out _));
        Assert.Equal(HsaStatus.Success, Kfd.GetVersion(out var v));
        Assert.Equal(1u, v.KernelInterfaceMajorVersion);
    }

    [Fact]
    public async Task Unknown_handles_are_invalid_handle()
    {
        const ulong bogus = 0xDEAD_BEEF;
        Assert.Equal(HsaStatus.InvalidHandle, Kfd.DestroyEvent(bogus));
        Assert.Equal(HsaStatus.InvalidHandle, Kfd.SetEvent(bogus));
        Assert.Equal(HsaStatus.InvalidHandle, Kfd.ResetEvent(bogus));
        Assert.Equal(HsaStatus.InvalidHandle, Kfd.QueryEventState(bogus));
        Assert.Equal(HsaStatus.InvalidHandle, Kfd.DestroyQueue(bogus));
        Assert.Equal(HsaStatus.InvalidHandle, Kfd.GetQueueInfo(bogus, out _));
        Assert.Equal(HsaStatus.InvalidHandle, Kfd.UpdateQueue(bogus, 100, 0, 0, 0));
        Assert.Equal(HsaStatus.InvalidHandle, Kfd.SetQueueCuMask(bogus, [1u]));
        Assert.Equal(HsaStatus.InvalidHandle, await Kfd.WaitOnMultipleEventsAsync([bogus], true, 0, default));
    }

    [Fact]
    public async Task Events_poll_with_a_zero_timeout_and_counters_follow()
    {
        var desc = new HsaEventDescriptor { EventType = 0, NodeId = 0 };
        Assert.Equal(HsaStatus.Success, Kfd.CreateEvent(desc, true, false, out _, out var e));
        Assert.Equal(1, Kfd.Counters.Events);
        Assert.Equal(HsaStatus.WaitTimeout, await Kfd.WaitOnMultipleEventsAsync([e], true, 0, default));
        Assert.Equal(HsaStatus.Success, Kfd.SetEvent(e));
        Assert.Equal(HsaStatus.Success, await Kfd.WaitOnMultipleEventsAsync([e], true, 0, default));
        Assert.Equal(HsaStatus.Success, Kfd.ResetEvent(e));
        Assert.Equal(HsaStatus.WaitTimeout, await Kfd.WaitOnMultipleEventsAsync([e], true, 0, default));
        Assert.Equal(HsaStatus.Success, Kfd.DestroyEvent(e));
        Assert.Equal(0, Kfd.Counters.Events);
    }

    [Fact]
    public void Fixed_allocation_round_trip_leaves_no_object_behind()
    {
        Kfd.AcquireSystemProperties(out var sys);
        uint gpu = 1;
        while (gpu < sys.NumNodes && Kfd.GetNodeProperties(gpu, out var p) == HsaStatus.Success && p.NumFComputeCores == 0) gpu++;
        const ulong size = 2 << 20;
        var va = ReserveVa(size);
        var address = va;
        Assert.Equal(HsaStatus.Success, Kfd.AllocMemory(gpu, size, new HsaMemFlags(HsaMemFlags.FixedAddress | HsaMemFlags.HostAccess | HsaMemFlags.NonPaged), ref address));
        Assert.Equal(va, address);
        Assert.Equal(HsaStatus.Success, Kfd.MapMemoryToGpu(address, size, out _));
        Assert.Equal(HsaStatus.Success, Kfd.QueryPointerInfo(address, out var info, new uint[8]));
        Assert.Equal(size, info.SizeInBytes);
        Assert.Equal(0UL, info.MappedNodes); // never a host pointer
        Assert.Equal(HsaStatus.Success, Kfd.UnmapMemoryToGpu(address));
        Assert.Equal(HsaStatus.Success, Kfd.FreeMemory(address, size));
        Assert.NotEqual(HsaStatus.Success, Kfd.FreeMemory(address, size));
        Assert.Equal(default, Kfd.Counters.Snapshot());
    }
}
