using VhsaKmt.Actors.Device;
using VhsaKmt.Transport.Virtio;
using VhsaKmt.Transport.VirtioGpu;
using Xunit;

namespace VhsaKmt.Actors.Tests.Device;

public sealed class FenceTimelinesTests
{
    private readonly FakeGuestMemory _mem = new();

    private DescriptorChain NewChain() => new(0, [], [], _mem);

    private static ControlHeader Fenced(uint ctx, byte ring, ulong fence, bool ringIdx = true) =>
        new(0x207, ringIdx ? 3u : 1u, fence, ctx, ring);

    [Fact]
    public void Later_completions_wait_for_earlier_ones_on_the_same_timeline_only()
    {
        var t = new FenceTimelines();
        var emitted = new List<(DescriptorChain, byte)>();
        ResponseSink sink = (c, r) => emitted.Add((c, r[0]));
        var (c1, c2, c3) = (NewChain(), NewChain(), NewChain());
        var a = t.Enqueue(Fenced(1, 0, 1), c1);
        var b = t.Enqueue(Fenced(1, 0, 4), c2);
        var other = t.Enqueue(Fenced(2, 0, 5), c3);

        t.Complete(b, [2], sink);
        Assert.Empty(emitted);
        t.Complete(other, [3], sink);
        Assert.Equal([(c3, (byte)3)], emitted);
        t.Complete(a, [1], sink);
        Assert.Equal([(c3, (byte)3), (c1, (byte)1), (c2, (byte)2)], emitted);
        Assert.Equal(0, t.Pending);
        Assert.Throws<InvalidOperationException>(() => t.Complete(a, [1], sink));
    }

    [Fact]
    public void Fences_without_ring_index_share_the_global_timeline()
    {
        Assert.Equal(FenceKey.Of(Fenced(1, 0, 1, ringIdx: false)), FenceKey.Of(Fenced(2, 7, 1, ringIdx: false)));
        Assert.NotEqual(FenceKey.Of(Fenced(1, 0, 1)), FenceKey.Of(Fenced(1, 1, 1)));
    }
}
