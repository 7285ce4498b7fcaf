using Akka.Actor;

namespace VhsaKmt.Actors.Context;

/// <summary>
/// Lifetime of one KFD object, as a child of its ContextActor: stopping the actor releases the object in
/// <see cref="ReleaseObject"/> (PostStop), and the parent's death-watch orders what depends on it.
/// </summary>
public abstract class ObjectLifetimeActor : UntypedActor
{
    /// <summary>Asks the object to go away (same as stopping its actor).</summary>
    public sealed record Release
    {
        public static readonly Release Instance = new();
    }

    protected override void OnReceive(object message)
    {
        if (message is Release) Context.Stop(Self);
        else Unhandled(message);
    }

    /// <summary>
    /// The parent's restart restarts surviving children too; a lifetime actor keeps its object across it (the
    /// default would run PostStop and release it).
    /// </summary>
    protected override void PreRestart(Exception reason, object message) { }

    protected override void PostRestart(Exception reason) { }

    protected override void PostStop() => ReleaseObject();

    /// <summary>Releases the object on the KFD; runs once, when the actor stops.</summary>
    protected abstract void ReleaseObject();
}
