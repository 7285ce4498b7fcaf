using Serilog.Core;
using VhsaKmt.Actors.Context;
using VhsaKmt.Actors.Device;
using VhsaKmt.Actors.Handlers;
using VhsaKmt.Actors.Messages;
using VhsaKmt.Actors.Objects;
using VhsaKmt.Actors.Tests.Support;
using VhsaKmt.Native.Interop;
using VhsaKmt.TestSupport.Guest;
using VhsaKmt.Transport.Hsakmt;
using VhsaKmt.Transport.VirtioGpu;
using Xunit;
using static VhsaKmt.Transport.VirtioGpu.VirtioGpuCtrlType;

namespace VhsaKmt.Actors.Tests.Device;

/// <summary>
/// Which SUBMIT_3Ds the device model runs on the IO thread and which it hands to the DeviceActor: inline only when the
/// context has nothing outstanding and no other command is outstanding, so fences and commands keep queue order.
/// The contexts' actors are a probe (it answers for them); their fast paths run real ccmds on real shmem.
/// </summary>
public sealed class InlineSubmitRoutingTests : ContextTestBase
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(3);
    private readonly Dictionary<uint, (ContextState State, GuestCcmd Guest)> _contexts = new();
    private readonly List<IDisposable> _views = new();

    private DeviceHarness Harness() => new(this, fastPath: FastPath);

    private ContextFastPath FastPath(ContextInfo info)
    {
        var state = ContextState.Create(info, Settings);
        var cx = new HandlerContext(state, Services(), new ObjectReleaser(state, Kfd, Logger.None), new RefuseChildren(), Logger.None);
        var created = Assert.IsType<BlobCreated>(BlobResolver.Resolve(cx, new CreateBlob(info.CtxId, 1000 + info.CtxId, 2, 1, 0, 80 * 4096, []), Logger.None));
        var view = Mmap.MapShared(created.Backing!.Fd, created.Backing.FdOffset, created.Backing.Length);
        _views.Add(view);
        lock (_contexts) _contexts[info.CtxId] = (state, new GuestCcmd(view));
        return new ContextFastPath(info, state, Services());
    }

    private sealed class RefuseChildren : IContextChildren
    {
        public void SpawnQueue(QueueObject queue) => throw new InvalidOperationException();
        public void SpawnRegion(KfdObject region) => throw new InvalidOperationException();
        public void Retire(KfdObject obj) => throw new InvalidOperationException();
    }

    private GuestCcmd Guest(uint ctx) { lock (_contexts) return _contexts[ctx].Guest; }
    private ContextState State(uint ctx) { lock (_contexts) return _contexts[ctx].State; }

    private byte[] NopSubmit(uint ctx, ulong fence, uint flags = GpuRequests.FenceAndRing) =>
        GpuRequests.Submit3D(ctx, Guest(ctx).Encode(new CcmdNopReq(), CcmdFamily.Nop, 0), flags, fenceId: fence, ringIdx: 0);

    private void Done(DeviceHarness h, params SentRequest[] rs) => AwaitCondition(() => rs.All(h.IsCompleted), Wait);

    [Fact]
    public void Submit_of_a_free_context_is_answered_before_the_kick_returns_without_the_actors()
    {
        var h = Harness();
        h.CreateContext(this, 1);
        long forwarded = h.Model.CommandsForwarded;

        var s = h.SendOne(NopSubmit(1, fence: 7));

        Assert.True(h.IsCompleted(s)); // no waiting: it ran on this (the "IO") thread
        var r = h.Response(s);
        Assert.Equal((uint)VIRTIO_GPU_RESP_OK_NODATA, r.type);
        Assert.Equal(GpuRequests.FenceAndRing, r.flags);
        Assert.Equal(7ul, r.fence_id);
        Assert.Equal(1u, r.ctx_id);
        Assert.Equal(Guest(1).LastSeqno, Guest(1).PublishedSeqno);
        Assert.Equal(1, h.Model.SubmitsInline);
        Assert.Equal(forwarded, h.Model.CommandsForwarded);
        h.Contexts.ExpectNoMsg(TimeSpan.FromMilliseconds(50));
    }

    [Fact]
    public void Later_submits_of_a_context_with_one_outstanding_go_to_its_actor_in_fence_order_while_other_contexts_stay_inline()
    {
        var h = Harness();
        h.CreateContext(this, 1);
        h.CreateContext(this, 2);

        // ctx 1 busy (its state held elsewhere): s1 goes to the actor, and so must s2, although ctx 1 is free by then.
        SentRequest s1;
        lock (State(1).Sync)
        {
            var t = new Thread(() => s1Holder = h.SendOne(NopSubmit(1, fence: 1)));
            t.Start();
            t.Join();
            s1 = s1Holder!;
        }
        var s2 = h.SendOne(NopSubmit(1, fence: 2));
        var other = h.SendOne(NopSubmit(2, fence: 3));
        Assert.True(h.IsCompleted(other));
        Assert.Equal(1, h.Model.SubmitsInline);

        var m1 = h.Contexts.ExpectMsg<Submit3D>(Wait);
        var ctx1 = h.Contexts.LastSender;
        var m2 = h.Contexts.ExpectMsg<Submit3D>(Wait);
        Assert.Equal(new FenceRef(1, 0, true), m1.Fence);
        Assert.Equal(new FenceRef(2, 0, true), m2.Fence);
        Assert.Equal(0u, Guest(1).PublishedSeqno); // neither ran inline
        Assert.Equal(2, h.Model.Outstanding);

        h.Device.Tell(new SubmitDone(1, m2.SubmitId, (uint)VIRTIO_GPU_RESP_OK_NODATA), ctx1);
        h.Contexts.ExpectNoMsg(TimeSpan.FromMilliseconds(50));
        Assert.False(h.IsCompleted(s2)); // parked behind fence 1
        h.Device.Tell(new SubmitDone(1, m1.SubmitId, (uint)VIRTIO_GPU_RESP_OK_NODATA), ctx1);
        Done(h, s1, s2);
        Assert.True(h.CompletionIndex(s1) < h.CompletionIndex(s2));

        AwaitCondition(() => h.Model.Outstanding == 0, Wait);
        var s3 = h.SendOne(NopSubmit(1, fence: 4));
        Assert.True(h.IsCompleted(s3)); // nothing outstanding again: inline
        Assert.Equal(2, h.Model.SubmitsInline);
        Assert.Equal(Guest(1).LastSeqno, Guest(1).PublishedSeqno);
    }

    private SentRequest? s1Holder;

    [Fact]
    public void Submit_behind_an_outstanding_create_blob_waits_for_it_on_the_actor_path()
    {
        var h = Harness();
        h.CreateContext(this, 1);
        var create = h.SendOne(GpuRequests.CreateBlob(1, 5, VirtioGpuConst.VIRTIO_GPU_BLOB_MEM_HOST3D, 0, 2, 4096));
        var submit = h.SendOne(NopSubmit(1, fence: 9));
        var cb = h.Contexts.ExpectMsg<CreateBlob>(Wait);
        var ctx1 = h.Contexts.LastSender;
        Assert.False(h.IsCompleted(submit));
        Assert.Equal(0, h.Model.SubmitsInline);
        Assert.Equal(0u, Guest(1).PublishedSeqno);

        h.Device.Tell(new BlobCreated(1, cb.ResId, null, 0), ctx1);
        var m = h.Contexts.ExpectMsg<Submit3D>(Wait);
        h.Device.Tell(new SubmitDone(1, m.SubmitId, (uint)VIRTIO_GPU_RESP_OK_NODATA), ctx1);
        Done(h, create, submit);
        Assert.True(h.CompletionIndex(create) < h.CompletionIndex(submit));
    }

    [Fact]
    public void Another_contexts_pending_create_blob_does_not_hold_a_submit_off_the_inline_path()
    {
        var h = Harness();
        h.CreateContext(this, 1);
        h.CreateContext(this, 2);
        var create = h.SendOne(GpuRequests.CreateBlob(1, 5, VirtioGpuConst.VIRTIO_GPU_BLOB_MEM_HOST3D, 0, 2, 4096));
        var cb = h.Contexts.ExpectMsg<CreateBlob>(Wait);
        var ctx1 = h.Contexts.LastSender;

        var other = h.SendOne(NopSubmit(2, fence: 1));
        Assert.True(h.IsCompleted(other)); // inline, while ctx 1's blob is outstanding
        Assert.Equal(Guest(2).LastSeqno, Guest(2).PublishedSeqno);
        var own = h.SendOne(NopSubmit(1, fence: 2));
        Assert.False(h.IsCompleted(own));
        Assert.Equal(1, h.Model.SubmitsInline);

        h.Device.Tell(new BlobCreated(1, cb.ResId, null, 0), ctx1);
        var m = h.Contexts.ExpectMsg<Submit3D>(Wait);
        h.Device.Tell(new SubmitDone(1, m.SubmitId, (uint)VIRTIO_GPU_RESP_OK_NODATA), ctx1);
        Done(h, create, own);
    }

    [Fact]
    public void Device_wide_command_outstanding_holds_every_context_off_the_inline_path()
    {
        var h = Harness();
        h.CreateContext(this, 1);
        var sent = h.Send(GpuRequests.Unref(77), NopSubmit(1, fence: 1)); // UNREF names no context: device-wide
        var m = h.Contexts.ExpectMsg<Submit3D>(Wait); // to the actor (the probe plays it)
        h.Contexts.Reply(new SubmitDone(1, m.SubmitId, (uint)VIRTIO_GPU_RESP_OK_NODATA));
        Done(h, sent);
        Assert.Equal(0, h.Model.SubmitsInline);
        Assert.True(h.CompletionIndex(sent[0]) < h.CompletionIndex(sent[1]));
        Assert.Equal(VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID, h.ResponseType(sent[0]));
    }

    [Fact]
    public void Destroyed_context_loses_its_lane_and_its_next_submit_is_refused_by_the_device()
    {
        var h = Harness();
        h.CreateContext(this, 1);
        Assert.Equal(1, h.Lanes!.Count);
        var destroy = h.SendOne(GpuRequests.CtxDestroy(1));
        Done(h, destroy);
        Assert.Equal(0, h.Lanes.Count);

        var submit = h.SendOne(NopSubmit(1, fence: 5));
        Done(h, submit);
        Assert.Equal(VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID, h.ResponseType(submit));
        Assert.Equal(0u, Guest(1).PublishedSeqno);
        Assert.Equal(0, h.Model.SubmitsInline);
    }

    [Fact]
    public void Fence_without_ring_idx_is_on_the_device_timeline_and_goes_to_the_actor()
    {
        var h = Harness();
        h.CreateContext(this, 1);
        var s = h.SendOne(NopSubmit(1, fence: 3, flags: VirtioGpuConst.VIRTIO_GPU_FLAG_FENCE));
        var m = h.Contexts.ExpectMsg<Submit3D>(Wait);
        Assert.Equal(new FenceRef(3, 0, false), m.Fence);
        h.Contexts.Reply(new SubmitDone(1, m.SubmitId, (uint)VIRTIO_GPU_RESP_OK_NODATA));
        Done(h, s);
        Assert.Equal(0, h.Model.SubmitsInline);
    }

    [Fact]
    public void Several_inline_submits_in_one_kick_cost_one_flush_and_are_counted_in_the_metrics()
    {
        using var counted = new VhsaKmt.TestSupport.Metrics.CounterProbe("vhsakmt.submits.inline", "vm", "vm-test");
        var h = Harness();
        h.CreateContext(this, 1);
        h.CreateContext(this, 2);
        int flushes = h.Host.Control.Flushes;
        var sent = h.Send(NopSubmit(1, 1), NopSubmit(2, 2), NopSubmit(1, 3));
        Assert.All(sent, s => Assert.True(h.IsCompleted(s)));
        Assert.Equal(3, h.Model.SubmitsInline);
        Assert.Equal(flushes + 1, h.Host.Control.Flushes);
        Assert.Equal(Guest(1).LastSeqno, Guest(1).PublishedSeqno);
        Assert.Equal(Guest(2).LastSeqno, Guest(2).PublishedSeqno);
        Assert.True(counted.Total >= 3, $"vhsakmt.submits.inline counted {counted.Total}");
    }

    [Fact]
    public void Inline_submits_are_off_without_lanes()
    {
        var h = new DeviceHarness(this);
        h.CreateContext(this, 1);
        var s = h.SendOne(GpuRequests.Submit3D(1, new byte[16], GpuRequests.FenceAndRing, fenceId: 1));
        var m = h.Contexts.ExpectMsg<Submit3D>(Wait);
        h.Contexts.Reply(new SubmitDone(1, m.SubmitId, (uint)VIRTIO_GPU_RESP_OK_NODATA));
        Done(h, s);
        Assert.Equal(0, h.Model.SubmitsInline);
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing) foreach (var v in _views) v.Dispose();
    }
}
