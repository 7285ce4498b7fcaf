using VhsaKmt.Bench.Stats;

namespace VhsaKmt.Bench.Workloads;

/// <summary>What a loop run measured: per-submit latency, ccmd throughput, context open/close times.</summary>
public sealed record ClientResult(
    string Label,
    int Vms,
    int Contexts,
    int Batch,
    int InFlight,
    string Wait,
    LatencySummary Latency,
    long Submits,
    long Ccmds,
    double Seconds,
    double CcmdsPerSecond,
    LatencySummary OpenUs,
    LatencySummary CloseUs,
    long Kicks,
    bool EventIdx);

/// <summary>One real command's latency (µs) on the simulated KFD.</summary>
public sealed record CommandLatency(string Name, LatencySummary Latency);

/// <summary>What the real-command run measured.</summary>
public sealed record RealCommandsResult(string Label, IReadOnlyList<CommandLatency> Commands);
