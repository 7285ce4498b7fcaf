using Akka.Actor;
using VhsaKmt.Actors.Messages;

namespace VhsaKmt.Actors.Context;

/// <summary>
/// One guest context (capset 8): owns its ccmd stream, shmem, objects and KFD calls, in guest order. State lives in
/// <see cref="ContextState"/> (owned by the parent) so a restart keeps the guest's GPU objects.
/// </summary>
public sealed partial class ContextActor : UntypedActor
{
    private readonly ContextInfo _info;
    private readonly ContextState _state;
    private readonly ContextServices _services;

    public ContextActor(ContextInfo info, ContextState state, ContextServices services)
    {
        _info = info;
        _state = state;
        _services = services;
    }

    public static Props Props(ContextInfo info, ContextState state, ContextServices services) =>
        Akka.Actor.Props.Create(() => new ContextActor(info, state, services));

    protected override void OnReceive(object message) => Unhandled(message);
}
