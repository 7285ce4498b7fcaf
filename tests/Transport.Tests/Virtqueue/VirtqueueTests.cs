using System.Text;
using VhsaKmt.TestSupport.Vmm;
using VhsaKmt.Transport.Tests.VhostUser;
using VhsaKmt.Transport.Virtio;
using Xunit;

namespace VhsaKmt.Transport.Tests.Virtqueue;

/// <summary>Split rings through the real socket: chains, indirect tables, hostile chains, suppression, stop/restart.</summary>
public sealed class VirtqueueTests
{
    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(150);

    [Fact]
    public void Direct_chain_is_echoed_with_the_written_length()
    {
        using var harness = new BackendHarness();
        var (vmm, _, _) = harness.Connect();
        using (vmm)
        {
            byte[] a = Encoding.ASCII.GetBytes("hello, ");
            byte[] b = Encoding.ASCII.GetBytes("virtqueue");
            ushort token = vmm.PutChain(0, [a, b], [4, 64]);
            vmm.Kick(0);
            var used = vmm.WaitUsed(0);
            Assert.Equal(token, used.Token);
            Assert.Equal(16u, used.Written);
            Assert.Equal("hello, virtqueue", Encoding.ASCII.GetString(used.Data));
        }
    }

    [Fact]
    public void Indirect_chain_is_walked_and_echoed()
    {
        using var harness = new BackendHarness();
        var (vmm, _, _) = harness.Connect();
        using (vmm)
        {
            ushort token = vmm.PutChain(1, [[1, 2, 3], [4, 5]], [2, 2, 8], indirect: true);
            vmm.Kick(1);
            var used = vmm.WaitUsed(1);
            Assert.Equal(token, used.Token);
            Assert.Equal(5u, used.Written);
            Assert.Equal(new byte[] { 1, 2, 3, 4, 5 }, used.Data);
        }
    }

    [Fact]
    public void Many_chains_in_one_kick_are_all_completed_in_order()
    {
        using var harness = new BackendHarness();
        var (vmm, _, _) = harness.Connect();
        using (vmm)
        {
            var tokens = Enumerable.Range(0, 20).Select(i => vmm.PutChain(0, [[(byte)i]], [1])).ToArray();
            vmm.Kick(0);
            for (int i = 0; i < tokens.Length; i++)
            {
                var used = vmm.WaitUsed(0);
                Assert.Equal(tokens[i], used.Token);
                Assert.Equal(new[] { (byte)i }, used.Data);
            }
        }
    }

    [Fact]
    public void Chain_outside_guest_ram_is_skipped_and_the_next_chain_works()
    {
        using var harness = new BackendHarness();
        var (vmm, connection, _) = harness.Connect();
        using (vmm)
        {
            var ring = vmm.Ring(0);
            ushort bad = ring.TakeDescriptor();
            ring.WriteDescriptor(bad, 0x7000_0000, 64, 0, 0); // between the two RAM regions
            ring.PublishRaw(bad);
            ushort good = vmm.PutChain(0, [[42]], [1]);
            vmm.Kick(0);

            var first = vmm.WaitUsed(0);
            Assert.Equal(bad, first.Token);
            Assert.Equal(0u, first.Written);
            var second = vmm.WaitUsed(0);
            Assert.Equal(good, second.Token);
            Assert.Equal(new byte[] { 42 }, second.Data);
            Assert.Equal(1, ((SplitVirtqueue)connection.Queue(0)!).BadChainCount);
            Assert.Contains(harness.Log.Messages(), m => m.Contains("outside guest memory"));
        }
    }

    [Fact]
    public void Buffer_straddling_the_end_of_a_region_is_rejected()
    {
        using var harness = new BackendHarness();
        var (vmm, _, _) = harness.Connect();
        using (vmm)
        {
            var region = vmm.Ram.Regions[1];
            var ring = vmm.Ring(0);
            ushort bad = ring.TakeDescriptor();
            ring.WriteDescriptor(bad, region.GuestPhysAddr + region.Size - 8, 16, 0, 0);
            ring.PublishRaw(bad);
            vmm.Kick(0);
            var used = vmm.WaitUsed(0);
            Assert.Equal(bad, used.Token);
            Assert.Equal(0u, used.Written);
        }
    }

    [Fact]
    public void Descriptor_loop_is_detected_and_the_queue_keeps_working()
    {
        using var harness = new BackendHarness();
        var (vmm, _, _) = harness.Connect();
        using (vmm)
        {
            var ring = vmm.Ring(0);
            ulong buffer = vmm.Ram.Allocator.Alloc(16);
            ushort d0 = ring.TakeDescriptor();
            ushort d1 = ring.TakeDescriptor();
            ring.WriteDescriptor(d0, buffer, 8, VringConst.VRING_DESC_F_NEXT, d1);
            ring.WriteDescriptor(d1, buffer + 8, 8, VringConst.VRING_DESC_F_NEXT, d0);
            ring.PublishRaw(d0);
            ushort good = vmm.PutChain(0, [[7, 7]], [2]);
            vmm.Kick(0);

            var looped = vmm.WaitUsed(0);
            Assert.Equal(d0, looped.Token);
            Assert.Equal(0u, looped.Written);
            var next = vmm.WaitUsed(0);
            Assert.Equal(good, next.Token);
            Assert.Equal(new byte[] { 7, 7 }, next.Data);
            Assert.Contains(harness.Log.Messages(), m => m.Contains("loop"));
        }
    }

    [Fact]
    public void Nested_indirect_table_is_rejected()
    {
        using var harness = new BackendHarness();
        var (vmm, _, _) = harness.Connect();
        using (vmm)
        {
            var ring = vmm.Ring(0);
            ulong inner = vmm.Ram.Allocator.Alloc(16, 16);
            ulong outer = vmm.Ram.Allocator.Alloc(16, 16);
            vmm.Ram.Write(outer, new VringDesc { addr = inner, len = 16, flags = VringConst.VRING_DESC_F_INDIRECT });
            ushort head = ring.TakeDescriptor();
            ring.WriteDescriptor(head, outer, 16, VringConst.VRING_DESC_F_INDIRECT, 0);
            ring.PublishRaw(head);
            vmm.Kick(0);
            var used = vmm.WaitUsed(0);
            Assert.Equal(head, used.Token);
            Assert.Equal(0u, used.Written);
            Assert.Contains(harness.Log.Messages(), m => m.Contains("nested indirect"));
        }
    }

    [Fact]
    public void Event_idx_suppresses_the_call_until_used_event_is_reached()
    {
        using var harness = new BackendHarness();
        var (vmm, _, _) = harness.Connect();
        using (vmm)
        {
            var ring = vmm.Ring(0);
            // Driver asks for a call only after the 3rd completion (used idx passes 2).
            ring.SetUsedEvent(2);
            long before = ring.Signals;
            vmm.PutChain(0, [[1]], [1]);
            vmm.Kick(0);
            vmm.WaitUsed(0);
            vmm.PutChain(0, [[2]], [1]);
            vmm.Kick(0);
            vmm.WaitUsed(0);
            Assert.Equal(before, ring.Signals);

            vmm.PutChain(0, [[3]], [1]);
            vmm.Kick(0);
            vmm.WaitUsed(0);
            Assert.Equal(before + 1, ring.Signals);
            // The device asked to be kicked at the next avail index (avail_event).
            Assert.Equal(ring.AvailIndex, ring.AvailEvent);
        }
    }

    [Fact]
    public void No_interrupt_flag_suppresses_calls_without_event_idx()
    {
        using var harness = new BackendHarness();
        var (vmm, _, _) = harness.Connect(new TestVmmOptions { EventIdx = false });
        using (vmm)
        {
            var ring = vmm.Ring(0);
            ring.SetAvailFlags(VringConst.VRING_AVAIL_F_NO_INTERRUPT);
            long before = ring.Signals;
            vmm.PutChain(0, [[1]], [1]);
            vmm.Kick(0);
            vmm.WaitUsed(0);
            Assert.Equal(before, ring.Signals);

            ring.SetAvailFlags(0);
            vmm.PutChain(0, [[1]], [1]);
            vmm.Kick(0);
            vmm.WaitUsed(0);
            Assert.Equal(before + 1, ring.Signals);
        }
    }

    [Fact]
    public void One_flush_signals_once_for_a_batch()
    {
        using var harness = new BackendHarness();
        var (vmm, _, device) = harness.Connect();
        using (vmm)
        {
            var ring = vmm.Ring(0);
            device.HoldChains = true;
            for (int i = 0; i < 5; i++) vmm.PutChain(0, [[(byte)i]], [1]);
            ring.SetUsedEvent(0);
            long before = ring.Signals;
            vmm.Kick(0);
            SpinWait.SpinUntil(() => device.Held.Count == 5, BackendHarness.Timeout);
            var queue = device.Host!.Queue(0)!;
            while (device.Held.TryDequeue(out var chain)) queue.Complete(chain, 0);
            queue.Flush();
            queue.Flush();
            for (int i = 0; i < 5; i++) vmm.WaitUsed(0);
            Assert.Equal(before + 1, ring.Signals);
        }
    }

    [Fact]
    public void Get_vring_base_stops_the_ring_and_a_restart_resumes_from_that_index()
    {
        using var harness = new BackendHarness();
        var (vmm, connection, _) = harness.Connect();
        using (vmm)
        {
            for (int i = 0; i < 3; i++)
            {
                vmm.PutChain(0, [[(byte)i]], [1]);
                vmm.Kick(0);
                vmm.WaitUsed(0);
            }
            Assert.Equal(3, vmm.GetVringBase(0));
            Assert.Null(connection.Queue(0));

            // Stopped: nothing is consumed any more.
            ushort token = vmm.PutChain(0, [[9]], [1]);
            vmm.Kick(0);
            Assert.Throws<TimeoutException>(() => vmm.WaitUsed(0, Quiet));

            // Restart at the returned base: the pending chain is served.
            vmm.StartRing(0, 3);
            vmm.SetVringEnable(0, true);
            var used = vmm.WaitUsed(0);
            Assert.Equal(token, used.Token);
            Assert.Equal(new byte[] { 9 }, used.Data);
        }
    }

    [Fact]
    public void Disabled_ring_is_not_served_until_enabled()
    {
        using var harness = new BackendHarness();
        var (vmm, connection, _) = harness.Connect();
        using (vmm)
        {
            vmm.SetVringEnable(1, false);
            Assert.Null(connection.Queue(1));
            vmm.PutChain(1, [[5]], [1]);
            vmm.Kick(1);
            Assert.Throws<TimeoutException>(() => vmm.WaitUsed(1, Quiet));
            vmm.SetVringEnable(1, true);
            Assert.Equal(new byte[] { 5 }, vmm.WaitUsed(1).Data);
        }
    }

    [Fact]
    public void Avail_index_running_ahead_of_the_ring_stops_the_queue_without_crashing()
    {
        using var harness = new BackendHarness();
        var (vmm, connection, _) = harness.Connect();
        using (vmm)
        {
            vmm.Ring(0).SetAvailIndexRaw(1000);
            vmm.Kick(0);
            Assert.Throws<TimeoutException>(() => vmm.WaitUsed(0, Quiet));
            Assert.Contains(harness.Log.Messages(), m => m.Contains("ahead of last avail"));
            // The other queue and the connection still work.
            vmm.PutChain(1, [[1]], [1]);
            vmm.Kick(1);
            Assert.Equal(new byte[] { 1 }, vmm.WaitUsed(1).Data);
            Assert.False(connection.IsClosed);
        }
    }
}

public sealed class VirtqueueCompletionTests
{
    [Fact]
    public void Completing_a_chain_twice_is_logged_and_ignored_without_touching_the_ring()
    {
        using var harness = new BackendHarness();
        var (vmm, _, device) = harness.Connect();
        using (vmm)
        {
            device.HoldChains = true;
            vmm.PutChain(0, [[1]], [1]);
            vmm.Kick(0);
            Assert.True(SpinWait.SpinUntil(() => !device.Held.IsEmpty, BackendHarness.Timeout));
            Assert.True(device.Held.TryDequeue(out var chain));
            var queue = device.Host!.Queue(0)!;
            queue.Complete(chain, 1);
            queue.Complete(chain, 1);
            queue.Flush();
            vmm.WaitUsed(0);
            Assert.Equal(1, vmm.Ring(0).UsedIndex);
            Assert.Contains(harness.Log.Messages(), m => m.Contains("not in flight"));
        }
    }
}
