using System.Runtime.InteropServices;
using VhsaKmt.Native.Hsa;
using VhsaKmt.Native.Interop;

namespace VhsaKmt.Native.Tests.Simulated;

public class SimulatedQueueTests
{
    private const ulong Ring = 64 * 1024;

    private static QueueCreateArgs Aql(SimulatedFixture f, out ulong mem)
    {
        mem = f.Alloc(1 << 20);
        return new QueueCreateArgs(1, HsaQueueType.ComputeAql, 100, 0, QueueCreateArgs.AnySdmaEngine, mem, Ring, 0, mem + Ring + 0x38, mem + Ring + 0x80);
    }

    [Fact]
    public void Aql_queue_gets_an_opaque_id_and_a_real_doorbell()
    {
        using var f = new SimulatedFixture();
        var args = Aql(f, out _);
        Assert.Equal(HsaStatus.Success, f.Kfd.CreateQueue(args, out var q));
        Assert.NotEqual(0UL, q.QueueHandle);
        Assert.Equal(q.QueueHandle, q.Resource.QueueId);
        Assert.Equal(args.WritePtrAddress, q.Resource.QueueWptrValue);
        Assert.Equal(args.ReadPtrAddress, q.Resource.QueueRptrValue);
        Assert.Null(q.RwPointerPage);
        Assert.Equal(8192UL, q.DoorbellPageSize);
        Assert.True(f.Va.DoorbellWindow.Contains(q.DoorbellPageAddress, q.DoorbellPageSize));
        Assert.InRange(q.Resource.QueueDoorBell, q.DoorbellPageAddress, q.DoorbellPageAddress + q.DoorbellPageSize - 8);

        // Ring the doorbell through the VA; it lands in the page's memfd at the queue's offset.
        Marshal.WriteInt64((nint)q.Resource.QueueDoorBell, 17);
        Assert.Equal(17UL, f.Kfd.ReadDoorbell(q.QueueHandle));
        var buf = new byte[8];
        FileDescriptors.PRead(q.DoorbellPage.Fd, buf, q.Resource.QueueDoorBell - q.DoorbellPageAddress);
        Assert.Equal(17L, BitConverter.ToInt64(buf));
        Assert.Equal(1, f.Kfd.Counters.Queues);
    }

    [Fact]
    public void Queues_on_one_node_share_the_page_with_distinct_slots_and_slots_are_reused()
    {
        using var f = new SimulatedFixture();
        var args = Aql(f, out _);
        f.Kfd.CreateQueue(args, out var a);
        f.Kfd.CreateQueue(args, out var b);
        Assert.Equal(a.DoorbellPageAddress, b.DoorbellPageAddress);
        Assert.NotEqual(a.Resource.QueueDoorBell, b.Resource.QueueDoorBell);
        Assert.NotEqual(a.QueueHandle, b.QueueHandle);
        Assert.Equal(HsaStatus.Success, f.Kfd.DestroyQueue(a.QueueHandle));
        Assert.Equal(HsaStatus.InvalidHandle, f.Kfd.DestroyQueue(a.QueueHandle));
        f.Kfd.CreateQueue(args, out var c);
        Assert.Equal(a.Resource.QueueDoorBell, c.Resource.QueueDoorBell);
        Assert.NotEqual(a.QueueHandle, c.QueueHandle);
    }

    [Fact]
    public void Sdma_queue_gets_a_rw_pointer_page()
    {
        using var f = new SimulatedFixture();
        var mem = f.Alloc(1 << 20);
        var args = new QueueCreateArgs(1, HsaQueueType.SdmaByEngId, 100, 0, 1, mem, Ring, 0, 0, 0);
        Assert.Equal(HsaStatus.Success, f.Kfd.CreateQueue(args, out var q));
        Assert.NotNull(q.RwPointerPage);
        Assert.Equal(q.Resource.QueueRptrValue + 8, q.Resource.QueueWptrValue);
        Marshal.WriteInt64((nint)q.Resource.QueueWptrValue, 0x40);
        var buf = new byte[8];
        FileDescriptors.PRead(q.RwPointerPage!.Fd, buf, 8);
        Assert.Equal(0x40L, BitConverter.ToInt64(buf));
        Assert.Equal(HsaStatus.InvalidParameter, f.Kfd.CreateQueue(args with { SdmaEngineId = 2 }, out _));
    }

    [Theory]
    [InlineData("node-cpu", HsaStatus.InvalidNodeUnit)]
    [InlineData("node-missing", HsaStatus.InvalidNodeUnit)]
    [InlineData("type", HsaStatus.InvalidParameter)]
    [InlineData("priority", HsaStatus.InvalidParameter)]
    [InlineData("percentage", HsaStatus.Error)]
    [InlineData("ring-size", HsaStatus.Error)]
    [InlineData("ring-outside", HsaStatus.Error)]
    [InlineData("wptr-outside", HsaStatus.Error)]
    [InlineData("event", HsaStatus.InvalidHandle)]
    public void Bad_queue_arguments_get_the_thunk_status(string what, HsaStatus expected)
    {
        using var f = new SimulatedFixture();
        var a = Aql(f, out _);
        a = what switch
        {
            "node-cpu" => a with { NodeId = 0 },
            "node-missing" => a with { NodeId = 5 },
            "type" => a with { Type = 3 },
            "priority" => a with { Priority = 4 },
            "percentage" => a with { Percentage = 101 },
            "ring-size" => a with { RingSize = Ring - 4096 },
            "ring-outside" => a with { RingAddress = f.Slice.Start + f.Slice.Size - Ring },
            "wptr-outside" => a with { WritePtrAddress = 0x1000 },
            "event" => a with { EventHandle = 77 },
            _ => a,
        };
        Assert.Equal(expected, f.Kfd.CreateQueue(a, out _));
        Assert.Equal(0, f.Kfd.Counters.Queues);
    }

    [Fact]
    public void Queue_limit_is_out_of_resources()
    {
        using var f = new SimulatedFixture(new VhsaKmt.Native.Simulated.SimulatedKfdOptions { MaxQueues = 2 });
        var a = Aql(f, out _);
        Assert.Equal(HsaStatus.Success, f.Kfd.CreateQueue(a, out _));
        Assert.Equal(HsaStatus.Success, f.Kfd.CreateQueue(a, out _));
        Assert.Equal(HsaStatus.OutOfResources, f.Kfd.CreateQueue(a, out _));
    }

    [Fact]
    public void Update_info_cu_mask_and_gws()
    {
        using var f = new SimulatedFixture();
        var a = Aql(f, out var mem);
        f.Kfd.CreateQueue(a, out var q);
        Assert.Equal(HsaStatus.Success, f.Kfd.UpdateQueue(q.QueueHandle, 50, 1, mem, Ring));
        Assert.Equal(HsaStatus.Error, f.Kfd.UpdateQueue(q.QueueHandle, 50, 1, mem, 3000));
        Assert.Equal(HsaStatus.InvalidParameter, f.Kfd.UpdateQueue(q.QueueHandle, 50, -4, mem, Ring));
        Assert.Equal(HsaStatus.InvalidHandle, f.Kfd.UpdateQueue(99, 50, 1, mem, Ring));

        Assert.Equal(HsaStatus.Success, f.Kfd.GetQueueInfo(q.QueueHandle, out var info));
        Assert.Equal(96u, info.NumCUAssigned);
        Assert.Equal(HsaStatus.Success, f.Kfd.SetQueueCuMask(q.QueueHandle, [0x0000_FFFFu, 0, 0, 0xFFFF_FFFF]));
        f.Kfd.GetQueueInfo(q.QueueHandle, out info);
        Assert.Equal(16u, info.NumCUAssigned);   // bits past CU 95 are ignored
        Assert.Equal(HsaStatus.InvalidParameter, f.Kfd.SetQueueCuMask(q.QueueHandle, []));
        Assert.Equal(HsaStatus.InvalidHandle, f.Kfd.GetQueueInfo(99, out _));
        Assert.Equal(HsaStatus.Error, f.Kfd.AllocQueueGws(q.QueueHandle, 1, out _)); // gfx11: no GWS
    }

    [Fact]
    public void Xnack_change_is_refused_while_queues_exist()
    {
        using var f = new SimulatedFixture(new VhsaKmt.Native.Simulated.SimulatedKfdOptions { Gpus = [new() { XnackSupported = true }] });
        f.Kfd.CreateQueue(Aql(f, out _), out var q);
        Assert.Equal(HsaStatus.Error, f.Kfd.SetXnackMode(1));
        f.Kfd.DestroyQueue(q.QueueHandle);
        Assert.Equal(HsaStatus.Success, f.Kfd.SetXnackMode(1));
    }

    [Fact]
    public void Dispose_releases_queue_pages_and_counters()
    {
        var f = new SimulatedFixture();
        var mem = f.Alloc(1 << 20);
        f.Kfd.CreateQueue(new QueueCreateArgs(1, HsaQueueType.Compute, 100, 0, QueueCreateArgs.AnySdmaEngine, mem, Ring, 0, 0, 0), out var q);
        var window = f.Va.DoorbellWindow;
        f.Kfd.Dispose();
        Assert.Equal(default, f.Kfd.Counters.Snapshot());
        Assert.All(ProcMaps.Overlapping(window.Start, window.End), m => Assert.StartsWith("---p", m.Permissions));
        Assert.Null(f.Kfd.ReadDoorbell(q.QueueHandle));
        f.Dispose();
    }
}
