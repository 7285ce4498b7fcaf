using System.Text.Json.Serialization;
using VhsaKmt.Bench.Floors;
using VhsaKmt.Bench.Stats;
using VhsaKmt.Bench.Workloads;

namespace VhsaKmt.Bench.Suite;

/// <summary>One full-stack NOP configuration: daemon mode, client wait mode, regime, result and its floor.</summary>
public sealed record NopRun(string DaemonMode, string ClientWait, string Regime, ClientResult Result, FloorResult Floor)
{
    public double Ratio => Result.Latency.P50 / Floor.Latency.P50;
}

/// <summary>Managed bytes the daemon allocated per operation in steady state.</summary>
public sealed record AllocationFigure(string Operation, long Operations, double BytesPerOperation, int Gen0Collections);

/// <summary>Sampled allocation sources (GCAllocationTick) of one steady-state operation in the daemon.</summary>
public sealed record AllocationSources(string Operation, long Operations, IReadOnlyList<SampledType> Types);

/// <summary>One type and the bytes attributed to it by the ~100 KB allocation-tick sampling.</summary>
public sealed record SampledType(string Type, long SampledBytes);

/// <summary>
/// One scaling point: the loop result (N contexts over V VMs, one submit in flight each), the daemon's RSS growth
/// per idle context, and the same load on one context per VM (V contexts with N / V submits in flight each, same
/// batch, window, pinning and daemon), measured right after it; null when N == V (that is the same run) or not measured.
/// </summary>
public sealed record ScalePoint(ClientResult Result, double RssBytesPerContext, ClientResult? SameLoadOneContextPerVm = null)
{
    /// <summary>Throughput of the same load on one context per VM: this run itself when N == V; NaN when not measured.</summary>
    [JsonIgnore]
    public double SameLoadCcmdsPerSecond =>
        Result.Contexts == Result.Vms ? Result.CcmdsPerSecond : SameLoadOneContextPerVm?.CcmdsPerSecond ?? double.NaN;

    /// <summary>N-context throughput / the same load on one context per VM (1 when N == V; NaN when not measured).</summary>
    [JsonIgnore]
    public double VsOneContextPerVm => Result.CcmdsPerSecond / SameLoadCcmdsPerSecond;
}

/// <summary>Start-up: process start to listening socket, and to the start-up line.</summary>
public sealed record StartupFigure(string What, LatencySummary ToSocketMs, LatencySummary ToReadyLineMs);

/// <summary>A configuration experiment: the same blocking NOP round trip with HOCON overrides layered over HOCON.conf.</summary>
public sealed record DispatcherExperiment(string Name, string Hocon, ClientResult Result);

/// <summary>Everything one suite run measured.</summary>
public sealed record SuiteResults(
    SuiteOptions Options,
    MachineInfo Machine,
    IReadOnlyList<FloorResult> Floors,
    IReadOnlyList<NopRun> Nop,
    RealCommandsResult? Real,
    IReadOnlyList<ClientResult> Batched,
    IReadOnlyList<ScalePoint> Scaling,
    IReadOnlyList<AllocationFigure> Allocation,
    IReadOnlyList<AllocationSources> AllocationSources,
    IReadOnlyList<StartupFigure> Startup,
    IReadOnlyList<DispatcherExperiment> Experiments,
    IReadOnlyList<string> Notes,
    TimeSpan Elapsed);
