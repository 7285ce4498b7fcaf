using VhsaKmt.Native.Simulated;
using VhsaKmt.Native.Va;

namespace VhsaKmt.Native;

/// <summary>Everything under HOCON <c>vhsakmt.kfd</c>, read by <see cref="KfdOptionsReader"/>.</summary>
public sealed record KfdOptions
{
    public VaOptions Va { get; init; } = new();
    public SimulatedKfdOptions Simulated { get; init; } = new();
    /// <summary>Host libhsakmt struct profile: auto | d523 | h25.</summary>
    public string LibHsaKmtAbi { get; init; } = "auto";
}
