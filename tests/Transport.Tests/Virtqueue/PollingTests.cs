using VhsaKmt.TestSupport.Vmm;
using VhsaKmt.Transport.Tests.VhostUser;
using VhsaKmt.Transport.VhostUser;
using Xunit;

namespace VhsaKmt.Transport.Tests.Virtqueue;

/// <summary>Rings served without kicks: adaptive polling after work, and the "no kick fd" mode.</summary>
public sealed class PollingTests
{
    [Fact]
    public void Adaptive_polling_serves_a_chain_published_without_a_kick_during_the_spin()
    {
        // A long spin so the second chain surely lands inside it on a loaded 2-core CI box.
        var options = VhostUserOptions.Default with { Polling = new PollingOptions(true, 500_000) };
        using var harness = new BackendHarness(options: options);
        var (vmm, _, device) = harness.Connect();
        using (vmm)
        {
            vmm.PutChain(0, [[1]], [1]);
            vmm.Kick(0);
            vmm.WaitUsed(0);
            int kicksBefore = device.Notifications;
            vmm.PutChain(0, [[2]], [1]); // no kick
            Assert.Equal(new byte[] { 2 }, vmm.WaitUsed(0).Data);
            Assert.True(device.Notifications > kicksBefore);
        }
    }

    [Fact]
    public void Without_polling_an_unkicked_chain_waits()
    {
        using var harness = new BackendHarness();
        var (vmm, _, _) = harness.Connect(new TestVmmOptions { EventIdx = false });
        using (vmm)
        {
            vmm.PutChain(0, [[1]], [1]);
            Assert.Throws<TimeoutException>(() => vmm.WaitUsed(0, TimeSpan.FromMilliseconds(150)));
            vmm.Kick(0);
            Assert.Equal(new byte[] { 1 }, vmm.WaitUsed(0).Data);
        }
    }

    [Fact]
    public void Ring_without_a_kick_fd_is_polled()
    {
        using var harness = new BackendHarness();
        var (vmm, _, _) = harness.Connect();
        using (vmm)
        {
            ushort stopped = vmm.GetVringBase(0);
            vmm.StartRing(0, stopped);
            vmm.SetVringFd(VhostUserRequest.SetVringKick, 0, null);
            vmm.SetVringEnable(0, true);
            vmm.PutChain(0, [[6]], [1]);
            Assert.Equal(new byte[] { 6 }, vmm.WaitUsed(0).Data);
        }
    }
}
