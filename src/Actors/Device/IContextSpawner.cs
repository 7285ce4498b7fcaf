using Akka.Actor;
using VhsaKmt.Actors.Messages;

namespace VhsaKmt.Actors.Device;

/// <summary>Props of a new ContextActor and the state object its parent keeps so a restart rebuilds around it.</summary>
public sealed record SpawnedContext(Props Props, object State);

/// <summary>The seam through which a DeviceActor creates its context children (tests substitute probes).</summary>
public interface IContextSpawner
{
    SpawnedContext Prepare(ContextInfo info);

    /// <summary>The strategy the DeviceActor applies to its context children.</summary>
    SupervisorStrategy CreateSupervisorStrategy();
}
