using VhsaKmt.Transport.Virtio;
using Xunit;

namespace VhsaKmt.Transport.Tests.Virtqueue;

/// <summary>
/// Kick suppression while the IO thread polls (SplitVirtqueue.SuppressKicks / EnableKicksAndCheck), on a hand-built
/// ring whose driver decides to kick exactly as Linux does.
/// </summary>
public sealed class KickSuppressionTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Draining_the_ring_while_suppressed_keeps_kicks_off_until_they_are_enabled_again(bool eventIdx)
    {
        var ring = new HandRing(eventIdx);
        Assert.False(ring.Queue.TryPop(out _)); // idle: asks for the first kick
        ring.Publish(0, HandRing.Buffers, 16, HandRing.Buffers + 0x100, 16);
        Assert.True(ring.DriverWouldKick(eventIdx));

        ring.Queue.SuppressKicks();
        Assert.True(ring.Queue.TryPop(out var chain));
        ring.Queue.Complete(chain, 0);
        Assert.False(ring.Queue.TryPop(out _)); // drained: with EVENT_IDX this is where avail_event is rewritten
        ring.Publish(2, HandRing.Buffers, 16, HandRing.Buffers + 0x100, 16);
        Assert.False(ring.DriverWouldKick(eventIdx)); // still polling: no kick

        Assert.True(ring.Queue.EnableKicksAndCheck()); // the unkicked buffer is found, not lost
        Assert.True(ring.Queue.TryPop(out var second));
        ring.Queue.Complete(second, 0);
        Assert.False(ring.Queue.TryPop(out _));
        ring.Publish(4, HandRing.Buffers, 16, HandRing.Buffers + 0x100, 16);
        Assert.True(ring.DriverWouldKick(eventIdx)); // kicks wanted again
        Assert.False(new HandRing(eventIdx).Queue.EnableKicksAndCheck()); // nothing waiting: nothing to serve
    }
}
