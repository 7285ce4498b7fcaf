using VhsaKmt.TestSupport.Memory;
using System.Runtime.InteropServices;
using VhsaKmt.Actors.Messages;
using VhsaKmt.Actors.Objects;
using VhsaKmt.Actors.Tests.Support;
using VhsaKmt.Native;
using VhsaKmt.Native.Interop;
using VhsaKmt.Native.Simulated;
using VhsaKmt.Transport.Hsakmt;
using Xunit;

namespace VhsaKmt.Actors.Tests.Simulated;

/// <summary>The context against the real simulated KFD: real memory at mirrored VAs, real doorbell pages, real counters.</summary>
public sealed class SimulatedKfdContextTests : ContextTestBase
{
    private readonly SimulatedKfd _sim;

    public SimulatedKfdContextTests() => _sim = new SimulatedKfd(va: Va);

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            Shutdown(); // contexts release into the KFD before it goes away
            _sim.Dispose();
        }
        base.Dispose(disposing);
    }

    private static CcmdQueryInfoReq Q(QueryType t) => new() { type = (uint)t };

    [Fact]
    public void Topology_and_open_kfd()
    {
        var ctx = NewContext(kfd: _sim);
        var (ret, off) = Run(ctx, Q(QueryType.GetSysProp), CcmdFamily.QueryInfo, 424);
        Assert.Equal(0, ret);
        Assert.Equal(2u, ctx.Guest.Response<CcmdQueryInfoRsp>(off).sys_props.NumNodes);
        (ret, off) = Run(ctx, new CcmdQueryInfoReq { type = (uint)QueryType.GetNodeProp, NodeID = 1 }, CcmdFamily.QueryInfo, 424);
        Assert.Equal(0, ret);
        Assert.True(ctx.Guest.Response<CcmdQueryInfoRsp>(off).node_props.NumFComputeCores > 0);
        (ret, off) = Run(ctx, Q(QueryType.OpenKfd), CcmdFamily.QueryInfo, 424);
        Assert.Equal(0, ret);
        Assert.Equal(ctx.State.Slice!.Start, ctx.Guest.Response<CcmdQueryInfoRsp>(off).open_kfd_rsp.vm_start);
    }

    [Fact]
    public void Mappable_allocation_shares_its_bytes_with_the_blob_backing()
    {
        var ctx = NewContext(kfd: _sim);
        var (ret, va) = TryAlloc(ctx, 2, 0x2000, HostAccess, node: 0);
        Assert.Equal(0, ret);
        var created = Assert.IsType<BlobCreated>(CreateBlob(ctx, 10, 2, 1, 0x2000));
        using var guestView = Mmap.MapShared(created.Backing!.Fd, created.Backing.FdOffset, created.Backing.Length);
        guestView.AsSpan(0x1000, 1)[0] = 0x5c;                      // the guest writes through its mapping...
        Assert.Equal(0x5c, Marshal.ReadByte((nint)(va + 0x1000))); // ...the host sees it at the same VA
        Assert.IsType<BlobRefused>(CreateBlob(ctx, 11, 2, 1, 0x2000)); // consumed
    }

    [Fact]
    public void Blob_larger_than_the_object_is_refused_and_the_object_stays_parked()
    {
        var ctx = NewContext(kfd: _sim);
        Assert.Equal(0, TryAlloc(ctx, 2, 0x1000).Ret);
        var refused = Assert.IsType<BlobRefused>(CreateBlob(ctx, 10, 2, 1, 0x2000));
        Assert.Equal(0x1205u, refused.VirtioError);
        Assert.IsType<BlobRefused>(CreateBlob(ctx, 10, (1UL << 32) | 2, 0, 0x1000));
        Assert.IsType<BlobCreated>(CreateBlob(ctx, 10, 2, 1, 0x1000));
        Assert.IsType<BlobRefused>(CreateBlob(ctx, 10, 3, 0, 0x1000)); // res_id already bound
    }

    [Fact]
    public void Non_host_access_memory_and_events_may_not_be_mappable()
    {
        var ctx = NewContext(kfd: _sim);
        Assert.Equal(0, TryAlloc(ctx, 2, 0x1000, NonPaged, node: 1).Ret);
        Assert.IsType<BlobRefused>(CreateBlob(ctx, 10, 2, 1, 0x1000));
        var req = new CcmdEventReq { type = (uint)EventType.Create, blob_id = 3 };
        req.create_args.EventDesc.NodeId = 1;
        Assert.Equal(0, Run(ctx, req, CcmdFamily.Event, 80).Ret);
        Assert.IsType<BlobRefused>(CreateBlob(ctx, 11, 3, 1, 4096));
        Assert.IsType<BlobCreated>(CreateBlob(ctx, 11, 3, 0, 4096));
    }

    [Fact]
    public void Queue_lifecycle_with_doorbell_page_and_leak_free_destroy()
    {
        var ctx = NewContext(kfd: _sim);
        int slicesBefore = Va.FreeSliceCount;
        ulong ring = AllocBound(ctx, 2, 10, 0x10000);
        ulong rw = AllocBound(ctx, 3, 11, 0x1000);
        ulong ev = EventBound(ctx, 4, 12);
        var (ret, rsp) = TryCreateQueue(ctx, 5, 10, ring, 0x10000, 11, rw, doorbellBlob: 6, eventHandle: ev);
        Assert.Equal(0, ret);
        Assert.NotEqual(0UL, rsp.vqueue_res.r.QueueId);
        var doorbell = Assert.IsType<BlobCreated>(CreateBlob(ctx, 13, 6, 1, 0x2000));
        Assert.NotNull(doorbell.Backing);
        Assert.IsType<BlobCreated>(CreateBlob(ctx, 14, 5, 0, 0x10000));
        Assert.Equal(1, _sim.Counters.Queues);

        // the guest rings the doorbell through its mapping of the doorbell blob
        using (var view = Mmap.MapShared(doorbell.Backing!.Fd, doorbell.Backing.FdOffset, doorbell.Backing.Length))
            view.U64(rsp.vqueue_res.host_doorbell_offset) = 7;
        var q = ctx.State.Objects.OfType<QueueObject>().Single();
        Assert.Equal(7UL, _sim.ReadDoorbell(q.KfdHandle));

        var slice = ctx.State.Slice!.Range;
        Destroy(ctx);
        Assert.True(_sim.Counters.Snapshot().IsZero, _sim.Counters.Snapshot().ToString());
        Assert.False(Va.IsBacked(slice.Start, slice.Size)); // KFD-wide pages (doorbells, event page) may stay
        Assert.Equal(slicesBefore, Va.FreeSliceCount); // the slice was reserved by the first ALLOC and is back
    }

    [Fact]
    public void Detach_in_both_orders_leaves_nothing_behind()
    {
        var ctx = NewContext(kfd: _sim);
        ulong ring = AllocBound(ctx, 2, 10, 0x10000);
        ulong rw = AllocBound(ctx, 3, 11, 0x1000);
        Assert.Equal(0, TryCreateQueue(ctx, 5, 10, ring, 0x10000, 11, rw).Ret);
        Assert.IsType<BlobCreated>(CreateBlob(ctx, 14, 5, 0, 0x10000));
        Detach(ctx, 10);
        Assert.Equal(2, _sim.Counters.Allocations); // busy ring kept
        Detach(ctx, 14);
        Detach(ctx, 11);
        AwaitCondition(() => _sim.Counters.Snapshot().IsZero, TimeSpan.FromSeconds(3));
        Assert.False(Va.IsBacked(ctx.State.Slice!.Start, ctx.State.Slice.Size));
        Assert.Equal(0, ctx.State.LiveActorCount);
    }

    [Fact]
    public void Userptr_registers_on_the_simulated_kfd()
    {
        var ctx = NewContext(kfd: _sim);
        Assert.IsType<BlobCreated>(CreateBlob(ctx, 30, 9, 8, 0x2000, 3, [new MemEntry(MemfdGuestMemory.Base, 0x2000)]));
        var u = ctx.State.Objects.OfType<UserptrObject>().Single();
        var reg = new CcmdMemoryReq { type = (uint)MemoryType.RegMemWithFlag, res_id = 30 };
        reg.reg_mem_with_flag = new MemoryRegMemWithFlag { MemoryAddress = u.Address, MemorySizeInBytes = 0x2000 };
        Assert.Equal(0, Run(ctx, reg, CcmdFamily.Memory, 320).Ret);
        Assert.Equal(1, _sim.Counters.Registrations);
        Detach(ctx, 30);
        Assert.Equal(0, _sim.Counters.Registrations);
    }
}
