using VhsaKmt.Native;
using VhsaKmt.Native.Faults;
using VhsaKmt.Native.Hsa;
using VhsaKmt.Native.Simulated;
using Xunit;

namespace VhsaKmt.Robustness.Tests;

/// <summary>The fault-injecting KFD decorator itself: which calls fail, how, how often, and that nothing leaks from a faulted call.</summary>
public sealed class FaultKfdTests
{
    [Theory]
    [InlineData(KfdFault.NoMemory, HsaStatus.NoMemory)]
    [InlineData(KfdFault.DeviceLost, HsaStatus.KernelCommunicationError)]
    [InlineData(KfdFault.Timeout, HsaStatus.WaitTimeout)]
    public void Faulted_call_returns_the_status_and_creates_nothing(KfdFault fault, HsaStatus expected)
    {
        using var kfd = new FaultInjectingKfd(new SimulatedKfd(log: Serilog.Core.Logger.None));
        kfd.Plan.Fail(nameof(IKfd.CreateEvent), fault);
        var desc = new HsaEventDescriptor { EventType = 0, NodeId = 1 };
        Assert.Equal(expected, kfd.CreateEvent(desc, false, false, out _, out ulong h1));
        Assert.Equal(0UL, h1);
        Assert.Equal(0, kfd.Counters.Events);
        // One shot: the next call goes through.
        Assert.Equal(HsaStatus.Success, kfd.CreateEvent(desc, false, false, out _, out ulong h2));
        Assert.Equal(1, kfd.Counters.Events);
        Assert.Equal(HsaStatus.Success, kfd.DestroyEvent(h2));
        Assert.Equal(1, kfd.Plan.Injected);
    }

    [Fact]
    public void Throw_fault_raises_and_after_skips_good_calls()
    {
        using var kfd = new FaultInjectingKfd(new SimulatedKfd(log: Serilog.Core.Logger.None));
        kfd.Plan.Fail(nameof(IKfd.GetVersion), KfdFault.Throw, after: 2, times: 2);
        Assert.Equal(HsaStatus.Success, kfd.GetVersion(out _));
        Assert.Equal(HsaStatus.Success, kfd.GetVersion(out _));
        var e = Assert.Throws<InjectedKfdException>(() => kfd.GetVersion(out _));
        Assert.Equal(nameof(IKfd.GetVersion), e.Method);
        Assert.Throws<InjectedKfdException>(() => kfd.GetVersion(out _));
        Assert.Equal(HsaStatus.Success, kfd.GetVersion(out var v));
        Assert.Equal(1u, v.KernelInterfaceMajorVersion);
        Assert.Equal(5, kfd.Plan.Calls(nameof(IKfd.GetVersion)));
        Assert.Equal(0, kfd.Plan.Armed);
    }

    [Fact]
    public async Task Wait_timeout_completes_at_once()
    {
        using var kfd = new FaultInjectingKfd(new SimulatedKfd(log: Serilog.Core.Logger.None));
        kfd.Plan.Fail(nameof(IKfd.WaitOnMultipleEventsAsync), KfdFault.Timeout, times: null);
        var st = await kfd.WaitOnMultipleEventsAsync([1UL], true, uint.MaxValue, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(2));
        Assert.Equal(HsaStatus.WaitTimeout, st);
    }
}
