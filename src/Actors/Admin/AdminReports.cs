namespace VhsaKmt.Actors.Admin;

// The admin protocol's answers (serialized as JSON with snake_case names, one line each).

public sealed record AdminResponse(bool Ok, string? Error = null, StatusReport? Status = null, HealthReport? Health = null, KillContextResult? Kill = null);

public sealed record StatusReport(DaemonInfo Daemon, IReadOnlyList<VmStatus> Vms, Totals Totals);

public sealed record DaemonInfo(int Pid, double UptimeSeconds, string Listening, string Backend, IReadOnlyList<string> GpuNodes);

public sealed record VmStatus(string Vm, string Device, string AckedProtocolFeatures, double UptimeSeconds, IReadOnlyList<ContextStatus> Contexts);

public sealed record Totals(int Vms, int Contexts, long Objects, ulong MemoryBytes, long Queues);

public sealed record HealthReport(bool Live, bool Ready, bool ActorSystemUp, bool ListenerBound, bool KfdInitialised, string Detail);
