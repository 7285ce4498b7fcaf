using Akka.Actor;
using VhsaKmt.Native;
using VhsaKmt.Native.Va;

namespace VhsaKmt.Actors.Supervisor;

/// <summary>Asked by the listener's model factory (accept thread) for a new connection. Reply: the DeviceActor's ref, or Status.Failure.</summary>
public sealed record CreateDevice(string VmId, Device.ContextLanes? Lanes = null);

/// <summary>Reply: <see cref="ServiceInfo"/> once listening, or Status.Failure when start-up failed.</summary>
public sealed class GetServiceInfo { public static readonly GetServiceInfo Instance = new(); }

public sealed record ServiceInfo(string Listening, string BackendName, string BackendReason, IReadOnlyList<string> GpuNodes);

/// <summary>Reply: <see cref="BackendInfo"/> (the subtree's KFD and VA manager; diagnostics and integration tests).</summary>
public sealed class GetBackend { public static readonly GetBackend Instance = new(); }

public sealed record BackendInfo(IKfd Kfd, VaManager Va);

/// <summary>Reply: the live DeviceActors by VM id.</summary>
public sealed class ListDevices { public static readonly ListDevices Instance = new(); }

public sealed record DeviceList(IReadOnlyDictionary<string, IActorRef> Devices);

/// <summary>Stop listening, close every connection, wait for every device's ordered teardown. Reply: <see cref="ServiceStopped"/>.</summary>
public sealed class StopService { public static readonly StopService Instance = new(); }

public sealed class ServiceStopped { public static readonly ServiceStopped Instance = new(); }
