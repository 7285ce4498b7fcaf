using System.Runtime.InteropServices;
using VhsaKmt.Actors.Context;
using VhsaKmt.Actors.Messages;
using VhsaKmt.Actors.Objects;
using VhsaKmt.Actors.Tests.Support;
using VhsaKmt.Native;
using VhsaKmt.Transport.Hsakmt;
using Xunit;

namespace VhsaKmt.Actors.Tests.Handlers;

public sealed class QueueHandlerTests : ContextTestBase
{
    private (ulong Ring, ulong Rw) Memory(TestContext ctx)
    {
        ulong ring = AllocBound(ctx, 2, 10, 0x10000);
        ulong rw = AllocBound(ctx, 3, 11, 0x1000);
        return (ring, rw);
    }

    private (int Ret, CcmdQueueRsp Rsp) Q(TestContext ctx, CcmdQueueReq req, ReadOnlySpan<byte> payload = default, int rspSize = 168)
    {
        var (ret, off) = Run(ctx, req, CcmdFamily.Queue, rspSize, payload);
        return (ret, ctx.Guest.Response<CcmdQueueRsp>(off));
    }

    [Fact]
    public void Aql_queue_create_returns_opaque_ids_and_parks_queue_and_doorbell()
    {
        var ctx = NewContext();
        var (ring, rw) = Memory(ctx);
        ulong ev = EventBound(ctx, 4, 12);
        var (ret, rsp) = TryCreateQueue(ctx, 5, 10, ring, 0x10000, 11, rw, doorbellBlob: 6, eventHandle: ev);
        Assert.Equal(0, ret);
        var q = Assert.Single(ctx.State.Objects.OfType<QueueObject>());
        Assert.NotEqual(0UL, rsp.vqueue_res.r.QueueId);
        Assert.Equal(q.Id, rsp.vqueue_res.r.QueueId);
        Assert.NotEqual(q.KfdHandle, rsp.vqueue_res.r.QueueId);
        Assert.Equal(q.Id, rsp.vqueue_res.queue_handle);
        Assert.Equal(0UL, rsp.vqueue_res.r.ErrorReason); // host pointer scrubbed
        Assert.Equal(rsp.vqueue_res.r.QueueDoorBell, rsp.vqueue_res.host_doorbell);
        Assert.Equal(rsp.vqueue_res.host_doorbell - RecordingKfd.DoorbellPage, rsp.vqueue_res.host_doorbell_offset);
        Assert.Equal(rw + 0x38, rsp.vqueue_res.r.QueueWptrValue);
        var ringObj = ctx.State.Objects.OfType<MemoryObject>().Single(m => m.Address == ring);
        Assert.True(ringObj.IsQueueMem);
        Assert.Contains(Kfd.Calls, c => c.StartsWith("CreateQueue(") && c.Contains("event=0x") && !c.EndsWith($"event=0x{ev:x})"));

        var doorbell = Assert.IsType<BlobCreated>(CreateBlob(ctx, 13, 6, 1, 0x2000));
        Assert.Equal(0x2000UL, doorbell.Backing!.Length);
        Assert.IsType<BlobRefused>(CreateBlob(ctx, 14, 5, 1, 0x10000)); // a QUEUE is never MAPPABLE
        Assert.IsType<BlobRefused>(CreateBlob(ctx, 14, 5, 0, 0x20000)); // larger than the queue object
        Assert.IsType<BlobCreated>(CreateBlob(ctx, 14, 5, 0, 0x10000)); // still parked after the refusals
    }

    [Fact]
    public void Create_validation_failures_call_nothing()
    {
        var ctx = NewContext();
        var (ring, rw) = Memory(ctx);
        Assert.Equal(-22, TryCreateQueue(ctx, 5, 10, ring + 0x8000, 0x10000, 11, rw).Ret);      // ring runs past its object
        Assert.Equal(-22, TryCreateQueue(ctx, 5, 11, ring, 0x10000, 11, rw).Ret);               // ring named by the wrong res_id
        Assert.Equal(-22, TryCreateQueue(ctx, 5, 0, ring, 0x10000, 11, rw).Ret);                // queue_mem_res_id 0
        Assert.Equal(-22, TryCreateQueue(ctx, 5, 10, ring, 0x10000, 10, rw).Ret);               // r/w pointers not in res_id object
        Assert.Equal(-22, TryCreateQueue(ctx, 5, 10, ring, 0x10000, 11, rw, eventHandle: 0x1234).Ret);
        Assert.Equal(-22, TryCreateQueue(ctx, 5, 10, ring, 0x10000, 11, rw, type: 99).Ret);
        Assert.Equal(-22, TryCreateQueue(ctx, 0, 10, ring, 0x10000, 11, rw).Ret);
        Assert.Equal(-22, TryCreateQueue(ctx, 5, 10, ring, 0x10000, 11, rw, doorbellBlob: 5).Ret); // ids not distinct
        Assert.Equal(-22, TryCreateQueue(ctx, 2, 10, ring, 0x10000, 11, rw).Ret);               // blob id already used
        Assert.Empty(Kfd.CallsNamed("CreateQueue"));
        Assert.DoesNotContain(ctx.State.Objects.OfType<MemoryObject>(), m => m.IsQueueMem);
    }

    [Fact]
    public void Event_of_another_context_is_refused_for_queue_create()
    {
        var a = NewContext(1);
        var b = NewContext(2);
        ulong ev = EventBound(a, 4, 12);
        var (ring, rw) = Memory(b);
        Assert.Equal(-22, TryCreateQueue(b, 5, 10, ring, 0x10000, 11, rw, eventHandle: ev).Ret);
    }

    [Fact]
    public void Kfd_failure_and_null_doorbell_unwind_exactly_once()
    {
        var ctx = NewContext();
        var (ring, rw) = Memory(ctx);
        Kfd.Fail["CreateQueue"] = HsaStatus.OutOfResources;
        Assert.Equal((int)HsaStatus.OutOfResources, TryCreateQueue(ctx, 5, 10, ring, 0x10000, 11, rw, doorbellBlob: 6).Ret);
        Kfd.Fail.Remove("CreateQueue");
        Kfd.NullDoorbell = true;
        Assert.Equal((int)HsaStatus.Error, TryCreateQueue(ctx, 5, 10, ring, 0x10000, 11, rw, doorbellBlob: 6).Ret);
        Assert.Single(Kfd.CallsNamed("DestroyQueue"));
        Assert.Equal(0, Kfd.Counters.Queues);
        Assert.Empty(ctx.State.Objects.OfType<QueueObject>());
        Assert.Empty(ctx.State.Objects.OfType<PageObject>());
        Assert.DoesNotContain(ctx.State.Objects.OfType<MemoryObject>(), m => m.IsQueueMem);
        Kfd.NullDoorbell = false;
        Assert.Equal(0, TryCreateQueue(ctx, 5, 10, ring, 0x10000, 11, rw, doorbellBlob: 6).Ret); // ids were not consumed
    }

    [Fact]
    public void Queue_limit_answers_out_of_resources()
    {
        Settings = ContextSettings.Default with { MaxQueues = 1 };
        var ctx = NewContext();
        var (ring, rw) = Memory(ctx);
        Assert.Equal(0, TryCreateQueue(ctx, 5, 10, ring, 0x8000, 11, rw).Ret);
        Assert.Equal((int)HsaStatus.OutOfResources, TryCreateQueue(ctx, 6, 10, ring + 0x8000, 0x8000, 11, rw).Ret);
    }

    [Fact]
    public void Non_aql_queue_parks_the_rw_page_with_offsets()
    {
        var ctx = NewContext();
        var (ring, _) = Memory(ctx);
        var (ret, rsp) = TryCreateQueue(ctx, 5, 10, ring, 0x10000, 0, 0, type: 1, rwBlob: 7);
        Assert.Equal(0, ret);
        Assert.Equal(0x38UL, rsp.vqueue_res.host_write_offset);
        Assert.Equal(0x80UL, rsp.vqueue_res.host_read_offset);
        Assert.Equal(rsp.vqueue_res.r.QueueWptrValue - 0x38, rsp.vqueue_res.host_rw_handle);
        Assert.IsType<BlobCreated>(CreateBlob(ctx, 15, 7, 1, 0x1000));
    }

    [Fact]
    public void Update_info_cu_mask_and_gws_need_a_queue_of_this_context()
    {
        var ctx = NewContext();
        var (ring, rw) = Memory(ctx);
        Assert.Equal(0, TryCreateQueue(ctx, 5, 10, ring, 0x8000, 11, rw).Ret);
        Assert.IsType<BlobCreated>(CreateBlob(ctx, 20, 5, 0, 0x8000));

        var upd = new CcmdQueueReq { type = (uint)QueueType.Update, res_id = 20, queue_mem_res_id = 10 };
        upd.update_queue_args = new QueueReqUpdate { QueuePercentage = 50, QueueAddress = ring + 0x8000, QueueSizeInBytes = 0x8000 };
        Assert.Equal(0, Q(ctx, upd).Ret);
        upd.update_queue_args.QueueSizeInBytes = 0x10000; // past the ring object
        Assert.Equal(-22, Q(ctx, upd).Ret);
        upd.update_queue_args.QueueSizeInBytes = 0x8000;
        upd.res_id = 10; // not a queue
        Assert.Equal(-22, Q(ctx, upd).Ret);

        var (iret, irsp) = Q(ctx, new CcmdQueueReq { type = (uint)QueueType.GetInfo, res_id = 20 });
        Assert.Equal(0, iret);
        Assert.Equal(96u, irsp.queue_info.NumCUAssigned);
        Assert.Equal(0UL, irsp.queue_info.CUMaskInfo); // host pointer scrubbed

        var cu = new CcmdQueueReq { type = (uint)QueueType.SetCuMask, res_id = 20, CUMaskCount = 96 };
        Assert.Equal(0, Q(ctx, cu, new byte[12]).Ret);
        Assert.Contains("SetQueueCuMask(3)", Kfd.Calls);
        cu.CUMaskCount = 33;
        Assert.Equal(-22, Q(ctx, cu, new byte[8]).Ret);
        cu.CUMaskCount = 128; // more than the node's 96 CUs
        Assert.Equal(-22, Q(ctx, cu, new byte[16]).Ret);
        cu.CUMaskCount = 64;
        Assert.Equal(-22, Q(ctx, cu, new byte[4]).Ret); // payload short

        var gws = new CcmdQueueReq { type = (uint)QueueType.AllocGws, res_id = 20, nGWS = 1 };
        var bytes = ctx.Guest.Encode(gws, CcmdFamily.Queue, 176);
        int off = ctx.Guest.LastRspOff;
        Submit(ctx, bytes);
        Assert.Equal(0, ctx.Guest.SlotRet(off));
        Assert.Equal(3u, MemoryMarshal.Read<uint>(ctx.Guest.Slot(off, 176)[168..]));
        gws.nGWS = 129;
        Assert.Equal(-22, Q(ctx, gws).Ret);
    }

    [Fact]
    public void Queue_destroy_subtype_releases_through_the_queue_actor()
    {
        var ctx = NewContext();
        var (ring, rw) = Memory(ctx);
        Assert.Equal(0, TryCreateQueue(ctx, 5, 10, ring, 0x8000, 11, rw).Ret);
        Assert.IsType<BlobCreated>(CreateBlob(ctx, 20, 5, 0, 0x8000));
        Assert.Equal(0, Q(ctx, new CcmdQueueReq { type = (uint)QueueType.Destroy, res_id = 20 }).Ret);
        AwaitCondition(() => Kfd.Counters.Queues == 0, TimeSpan.FromSeconds(3));
        Assert.Equal(-22, Q(ctx, new CcmdQueueReq { type = (uint)QueueType.GetInfo, res_id = 20 }).Ret);
    }
}
