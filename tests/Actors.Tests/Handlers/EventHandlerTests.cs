using VhsaKmt.Actors.Objects;
using VhsaKmt.Actors.Tests.Support;
using VhsaKmt.Native;
using VhsaKmt.Transport.Hsakmt;
using Xunit;

namespace VhsaKmt.Actors.Tests.Handlers;

public sealed class EventHandlerTests : ContextTestBase
{
    private (int Ret, CcmdEventRsp Rsp) Ev(TestContext ctx, CcmdEventReq req)
    {
        var (ret, off) = Run(ctx, req, CcmdFamily.Event, CcmdEventRsp.Size);
        return (ret, ctx.Guest.Response<CcmdEventRsp>(off));
    }

    [Fact]
    public void Create_parks_an_event_with_an_opaque_handle_and_never_passes_user_data()
    {
        var ctx = NewContext();
        var req = new CcmdEventReq { type = (uint)EventType.Create, blob_id = 2 };
        req.create_args.EventDesc.NodeId = 1;
        req.create_args.EventDesc.SyncVar.SyncVar = 0x7fff_dead_0000;
        var (ret, rsp) = Ev(ctx, req);
        Assert.Equal(0, ret);
        var parked = Assert.Single(ctx.State.Objects.OfType<EventObject>());
        Assert.Equal(parked.Id, rsp.vevent.event_handle);
        Assert.NotEqual(parked.KfdHandle, rsp.vevent.event_handle);
        Assert.Equal((uint)parked.KfdHandle, rsp.vevent.@event.EventId);
        Assert.Contains("CreateEvent(type=0,user=0x0)", Kfd.Calls);
        Assert.Equal(1, ctx.State.Objects.ParkedCount - 0);
    }

    [Theory]
    [InlineData(0UL)]
    [InlineData(1UL << 32)]
    public void Create_with_bad_blob_id_is_refused(ulong blobId)
    {
        var ctx = NewContext();
        var req = new CcmdEventReq { type = (uint)EventType.Create, blob_id = blobId };
        req.create_args.EventDesc.NodeId = 1;
        Assert.Equal(-22, Ev(ctx, req).Ret);
        Assert.Empty(Kfd.CallsNamed("CreateEvent"));
    }

    [Fact]
    public void Create_with_reused_blob_id_bad_type_or_node_is_refused()
    {
        var ctx = NewContext();
        EventBound(ctx, 2, 10);
        var req = new CcmdEventReq { type = (uint)EventType.Create, blob_id = 2 };
        req.create_args.EventDesc.NodeId = 1;
        Assert.Equal(-22, Ev(ctx, req).Ret);
        req.blob_id = 3;
        req.create_args.EventDesc.EventType = 42;
        Assert.Equal(-22, Ev(ctx, req).Ret);
        req.create_args.EventDesc.EventType = 0;
        req.create_args.EventDesc.NodeId = 5;
        Assert.Equal((int)HsaStatus.InvalidNodeUnit, Ev(ctx, req).Ret);
    }

    [Fact]
    public void Set_reset_query_resolve_through_res_id_and_check_the_handle()
    {
        var ctx = NewContext();
        ulong h = EventBound(ctx, 2, 10);
        foreach (var t in new[] { EventType.Set, EventType.Reset, EventType.QueryState })
            Assert.Equal(0, Ev(ctx, new CcmdEventReq { type = (uint)t, res_id = 10, event_hanele = h }).Ret);
        Assert.Equal(-22, Ev(ctx, new CcmdEventReq { type = (uint)EventType.Set, res_id = 10, event_hanele = h + 1 }).Ret);
        Assert.Equal(-22, Ev(ctx, new CcmdEventReq { type = (uint)EventType.Set, res_id = 11, event_hanele = h }).Ret);
        Assert.Equal(-22, Ev(ctx, new CcmdEventReq { type = (uint)EventType.Set, res_id = ctx.ShmemResId, event_hanele = h }).Ret);
    }

    [Fact]
    public void Event_of_another_context_is_refused()
    {
        var a = NewContext(1);
        var b = NewContext(2);
        ulong h = EventBound(a, 2, 10);
        Assert.Equal(-22, Ev(b, new CcmdEventReq { type = (uint)EventType.Set, res_id = 10, event_hanele = h }).Ret);
    }

    [Fact]
    public void Destroy_sets_then_destroys_and_wait_is_enosys()
    {
        var ctx = NewContext();
        ulong h = EventBound(ctx, 2, 10);
        Assert.Equal(0, Ev(ctx, new CcmdEventReq { type = (uint)EventType.Destroy, res_id = 10, event_hanele = h }).Ret);
        var calls = Kfd.Calls.Where(c => c.StartsWith("SetEvent") || c.StartsWith("DestroyEvent")).ToArray();
        Assert.Equal(2, calls.Length);
        Assert.StartsWith("SetEvent", calls[0]);
        Assert.Equal(0, Kfd.Counters.Events);
        Assert.Equal(-38, Ev(ctx, new CcmdEventReq { type = (uint)EventType.WaitOnMultiEvents }).Ret);
    }

    [Fact]
    public void Detach_of_an_event_releases_it()
    {
        var ctx = NewContext();
        EventBound(ctx, 2, 10);
        Detach(ctx, 10);
        Assert.Equal(0, Kfd.Counters.Events);
        Assert.Empty(ctx.State.Objects.OfType<EventObject>());
    }

    [Fact]
    public void Set_trap_requires_context_memory()
    {
        var ctx = NewContext();
        ulong va = AllocBound(ctx, 2, 10, 0x10000);
        var req = new CcmdEventReq { type = (uint)EventType.SetTrap };
        req.set_trap_handler_args = new EventSetTrapHandlerArgs { NodeId = 1, TrapHandlerBaseAddress = va, TrapHandlerSizeInBytes = 0x1000, TrapBufferBaseAddress = va + 0x1000, TrapBufferSizeInBytes = 0x1000 };
        Assert.Equal(0, Ev(ctx, req).Ret);
        req.set_trap_handler_args.TrapBufferSizeInBytes = 0x10000; // runs past the allocation
        Assert.Equal(-22, Ev(ctx, req).Ret);
        req.set_trap_handler_args.TrapBufferSizeInBytes = 0x1000;
        req.set_trap_handler_args.TrapHandlerBaseAddress = 0x7fff_0000_0000;
        Assert.Equal(-22, Ev(ctx, req).Ret);
        Assert.Single(Kfd.CallsNamed("SetTrapHandler"));
    }
}
