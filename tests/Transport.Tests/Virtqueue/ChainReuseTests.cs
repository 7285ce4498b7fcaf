using VhsaKmt.Transport.Virtio;
using Xunit;

namespace VhsaKmt.Transport.Tests.Virtqueue;

/// <summary>
/// A SplitVirtqueue over a hand-built ring: one reusable chain object per head, outstanding chains counted until
/// they are published on the used ring, and no managed allocation per pop + complete + flush in steady state.
/// </summary>
public sealed class ChainReuseTests
{
    private const ulong Buffers = HandRing.Buffers;
    private readonly HandRing _ring = new();
    private SplitVirtqueue _queue => _ring.Queue;
    private void Publish(ushort head, ulong readAddr, uint readLen, ulong writeAddr, uint writeLen) => _ring.Publish(head, readAddr, readLen, writeAddr, writeLen);
    private ushort UsedIdx => _ring.UsedIdx;

    [Fact]
    public void A_head_popped_again_reuses_its_chain_object_with_the_new_segments()
    {
        Publish(0, Buffers, 24, Buffers + 0x100, 64);
        Assert.True(_queue.TryPop(out var first));
        Assert.Equal(Buffers, first.Readable[0].Address);
        Assert.Equal(24, first.ReadableLength);
        _queue.Complete(first, 8);

        Publish(0, Buffers + 0x200, 40, Buffers + 0x300, 16);
        Assert.True(_queue.TryPop(out var second));
        Assert.Same(first, second);
        Assert.Equal(0, second.Head);
        Assert.Equal(Buffers + 0x200, second.Readable[0].Address);
        Assert.Equal(40, second.ReadableLength);
        Assert.Equal(Buffers + 0x300, second.Writable[0].Address);
        Assert.Equal(16, second.WritableLength);

        Publish(2, Buffers + 0x400, 8, Buffers + 0x500, 8);
        Assert.True(_queue.TryPop(out var other));
        Assert.NotSame(second, other); // another head in flight: its own object
    }

    [Fact]
    public void A_tracked_chain_counts_until_it_is_on_the_used_ring_and_only_once()
    {
        var counter = new InFlightCounter();
        Publish(0, Buffers, 24, Buffers + 0x100, 64);
        Publish(4, Buffers + 0x200, 24, Buffers + 0x300, 64);
        Assert.True(_queue.TryPop(out var a));
        a.TrackIn(counter);
        Assert.True(_queue.TryPop(out var b));
        b.TrackIn(counter);
        Assert.Equal(2, counter.Count);
        Assert.Throws<InvalidOperationException>(() => a.TrackIn(counter));

        Assert.Equal(2, _queue.InFlight);
        _queue.Complete(a, 4);
        Assert.Equal(1, UsedIdx);
        Assert.Equal(1, counter.Count);
        _queue.Complete(a, 4); // a host bug: ignored, and not counted down twice
        Assert.Equal(1, UsedIdx);
        Assert.Equal(1, counter.Count);
        Assert.Equal(1, _queue.InFlight);
        _queue.Complete(b, 4);
        Assert.Equal(0, counter.Count);
        Assert.Equal(0, _queue.InFlight);

        // The head comes back untracked: a refilled chain does not inherit the old counter.
        Publish(0, Buffers, 24, Buffers + 0x100, 64);
        Assert.True(_queue.TryPop(out var again));
        _queue.Complete(again, 4);
        Assert.Equal(0, counter.Count);
    }

    [Fact]
    public void Pop_complete_and_flush_allocate_nothing_in_steady_state()
    {
        var counter = new InFlightCounter();
        void Round(int i)
        {
            ushort head = (ushort)(i % 4 * 2);
            Publish(head, Buffers + (ulong)(i % 16) * 0x40, 32, Buffers + 0x1000, 32);
            if (!_queue.TryPop(out var chain)) throw new InvalidOperationException("nothing popped");
            chain.TrackIn(counter);
            Span<byte> request = stackalloc byte[32];
            chain.ReadAt(0, request);
            chain.Write(request);
            _queue.Complete(chain, 32);
            _queue.Flush();
            _queue.TryPop(out _); // empty ring: re-arms avail_event
        }
        for (int i = 0; i < 64; i++) Round(i); // every head popped once: its chain object exists
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10_000; i++) Round(i);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
        Assert.Equal(0, counter.Count);
        Assert.Equal((ushort)10_064, UsedIdx);
    }
}
