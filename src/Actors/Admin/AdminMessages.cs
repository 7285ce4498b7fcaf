namespace VhsaKmt.Actors.Admin;

// Queries the admin socket sends to the actors (Ask with a timeout). Handled by DeviceActor; the supervisor's
// ListDevices gives the devices.

/// <summary>Reply: <see cref="DeviceStatus"/>.</summary>
public sealed class GetDeviceStatus { public static readonly GetDeviceStatus Instance = new(); }

public sealed record DeviceStatus(string VmId, string Device, ulong AckedProtocolFeatures, DateTime ConnectedAtUtc, IReadOnlyList<ContextStatus> Contexts);

public sealed record ContextStatus(uint CtxId, string Process, int Objects, ulong MemoryBytes, ulong VramBytes, int Queues, long Ccmds, int HandlerFaults, string? LastError);

/// <summary>Ordered teardown of exactly one context, as if the guest had destroyed it. Reply: <see cref="KillContextResult"/>.</summary>
public sealed record KillContext(uint CtxId);

public sealed record KillContextResult(bool Killed, string Message);
