using Akka.Actor;
using Akka.TestKit.Xunit2;
using VhsaKmt.Actors.Device;
using VhsaKmt.Actors.Messages;
using VhsaKmt.Native.Interop;
using VhsaKmt.TestSupport.Guest;
using VhsaKmt.Transport.Hsakmt;
using VhsaKmt.Transport.Virtio;
using VhsaKmt.Transport.VirtioGpu;
using Xunit;
using static VhsaKmt.Transport.VirtioGpu.VirtioGpuCtrlType;

namespace VhsaKmt.Actors.Tests.Device;

public sealed class DeviceActorTests : TestKit
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(3);
    private const uint Capset8 = VirtioGpuConst.VIRTIO_GPU_CAPSET_HSAKMT;
    private const uint Mappable = VirtioGpuConst.VIRTIO_GPU_BLOB_FLAG_USE_MAPPABLE;
    private const uint Host3D = VirtioGpuConst.VIRTIO_GPU_BLOB_MEM_HOST3D;

    private void Done(DeviceHarness h, params SentRequest[] rs) => AwaitCondition(() => rs.All(h.IsCompleted), Wait);

    [Fact]
    public void Capset_info_advertises_capset_8_and_only_index_0()
    {
        var h = new DeviceHarness(this);
        var (ok, bad) = (h.SendOne(GpuRequests.GetCapsetInfo(0)), h.SendOne(GpuRequests.GetCapsetInfo(1)));
        Done(h, ok, bad);

        var info = h.Read<VirtioGpuRespCapsetInfo>(ok);
        Assert.Equal((uint)VIRTIO_GPU_RESP_OK_CAPSET_INFO, info.hdr.type);
        Assert.Equal(8u, info.capset_id);
        Assert.Equal(1u, info.capset_max_version);
        Assert.Equal(24u, info.capset_max_size);
        Assert.Equal(VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, h.ResponseType(bad));
    }

    [Fact]
    public void Get_capset_returns_the_24_byte_hsakmt_capset_with_context_type_1()
    {
        var h = new DeviceHarness(this);
        var ok = h.SendOne(GpuRequests.GetCapset(8, 0));
        var badVersion = h.SendOne(GpuRequests.GetCapset(8, 2));
        var badId = h.SendOne(GpuRequests.GetCapset(1, 0));
        Done(h, ok, badVersion, badId);

        Assert.Equal(VIRTIO_GPU_RESP_OK_CAPSET, h.ResponseType(ok));
        Assert.Equal(24u + 24u, h.Host.Control.Used.Single(u => ReferenceEquals(u.Chain, ok.Chain)).Written);
        var caps = System.Runtime.InteropServices.MemoryMarshal.Read<CapsetHsakmt>(h.ResponseBytes(ok).AsSpan(24));
        Assert.Equal(1u, caps.context_type);
        Assert.Equal(1u, caps.version_major);
        Assert.Equal(17u, caps.version_minor);
        Assert.Equal(VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, h.ResponseType(badVersion));
        Assert.Equal(VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, h.ResponseType(badId));
    }

    [Theory]
    [InlineData(0u)]           // the kernel's own 3D context (no capset)
    [InlineData(2u)]           // virgl2
    [InlineData(8u | 0x100u)]  // capset 8 plus other bits
    public void Ctx_create_rejects_anything_but_exactly_capset_8(uint contextInit)
    {
        var h = new DeviceHarness(this);
        var r = h.SendOne(GpuRequests.CtxCreate(1, contextInit, "x"));
        Done(h, r);
        Assert.Equal(VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, h.ResponseType(r));
        Assert.Equal(0, h.Spawner.Spawned);
    }

    [Fact]
    public void Ctx_create_is_idempotent_and_bounded_per_vm()
    {
        var settings = DeviceSettings.Default with { MaxContextsPerVm = 2 };
        var h = new DeviceHarness(this, settings);
        var rs = h.Send(
            GpuRequests.CtxCreate(1, Capset8, "a"),
            GpuRequests.CtxCreate(1, Capset8, "a"),
            GpuRequests.CtxCreate(2, Capset8, "b"),
            GpuRequests.CtxCreate(3, Capset8, "c"));
        Done(h, rs);

        Assert.Equal(VIRTIO_GPU_RESP_OK_NODATA, h.ResponseType(rs[0]));
        Assert.Equal(VIRTIO_GPU_RESP_OK_NODATA, h.ResponseType(rs[1]));
        Assert.Equal(VIRTIO_GPU_RESP_OK_NODATA, h.ResponseType(rs[2]));
        Assert.Equal(VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY, h.ResponseType(rs[3]));
        Assert.Equal(2, h.Spawner.Spawned);
    }

    [Fact]
    public void Fences_retire_in_order_per_ring_and_rings_do_not_wait_for_each_other()
    {
        var h = new DeviceHarness(this);
        h.CreateContext(this, 1);
        var payload = new byte[16];
        var s1 = h.SendOne(GpuRequests.Submit3D(1, payload, GpuRequests.FenceAndRing, fenceId: 10, ringIdx: 0));
        var s2 = h.SendOne(GpuRequests.Submit3D(1, payload, GpuRequests.FenceAndRing, fenceId: 12, ringIdx: 0));
        var s3 = h.SendOne(GpuRequests.Submit3D(1, payload, GpuRequests.FenceAndRing, fenceId: 13, ringIdx: 5));
        var m1 = h.Contexts.ExpectMsg<Submit3D>(Wait);
        var c1 = h.Contexts.LastSender;
        var m2 = h.Contexts.ExpectMsg<Submit3D>(Wait);
        var m3 = h.Contexts.ExpectMsg<Submit3D>(Wait);
        Assert.Equal(new FenceRef(10, 0, true), m1.Fence);
        Assert.Equal(16, m1.Length);

        h.Device.Tell(new SubmitDone(1, m2.SubmitId, (uint)VIRTIO_GPU_RESP_OK_NODATA), c1);
        h.Device.Tell(new SubmitDone(1, m3.SubmitId, (uint)VIRTIO_GPU_RESP_OK_NODATA), c1);
        Done(h, s3);
        Assert.False(h.IsCompleted(s2)); // parked behind fence 10 on ring 0
        Assert.False(h.IsCompleted(s1));

        h.Device.Tell(new SubmitDone(1, m1.SubmitId, (uint)VIRTIO_GPU_RESP_OK_NODATA), c1);
        Done(h, s1, s2);
        Assert.True(h.CompletionIndex(s1) < h.CompletionIndex(s2));

        var r2 = h.Response(s2);
        Assert.Equal((uint)VIRTIO_GPU_RESP_OK_NODATA, r2.type);
        Assert.Equal(GpuRequests.FenceAndRing, r2.flags);
        Assert.Equal(12ul, r2.fence_id);
        Assert.Equal(1u, r2.ctx_id);
        var r3 = h.Response(s3);
        Assert.Equal(13ul, r3.fence_id);
        Assert.Equal((byte)5, r3.ring_idx);
    }

    [Fact]
    public void Submit_error_status_is_answered_and_unknown_context_retires_its_fence()
    {
        var h = new DeviceHarness(this);
        h.CreateContext(this, 1);
        var unknown = h.SendOne(GpuRequests.Submit3D(7, new byte[16], GpuRequests.FenceAndRing, fenceId: 1));
        var noShmem = h.SendOne(GpuRequests.Submit3D(1, new byte[16], GpuRequests.FenceAndRing, fenceId: 2));
        var m = h.Contexts.ExpectMsg<Submit3D>(Wait);
        h.Contexts.Reply(new SubmitDone(1, m.SubmitId, (uint)VIRTIO_GPU_RESP_ERR_UNSPEC));
        Done(h, unknown, noShmem);

        Assert.Equal(VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID, h.ResponseType(unknown));
        Assert.Equal(1ul, h.Response(unknown).fence_id);
        Assert.Equal(VIRTIO_GPU_RESP_ERR_UNSPEC, h.ResponseType(noShmem));
        Assert.Equal(2ul, h.Response(noShmem).fence_id);
    }

    [Fact]
    public void Create_blob_defers_later_commands_until_the_context_answers()
    {
        var h = new DeviceHarness(this);
        h.CreateContext(this, 1);
        var create = h.SendOne(GpuRequests.CreateBlob(1, 5, Host3D, 0, 2, 4096));
        var attach = h.SendOne(GpuRequests.CtxAttach(1, 5));
        var cb = h.Contexts.ExpectMsg<CreateBlob>(Wait);
        var device = h.Contexts.LastSender;
        Assert.Equal((5u, 2ul, 4096ul), (cb.ResId, cb.BlobId, cb.Size));
        h.Contexts.ExpectNoMsg(TimeSpan.FromMilliseconds(100)); // ATTACH waits: it names res 5, not yet known
        Assert.False(h.IsCompleted(attach));

        device.Tell(new BlobCreated(1, 5, null, 0));
        var at = h.Contexts.ExpectMsg<AttachResource>(Wait);
        Assert.Equal(5u, at.ResId);
        h.Contexts.Reply(new ResourceOpDone(1, 5, (uint)VIRTIO_GPU_RESP_OK_NODATA));
        Done(h, create, attach);
        Assert.Equal(VIRTIO_GPU_RESP_OK_NODATA, h.ResponseType(create));
        Assert.Equal(VIRTIO_GPU_RESP_OK_NODATA, h.ResponseType(attach));
    }

    [Fact]
    public void Submit_of_another_context_passes_a_pending_create_blob_but_nothing_deferred_before_it()
    {
        var h = new DeviceHarness(this);
        h.CreateContext(this, 1);
        h.CreateContext(this, 2);
        var create = h.SendOne(GpuRequests.CreateBlob(1, 5, Host3D, 0, 2, 4096));
        h.Contexts.ExpectMsg<CreateBlob>(Wait);
        var ctx1 = h.Contexts.LastSender;

        // ctx 2 is not held back by ctx 1's blob: its submit reaches its context and is answered meanwhile.
        var other = h.SendOne(GpuRequests.Submit3D(2, new byte[16], GpuRequests.FenceAndRing, fenceId: 1));
        var m2 = h.Contexts.ExpectMsg<Submit3D>(Wait);
        Assert.Equal(2u, m2.CtxId);
        h.Contexts.Reply(new SubmitDone(2, m2.SubmitId, (uint)VIRTIO_GPU_RESP_OK_NODATA));
        Done(h, other);
        Assert.False(h.IsCompleted(create));

        // ctx 1's own submit waits; so does ctx 2 once something of its own is deferred before it.
        var own = h.SendOne(GpuRequests.Submit3D(1, new byte[16], GpuRequests.FenceAndRing, fenceId: 2));
        var attach = h.SendOne(GpuRequests.CtxAttach(2, 5));
        var behind = h.SendOne(GpuRequests.Submit3D(2, new byte[16], GpuRequests.FenceAndRing, fenceId: 3));
        h.Contexts.ExpectNoMsg(TimeSpan.FromMilliseconds(100));

        h.Device.Tell(new BlobCreated(1, 5, null, 0), ctx1);
        // Deferred commands go out in order per context (ctx 1 and ctx 2 reach the probe through different actors).
        var released = new[] { h.Contexts.ReceiveOne(Wait)!, h.Contexts.ReceiveOne(Wait)!, h.Contexts.ReceiveOne(Wait)! };
        var s1 = Assert.Single(released.OfType<Submit3D>(), m => m.CtxId == 1);
        var forCtx2 = released.Where(m => m is AttachResource or Submit3D { CtxId: 2 }).ToArray();
        Assert.IsType<AttachResource>(forCtx2[0]);
        var s2 = Assert.IsType<Submit3D>(forCtx2[1]);
        h.Device.Tell(new SubmitDone(1, s1.SubmitId, (uint)VIRTIO_GPU_RESP_OK_NODATA));
        h.Device.Tell(new ResourceOpDone(2, 5, (uint)VIRTIO_GPU_RESP_OK_NODATA));
        h.Device.Tell(new SubmitDone(2, s2.SubmitId, (uint)VIRTIO_GPU_RESP_OK_NODATA));
        Done(h, create, own, attach, behind);
        Assert.True(h.CompletionIndex(other) < h.CompletionIndex(create));
        Assert.True(h.CompletionIndex(attach) < h.CompletionIndex(behind));
    }

    [Fact]
    public void Queue_depth_gauge_counts_commands_popped_and_not_yet_answered_per_vm()
    {
        var h = new DeviceHarness(this, vmId: "vm-depth");
        h.CreateContext(this, 1);
        Assert.Equal(0, Depth("vm-depth"));
        var create = h.SendOne(GpuRequests.CreateBlob(1, 5, Host3D, 0, 2, 4096));
        var submit = h.SendOne(GpuRequests.Submit3D(1, new byte[16], GpuRequests.FenceAndRing, fenceId: 1));
        h.Contexts.ExpectMsg<CreateBlob>(Wait);
        Assert.Equal(2, Depth("vm-depth"));
        h.Contexts.Reply(new BlobCreated(1, 5, null, 0));
        var m = h.Contexts.ExpectMsg<Submit3D>(Wait);
        h.Contexts.Reply(new SubmitDone(1, m.SubmitId, (uint)VIRTIO_GPU_RESP_OK_NODATA));
        Done(h, create, submit);
        Assert.Equal(0, Depth("vm-depth"));
        h.Model.Reset(DeviceResetReason.Disconnect);
        Assert.Null(DepthOrNull("vm-depth")); // a gone device is not reported
    }

    private static long Depth(string vm) => DepthOrNull(vm) ?? throw new InvalidOperationException($"no queue depth reported for {vm}");

    private static long? DepthOrNull(string vm) => VhsaKmt.TestSupport.Metrics.GaugeReading.Read("vhsakmt.virtio_gpu.queue.depth", "vm", vm);

    [Fact]
    public void Create_blob_refused_by_the_context_is_answered_with_its_error()
    {
        var h = new DeviceHarness(this);
        h.CreateContext(this, 1);
        var create = h.SendOne(GpuRequests.CreateBlob(1, 5, Host3D, Mappable, 9, 4096));
        h.Contexts.ExpectMsg<CreateBlob>(Wait);
        h.Contexts.Reply(new BlobRefused(1, 5, (uint)VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, "events are not mappable"));
        Done(h, create);
        Assert.Equal(VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, h.ResponseType(create));

        var svm = h.SendOne(GpuRequests.CreateBlob(1, 6, VirtioGpuConst.VIRTIO_GPU_BLOB_MEM_HOST3D_GUEST, VirtioGpuConst.VIRTIO_GPU_BLOB_FLAG_USE_SVM, 3, 4096, [(0x2000, 4096)]));
        Done(h, svm);
        Assert.Equal(VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, h.ResponseType(svm));
        h.Contexts.ExpectNoMsg(TimeSpan.FromMilliseconds(50));
    }

    [Fact]
    public void Map_blob_sends_shmem_map_of_the_backing_and_answers_map_info()
    {
        var h = new DeviceHarness(this);
        h.CreateContext(this, 1);
        using var backing = Memfd.Create("t", 80 * 4096);
        var create = h.SendOne(GpuRequests.CreateBlob(1, 5, Host3D, Mappable, 0, 80 * 4096));
        h.Contexts.ExpectMsg<CreateBlob>(Wait);
        h.Contexts.Reply(new BlobCreated(1, 5, new BlobBacking(backing, 0, 80 * 4096), VirtioGpuConst.VIRTIO_GPU_MAP_CACHE_CACHED));
        var map = h.SendOne(GpuRequests.MapBlob(1, 5, 0x200000));
        Done(h, create, map);

        Assert.Equal(VIRTIO_GPU_RESP_OK_MAP_INFO, h.ResponseType(map));
        Assert.Equal(VirtioGpuConst.VIRTIO_GPU_MAP_CACHE_CACHED, h.Read<VirtioGpuRespMapInfo>(map).map_info);
        Assert.True(h.Channel.Calls.TryDequeue(out var call));
        Assert.Equal(new ShmemCall(true, 1, 0, 0x200000, 80 * 4096, ShmemMapFlags.Read | ShmemMapFlags.Write), call);

        var again = h.SendOne(GpuRequests.MapBlob(1, 5, 0x400000));
        var unmap = h.SendOne(GpuRequests.UnmapBlob(1, 5));
        Done(h, again, unmap);
        Assert.Equal(VIRTIO_GPU_RESP_ERR_UNSPEC, h.ResponseType(again));
        Assert.Equal(VIRTIO_GPU_RESP_OK_NODATA, h.ResponseType(unmap));
        Assert.True(h.Channel.Calls.TryDequeue(out var un));
        Assert.Equal(new ShmemCall(false, 1, 0, 0x200000, 80 * 4096, ShmemMapFlags.None), un);
    }

    [Fact]
    public void Map_blob_without_shmem_channel_is_err_unspec()
    {
        var h = new DeviceHarness(this, withShmem: false);
        h.CreateContext(this, 1);
        using var backing = Memfd.Create("t", 4096);
        h.SendOne(GpuRequests.CreateBlob(1, 5, Host3D, Mappable, 0, 4096));
        h.Contexts.ExpectMsg<CreateBlob>(Wait);
        h.Contexts.Reply(new BlobCreated(1, 5, new BlobBacking(backing, 0, 4096), 1));
        var map = h.SendOne(GpuRequests.MapBlob(1, 5, 0));
        var unknown = h.SendOne(GpuRequests.MapBlob(1, 99, 0));
        Done(h, map, unknown);
        Assert.Equal(VIRTIO_GPU_RESP_ERR_UNSPEC, h.ResponseType(map));
        Assert.Equal(VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID, h.ResponseType(unknown));
    }

    [Fact]
    public void Unref_unmaps_then_fans_release_out_to_every_live_context_and_answers_after_all()
    {
        var h = new DeviceHarness(this);
        h.CreateContext(this, 1);
        h.CreateContext(this, 2);
        using var backing = Memfd.Create("t", 4096);
        h.SendOne(GpuRequests.CreateBlob(1, 5, Host3D, Mappable, 0, 4096));
        h.Contexts.ExpectMsg<CreateBlob>(Wait);
        h.Contexts.Reply(new BlobCreated(1, 5, new BlobBacking(backing, 0, 4096), 1));
        var map = h.SendOne(GpuRequests.MapBlob(1, 5, 0x1000));
        Done(h, map);

        var unref = h.SendOne(GpuRequests.Unref(5));
        var releases = new[] { h.Contexts.ExpectMsg<ReleaseResource>(Wait), h.Contexts.ExpectMsg<ReleaseResource>(Wait) };
        Assert.Equal(new uint[] { 1, 2 }, releases.Select(r => r.CtxId).Order());
        Assert.All(releases, r => Assert.Equal(5u, r.ResId));
        Assert.Contains(h.Channel.Calls, c => !c.Map && c.ShmOffset == 0x1000);

        h.Device.Tell(new ResourceOpDone(1, 5, (uint)VIRTIO_GPU_RESP_OK_NODATA));
        h.Contexts.ExpectNoMsg(TimeSpan.FromMilliseconds(50));
        Assert.False(h.IsCompleted(unref));
        h.Device.Tell(new ResourceOpDone(2, 5, (uint)VIRTIO_GPU_RESP_OK_NODATA));
        Done(h, unref);
        Assert.Equal(VIRTIO_GPU_RESP_OK_NODATA, h.ResponseType(unref));

        var again = h.SendOne(GpuRequests.Unref(5));
        Done(h, again);
        Assert.Equal(VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID, h.ResponseType(again));
    }

    [Fact]
    public void Unref_after_ctx_destroy_still_works_and_later_commands_get_invalid_context()
    {
        var h = new DeviceHarness(this);
        h.CreateContext(this, 1);
        h.SendOne(GpuRequests.CreateBlob(1, 5, Host3D, 0, 2, 4096));
        h.Contexts.ExpectMsg<CreateBlob>(Wait);
        h.Contexts.Reply(new BlobCreated(1, 5, null, 0));
        var destroy = h.SendOne(GpuRequests.CtxDestroy(1));
        h.Contexts.ExpectMsg<DestroyContext>(Wait);
        var submit = h.SendOne(GpuRequests.Submit3D(1, new byte[16], GpuRequests.FenceAndRing, 3));
        var unref = h.SendOne(GpuRequests.Unref(5));
        Done(h, destroy, submit, unref);
        Assert.Equal(VIRTIO_GPU_RESP_OK_NODATA, h.ResponseType(destroy));
        Assert.Equal(VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID, h.ResponseType(submit));
        Assert.Equal(VIRTIO_GPU_RESP_OK_NODATA, h.ResponseType(unref));
    }

    [Fact]
    public async Task A_context_that_stops_with_work_pending_gets_its_fences_retired_with_errors()
    {
        var h = new DeviceHarness(this);
        h.CreateContext(this, 1);
        var s = h.SendOne(GpuRequests.Submit3D(1, new byte[16], GpuRequests.FenceAndRing, 4));
        h.Contexts.ExpectMsg<Submit3D>(Wait);
        var child = await Sys.ActorSelection(h.Device.Path / "ctx-1").ResolveOne(Wait);
        child.Tell(PoisonPill.Instance);
        Done(h, s);
        Assert.Equal(VIRTIO_GPU_RESP_ERR_UNSPEC, h.ResponseType(s));
    }

    [Fact]
    public void Disconnect_destroys_every_context_then_stops_the_device()
    {
        var h = new DeviceHarness(this);
        h.CreateContext(this, 1);
        h.CreateContext(this, 2);
        Watch(h.Device);
        h.Model.Reset(DeviceResetReason.Disconnect);
        var destroyed = new[] { h.Contexts.ExpectMsg<DestroyContext>(Wait), h.Contexts.ExpectMsg<DestroyContext>(Wait) };
        Assert.Equal(new uint[] { 1, 2 }, destroyed.Select(d => d.CtxId).Order());
        ExpectTerminated(h.Device, Wait);
    }

    [Fact]
    public void Two_d_commands_behind_a_display_front_end_are_answered_after_id_checks()
    {
        var h = new DeviceHarness(this);
        var rs = h.Send(
            GpuRequests.GetDisplayInfo(),
            GpuRequests.Create2D(1, 1024, 768),
            GpuRequests.SetScanout(0, 1),
            GpuRequests.TransferToHost2D(1),
            GpuRequests.ResourceFlush(1),
            GpuRequests.ResourceFlush(42),
            GpuRequests.SetScanout(16, 1),
            GpuRequests.Create2D(1, 1, 1),
            GpuRequests.Unref(1));
        Done(h, rs);
        Assert.Equal(
            new[] { VIRTIO_GPU_RESP_OK_DISPLAY_INFO, VIRTIO_GPU_RESP_OK_NODATA, VIRTIO_GPU_RESP_OK_NODATA, VIRTIO_GPU_RESP_OK_NODATA,
                    VIRTIO_GPU_RESP_OK_NODATA, VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID, VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID,
                    VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID, VIRTIO_GPU_RESP_OK_NODATA },
            rs.Select(h.ResponseType));
        Assert.Equal(0u, h.Read<VirtioGpuRespDisplayInfo>(rs[0]).pmodes[0].enabled);
        Assert.True(h.Host.Control.Flushes >= 1);
    }

    [Fact]
    public void Cursor_queue_is_drained_and_acknowledged_on_the_io_thread()
    {
        var h = new DeviceHarness(this);
        var c = ChainFactory.Make(h.Memory, new byte[56], 0);
        h.Host.Cursor.Push(c.Chain);
        h.Model.OnQueueNotified(VirtioGpuDeviceModel.CursorQueue);
        Assert.Single(h.Host.Cursor.Used);
        Assert.Equal(1, h.Host.Cursor.Flushes);
    }
}
