namespace VhsaKmt.Bench.Processes;

/// <summary>
/// Where the two sides of a round trip run (DESIGN.md "The hot path"): on one CPU a wake-up is a context
/// switch; on two CPUs it wakes an idle CPU. Each regime has its own floor, so every figure is pinned.
/// </summary>
public sealed record Regime(string Name, int ServerCpu, int ClientCpu)
{
    public static readonly Regime SameCpu = new("same-cpu", 0, 0);
    public static readonly Regime CrossCpu = new("cross-cpu", 0, 1);

    /// <summary>The regimes this machine can run (cross-CPU needs two CPUs).</summary>
    public static IReadOnlyList<Regime> Available() =>
        Environment.ProcessorCount >= 2 ? [SameCpu, CrossCpu] : [SameCpu];
}
