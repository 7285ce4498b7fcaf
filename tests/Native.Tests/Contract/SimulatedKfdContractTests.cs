using VhsaKmt.Native.Tests.Simulated;

namespace VhsaKmt.Native.Tests.Contract;

/// <summary>The contract against the simulated KFD. (The libhsakmt backend needs /dev/kfd for it; none on CI.)</summary>
public sealed class SimulatedKfdContractTests : KfdContract
{
    private readonly SimulatedFixture _f = new();

    protected override IKfd Kfd => _f.Kfd;

    protected override ulong ReserveVa(ulong size) => _f.Slice.Allocate(size, 0).Address;

    public override void Dispose() => _f.Dispose();
}
