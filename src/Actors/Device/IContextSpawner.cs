using Akka.Actor;
using VhsaKmt.Actors.Context;
using VhsaKmt.Actors.Messages;

namespace VhsaKmt.Actors.Device;

/// <summary>A context ready to spawn: its props, its state (kept by the device), and its inline fast path when it has one.</summary>
public sealed record SpawnedContext(Props Props, object State, ContextFastPath? FastPath = null);

/// <summary>The seam through which a DeviceActor creates its context children (tests substitute probes).</summary>
public interface IContextSpawner
{
    SpawnedContext Prepare(ContextInfo info);

    /// <summary>The strategy the DeviceActor applies to its context children.</summary>
    SupervisorStrategy CreateSupervisorStrategy();
}
