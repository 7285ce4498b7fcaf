using VhsaKmt.TestSupport.Guest;
using VhsaKmt.TestSupport.Vmm;

namespace VhsaKmt.Robustness.Tests.Support;

/// <summary>One hostile case's world: the daemon, the VM's hypervisor and kernel driver, the misbehaving process (victim) and its raw ccmd builder.</summary>
public sealed class Scenario(HostileDaemon daemon, TestVmm vmm, GuestGpu gpu, RocmProcess victim, RocmProcess bystander)
{
    public HostileDaemon Daemon { get; } = daemon;
    public TestVmm Vmm { get; } = vmm;
    public GuestGpu Gpu { get; } = gpu;
    public RocmProcess Victim { get; } = victim;
    public RocmProcess Bystander { get; } = bystander;
    public RawCcmd Raw { get; } = new(gpu, victim);

    /// <summary>Resources a case created by hand (UNREF'd after the case).</summary>
    public List<uint> LooseResources { get; } = new();

    /// <summary>Set when the case destroyed the victim's context itself.</summary>
    public bool VictimGone { get; set; }
}
