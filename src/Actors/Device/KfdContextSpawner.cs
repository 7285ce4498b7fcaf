using Akka.Actor;
using VhsaKmt.Actors.Context;
using VhsaKmt.Actors.Messages;
using VhsaKmt.Actors.Supervision;

namespace VhsaKmt.Actors.Device;

/// <summary>
/// Production <see cref="IContextSpawner"/>: a ContextActor over the subtree's KFD and VA manager, its
/// <see cref="ContextState"/> created here and kept by the DeviceActor, supervised by <see cref="ContextSupervision"/>.
/// </summary>
public sealed class KfdContextSpawner(ContextServices services, string? dispatcher) : IContextSpawner
{
    public SpawnedContext Prepare(ContextInfo info)
    {
        var state = ContextState.Create(info, services.Settings);
        var props = ContextActor.Props(info, state, services);
        if (dispatcher is not null) props = props.WithDispatcher(dispatcher);
        return new SpawnedContext(props, state, new ContextFastPath(info, state, services));
    }

    public SupervisorStrategy CreateSupervisorStrategy() => ContextSupervision.Strategy(services.Settings);
}
