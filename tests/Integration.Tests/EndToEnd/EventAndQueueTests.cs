using System.Buffers.Binary;
using VhsaKmt.Native;
using VhsaKmt.Native.Hsa;
using VhsaKmt.TestSupport.Guest;
using VhsaKmt.Transport.VirtioGpu;
using Xunit;

namespace VhsaKmt.Integration.Tests.EndToEnd;

[Collection(EndToEndCollection.Name)]
public sealed class EventAndQueueTests
{
    private const uint HostMem = HsaMemFlags.HostAccess | HsaMemFlags.CoarseGrain;
    private const uint ComputeAql = 21;

    [Fact]
    public async Task Events_are_created_set_queried_and_reset_through_their_blob()
    {
        await using var d = await DaemonHarness.StartAsync();
        var p = DaemonHarness.Process(new GuestGpu(d.Connect()));
        Assert.Equal(0, p.OpenKfd().Ret);

        var ev = p.CreateEvent(manualReset: true);
        Assert.Equal(0, ev.Ret);
        Assert.Equal(VirtioGpuCtrlType.VIRTIO_GPU_RESP_OK_NODATA, ev.BlobStatus);
        Assert.NotEqual(0UL, ev.Event.event_handle);
        Assert.Equal(1, d.Kfd.Counters.Events);

        // hsaKmtQueryEventState reports a valid event (the thunk does not look at its state).
        Assert.Equal(0, p.QueryEvent(ev).Ret);
        Assert.Equal(0, p.SetEvent(ev).Ret);
        Assert.Equal(0, p.ResetEvent(ev).Ret);
        Assert.Equal(0, p.QueryEvent(ev).Ret);

        p.Release(ev.Blob!);
        await DaemonHarness.Eventually(() => d.Kfd.Counters.Events == 0, "event destroyed");
        Assert.True(p.QueryEvent(ev).Ret < 0, "a released event is unknown to the host"); // resolved by res_id, never by the echoed handle
    }

    private static (GuestAllocation Ring, GuestAllocation Rw, GuestQueue Queue) NewAqlQueue(RocmProcess p)
    {
        var ring = p.AllocMemory(1, 0x10000, HostMem);
        var rw = p.AllocMemory(1, 0x1000, HostMem);
        Assert.Equal(0, ring.Ret);
        Assert.Equal(0, rw.Ret);
        var q = p.CreateQueue(1, ComputeAql, ring, 0x10000, rw, writePtr: rw.Va, readPtr: rw.Va + 8);
        Assert.Equal(0, q.Ret);
        return (ring, rw, q);
    }

    [Fact]
    public async Task Aql_queue_has_a_mapped_doorbell_and_sees_the_guest_write_pointer()
    {
        await using var d = await DaemonHarness.StartAsync();
        var vmm = d.Connect();
        var p = DaemonHarness.Process(new GuestGpu(vmm));
        Assert.Equal(0, p.OpenKfd().Ret);
        var (ring, rw, q) = NewAqlQueue(p);

        Assert.NotEqual(0UL, q.Resource.r.QueueId);
        Assert.Equal(q.Resource.host_doorbell, q.Resource.r.QueueDoorBell);
        Assert.NotNull(q.DoorbellBlob!.ShmOffset);
        Assert.Equal(1, d.Kfd.Counters.Queues);

        // ROCr bumps the write pointer in its own (mirrored) memory: the host reads the same value at the same VA.
        var wptr = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(wptr, 0x40);
        vmm.Window!.Write(rw.Blob!.ShmOffset!.Value, wptr);
        Assert.Equal(0x40UL, BinaryPrimitives.ReadUInt64LittleEndian(DaemonHarness.ReadHost(q.Resource.r.QueueWptrValue, 8)));
        // The doorbell page of the guest mapping is the host's doorbell page.
        vmm.Window.Write(q.DoorbellBlob.ShmOffset!.Value + q.Resource.host_doorbell_offset, wptr);
        Assert.Equal(0x40UL, BinaryPrimitives.ReadUInt64LittleEndian(DaemonHarness.ReadHost(q.Resource.host_doorbell, 8)));
    }

    [Fact]
    public async Task Queue_destroyed_before_its_memory_frees_everything()
    {
        await using var d = await DaemonHarness.StartAsync();
        var p = DaemonHarness.Process(new GuestGpu(d.Connect()));
        Assert.Equal(0, p.OpenKfd().Ret);
        var baseline = d.Kfd.Counters.Snapshot();
        var (ring, rw, q) = NewAqlQueue(p);

        p.Release(q.QueueBlob!);
        await DaemonHarness.Eventually(() => d.Kfd.Counters.Queues == 0, "queue destroyed");
        p.Release(ring.Blob!);
        p.Release(rw.Blob!);
        p.Release(q.DoorbellBlob!);
        await DaemonHarness.Eventually(() => d.Kfd.Counters.Snapshot() == baseline, "everything released");
    }

    [Fact]
    public async Task Ring_memory_released_first_is_freed_only_after_its_queue()
    {
        await using var d = await DaemonHarness.StartAsync();
        var p = DaemonHarness.Process(new GuestGpu(d.Connect()));
        Assert.Equal(0, p.OpenKfd().Ret);
        var baseline = d.Kfd.Counters.Snapshot();
        var (ring, rw, q) = NewAqlQueue(p);
        long withQueue = d.Kfd.Counters.Allocations;

        p.Release(ring.Blob!);
        p.Release(rw.Blob!);
        Assert.Equal(withQueue, d.Kfd.Counters.Allocations); // the queue still reads them
        Assert.Equal(1, d.Kfd.Counters.Queues);

        p.Release(q.QueueBlob!);
        // Objects are released by their own actors (PostStop), so the counters settle right after the answer.
        await DaemonHarness.Eventually(() => d.Kfd.Counters.Queues == 0 && d.Kfd.Counters.Allocations == baseline.Allocations, "queue, then its memory, released");
        p.Release(q.DoorbellBlob!);
        await DaemonHarness.Eventually(() => d.Kfd.Counters.Snapshot() == baseline, "everything released");
    }
}
