using VhsaKmt.Native.Hsa;
using VhsaKmt.Native.LibHsaKmt;
using VhsaKmt.Native.Tests.Simulated;

namespace VhsaKmt.Native.Tests.Contract;

/// <summary>
/// A KFD that is not open (libhsakmt without hsaKmtOpenKFD) or closed (a disposed simulated KFD) answers every call
/// with KERNEL_IO_CHANNEL_NOT_OPENED — a status, never an exception — and Dispose is idempotent.
/// </summary>
public abstract class ClosedKfdContract : IDisposable
{
    protected abstract IKfd Kfd { get; }
    public abstract void Dispose();

    [Fact]
    public void Every_entry_answers_not_opened()
    {
        Assert.Equal(HsaStatus.KernelIoChannelNotOpened, Kfd.GetVersion(out _));
        Assert.Equal(HsaStatus.KernelIoChannelNotOpened, Kfd.AcquireSystemProperties(out _));
        Assert.Equal(HsaStatus.KernelIoChannelNotOpened, Kfd.GetNodeProperties(0, out _));
        ulong a = 0;
        Assert.Equal(HsaStatus.KernelIoChannelNotOpened, Kfd.AllocMemory(1, 4096, new HsaMemFlags(HsaMemFlags.HostAccess), ref a));
        Assert.Equal(HsaStatus.KernelIoChannelNotOpened, Kfd.CreateEvent(new HsaEventDescriptor(), false, false, out _, out _));
        Assert.Equal(HsaStatus.KernelIoChannelNotOpened, Kfd.SetXnackMode(0));
        Assert.Equal(default, Kfd.Counters.Snapshot());
        Kfd.Dispose();
        Kfd.Dispose();
    }
}

public sealed class ClosedSimulatedKfdTests : ClosedKfdContract
{
    private readonly SimulatedFixture _f = new();

    public ClosedSimulatedKfdTests() => _f.Kfd.Dispose();

    protected override IKfd Kfd => _f.Kfd;
    public override void Dispose() => _f.Dispose();
}

/// <summary>Real calls into the installed libhsakmt.so.1, never opened (no /dev/kfd needed).</summary>
public sealed class UnopenedLibHsaKmtTests : ClosedKfdContract
{
    private readonly LibHsaKmtKfd _kfd = LibHsaKmtKfd.Unopened(LibHsaKmtLibrary.Probe(), null);

    protected override IKfd Kfd => _kfd;
    public override void Dispose() => _kfd.Dispose();

    [Fact]
    public void D523_host_refuses_flags_it_would_silently_ignore()
    {
        if (_kfd.Profile != VhsaKmt.Native.LibHsaKmt.Abi.HsaAbiProfile.D523) return;
        ulong a = 0;
        Assert.Equal(HsaStatus.NotSupported, _kfd.AllocMemory(1, 4096, new HsaMemFlags(HsaMemFlags.NoAddress), ref a));
        Assert.Equal(HsaStatus.NotSupported, _kfd.AllocMemory(1, 4096, new HsaMemFlags(HsaMemFlags.OnlyAddress), ref a));
        // Newer placement hints are dropped and the call reaches the thunk (which is not open here).
        Assert.Equal(HsaStatus.KernelIoChannelNotOpened, _kfd.AllocMemory(1, 4096, new HsaMemFlags(HsaMemFlags.GTTAccess), ref a));
        Assert.Equal(HsaStatus.NotSupported, _kfd.GetAmdgpuGpuInfo(1, out _));
        Assert.Equal(HsaStatus.NotSupported, _kfd.GetRuntimeCapabilities(out _));
        Assert.Equal(HsaStatus.InvalidHandle, _kfd.DestroyQueue(42));
    }
}
