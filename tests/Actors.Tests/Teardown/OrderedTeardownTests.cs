using VhsaKmt.TestSupport.Memory;
using Akka.Actor;
using VhsaKmt.Actors.Messages;
using VhsaKmt.Actors.Objects;
using VhsaKmt.Actors.Tests.Support;
using Xunit;

namespace VhsaKmt.Actors.Tests.Teardown;

/// <summary>PROTOCOL.md §5.3/§5.4: queue memory is freed only after its queue is destroyed and the guest dropped it.</summary>
public sealed class OrderedTeardownTests : ContextTestBase
{
    private (TestContext Ctx, ulong Ring, ulong Rw) ContextWithQueue()
    {
        var ctx = NewContext();
        ulong ring = AllocBound(ctx, 2, 10, 0x10000);
        ulong rw = AllocBound(ctx, 3, 11, 0x1000);
        Assert.Equal(0, TryCreateQueue(ctx, 5, 10, ring, 0x10000, 11, rw, doorbellBlob: 6).Ret);
        Assert.IsType<BlobCreated>(CreateBlob(ctx, 20, 5, 0, 0x10000));
        Assert.IsType<BlobCreated>(CreateBlob(ctx, 21, 6, 1, 0x2000));
        return (ctx, ring, rw);
    }

    private void AssertQueueBeforeFree(ulong ring, ulong rw)
    {
        int destroy = Kfd.Calls.FindIndex(c => c.StartsWith("DestroyQueue"));
        int freeRing = Kfd.IndexOf($"FreeMemory(0x{ring:x})");
        int freeRw = Kfd.IndexOf($"FreeMemory(0x{rw:x})");
        Assert.True(destroy >= 0, "queue destroyed");
        Assert.True(freeRing > destroy, $"ring freed after the queue ({destroy} < {freeRing})");
        Assert.True(freeRw > destroy, $"r/w memory freed after the queue ({destroy} < {freeRw})");
    }

    [Fact]
    public void Detach_queue_then_ring()
    {
        var (ctx, ring, rw) = ContextWithQueue();
        Detach(ctx, 20);
        AwaitCondition(() => Kfd.Counters.Queues == 0, TimeSpan.FromSeconds(3));
        Assert.Equal(-1, Kfd.IndexOf($"FreeMemory(0x{ring:x})")); // the guest still holds the ring
        Detach(ctx, 10);
        Detach(ctx, 11);
        AwaitCondition(() => Kfd.Counters.Allocations == 0, TimeSpan.FromSeconds(3));
        AssertQueueBeforeFree(ring, rw);
    }

    [Fact]
    public void Detach_ring_then_queue_defers_the_free()
    {
        var (ctx, ring, rw) = ContextWithQueue();
        Detach(ctx, 10);
        Detach(ctx, 11);
        Assert.Empty(Kfd.CallsNamed("FreeMemory"));
        Assert.Equal(2, Kfd.Counters.Allocations);
        // the busy ring left the res_id table: a reused res_id binds a new object (virglhack=0)
        Assert.Equal(0, TryAlloc(ctx, 8, 0x1000).Ret);
        Assert.IsType<BlobCreated>(CreateBlob(ctx, 10, 8, 0, 0x1000));
        Detach(ctx, 20);
        AwaitCondition(() => Kfd.Counters.Allocations == 1, TimeSpan.FromSeconds(3));
        AssertQueueBeforeFree(ring, rw);
    }

    [Fact]
    public void Unknown_and_foreign_res_ids_are_ignored()
    {
        var a = NewContext(1);
        var b = NewContext(2);
        AllocBound(a, 2, 10, 0x1000);
        Assert.Equal(0x1100u, Detach(b, 10).Status);
        a.Actor.Tell(new ReleaseResource(a.CtxId, 999), a.Device.Ref);
        Assert.Equal(0x1100u, a.Device.ExpectMsg<ResourceOpDone>().Status);
        Assert.Equal(1, Kfd.Counters.Allocations);
    }

    [Fact]
    public void Destroy_context_releases_everything_in_order_and_stops()
    {
        var (ctx, ring, rw) = ContextWithQueue();
        EventBound(ctx, 30, 40);
        var entries = new[] { new MemEntry(MemfdGuestMemory.Base, 0x1000) };
        Assert.IsType<BlobCreated>(CreateBlob(ctx, 41, 31, 8, 0x1000, 3, entries));
        var u = ctx.State.Objects.OfType<UserptrObject>().Single();
        var reg = new VhsaKmt.Transport.Hsakmt.CcmdMemoryReq { type = (uint)VhsaKmt.Transport.Hsakmt.MemoryType.RegMemWithFlag, res_id = 41 };
        Assert.Equal(0, Run(ctx, reg, VhsaKmt.Transport.Hsakmt.CcmdFamily.Memory, 320).Ret);
        Assert.Equal(0, TryAlloc(ctx, 32, 0x1000).Ret); // parked, never bound
        int freeSlices = Va.FreeSliceCount;

        Destroy(ctx);

        var c = Kfd.Calls;
        int queue = c.FindIndex(x => x.StartsWith("DestroyQueue"));
        int ev = c.FindIndex(x => x.StartsWith("DestroyEvent"));
        int firstFree = c.FindIndex(x => x.StartsWith("FreeMemory"));
        int dereg = Kfd.IndexOf($"DeregisterMemory(0x{u.Address:x})");
        Assert.True(queue >= 0 && queue < ev && ev < firstFree && firstFree < dereg, string.Join(" ", c));
        AssertQueueBeforeFree(ring, rw);
        Assert.True(Kfd.Counters.Snapshot().IsZero, Kfd.Counters.Snapshot().ToString());
        Assert.True(ctx.State.TornDown);
        Assert.Empty(ctx.State.Objects.Live);
        Assert.Equal(0, ctx.State.LiveActorCount);
        Assert.Equal(freeSlices + 1, Va.FreeSliceCount);
        Assert.Null(ctx.State.Shmem);
    }

    [Fact]
    public void Submit_and_blob_after_destroy_are_refused()
    {
        var ctx = NewContext();
        Destroy(ctx);
        var probe = CreateTestProbe();
        // a stopped actor: the device answers 0x1200 itself; the context never resurrects
        ctx.Actor.Tell(new Submit3D(ctx.CtxId, 1, new byte[16], 16, null), probe.Ref);
        probe.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public void Stopping_the_context_without_destroy_still_releases_in_order()
    {
        var (ctx, ring, rw) = ContextWithQueue();
        var watcher = CreateTestProbe();
        watcher.Watch(ctx.Actor);
        Sys.Stop(ctx.Actor);
        watcher.ExpectTerminated(ctx.Actor);
        AssertQueueBeforeFree(ring, rw);
        Assert.True(Kfd.Counters.Snapshot().IsZero, Kfd.Counters.Snapshot().ToString());
    }
}
