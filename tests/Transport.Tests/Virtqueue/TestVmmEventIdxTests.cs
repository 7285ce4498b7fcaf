using VhsaKmt.Transport.Tests.VhostUser;
using Xunit;

namespace VhsaKmt.Transport.Tests.Virtqueue;

/// <summary>
/// TestVmm as an EVENT_IDX driver: WaitUsed re-arms used_event, so every completion of a one-at-a-time round trip
/// raises the call eventfd (without the re-arm the device suppresses every call after the first).
/// </summary>
public sealed class TestVmmEventIdxTests
{
    [Fact]
    public void WaitUsed_rearms_used_event_so_every_completion_signals()
    {
        using var harness = new BackendHarness();
        var (vmm, _, _) = harness.Connect();
        using (vmm)
        {
            var ring = vmm.Ring(0);
            long before = ring.Signals;
            const int RoundTrips = 8;
            for (int i = 0; i < RoundTrips; i++)
            {
                vmm.PutChain(0, [[(byte)i]], [1]);
                vmm.Kick(0);
                vmm.WaitUsed(0);
                // used_event = the used index consumed so far: the next completion is wanted.
                Assert.Equal(ring.UsedIndex, ring.UsedEvent);
            }
            // The call is written after the used idx, so the last one may still be on its way.
            Assert.True(SpinWait.SpinUntil(() => ring.Signals >= before + RoundTrips, BackendHarness.Timeout),
                $"calls seen: {ring.Signals - before} of {RoundTrips}");
            Assert.Equal(before + RoundTrips, ring.Signals);
        }
    }
}
