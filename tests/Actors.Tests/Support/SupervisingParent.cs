using Akka.Actor;
using VhsaKmt.Actors.Context;
using VhsaKmt.Actors.Supervision;

namespace VhsaKmt.Actors.Tests.Support;

/// <summary>Stands in for the DeviceActor: owns ContextActors with <see cref="ContextSupervision.Strategy"/> and forwards to them.</summary>
public sealed class SupervisingParent : UntypedActor
{
    private readonly ContextSettings _settings;

    public sealed record Spawn(string Name, Props Props);

    public sealed record To(string Name, object Message);

    public SupervisingParent(ContextSettings settings) => _settings = settings;

    protected override SupervisorStrategy SupervisorStrategy() => ContextSupervision.Strategy(_settings);

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case Spawn s: Sender.Tell(Context.ActorOf(s.Props, s.Name)); break;
            case To t: Context.Child(t.Name).Forward(t.Message); break;
            default: Unhandled(message); break;
        }
    }
}
