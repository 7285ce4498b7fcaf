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

    [Fact]
    public void Idle_timelines_are_kept_for_their_next_fence_but_only_up_to_a_bound()
    {
        var t = new FenceTimelines();
        var sink = new ResponseSink((_, _) => { });
        var chain = NewChain();
        for (int round = 0; round < 3; round++)
        {
            var ticket = t.Enqueue(new ControlHeader((uint)VirtioGpuCtrlType.VIRTIO_GPU_CMD_SUBMIT_3D, 3, 1, 1, 0), chain);
            t.Complete(ticket, new byte[24], sink);
        }
        Assert.Equal(1, t.Timelines); // one queue for (ctx 1, ring 0), reused

        // A guest naming ever new (ctx, ring) pairs cannot grow the table past the bound.
        for (uint ctx = 2; ctx < FenceTimelines.MaxIdleTimelines + 200; ctx++)
        {
            var ticket = t.Enqueue(new ControlHeader((uint)VirtioGpuCtrlType.VIRTIO_GPU_CMD_SUBMIT_3D, 3, 1, ctx, 0), chain);
            t.Complete(ticket, new byte[24], sink);
        }
        Assert.Equal(0, t.Pending);
        Assert.True(t.Timelines <= FenceTimelines.MaxIdleTimelines + 1, $"{t.Timelines} timelines held");
    }
}
