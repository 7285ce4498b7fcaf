using Akka.Actor;
using VhsaKmt.Actors.Context;

namespace VhsaKmt.Actors.Supervision;

/// <summary>
/// Supervisor decision table for ContextActors (DESIGN.md "restart, don't kill the guest"). The DeviceActor uses
/// <see cref="Strategy"/> for its children. Guest-input errors never throw (they are ccmd answers), so whatever
/// reaches this table is a host-side fault:
/// <list type="table">
/// <item><term><see cref="ContextInvariantException"/></term><description>Stop: the state object is inconsistent; a restart around it would repeat the fault.</description></item>
/// <item><term><see cref="ActorInitializationException"/></term><description>Stop: the actor cannot even start around its state.</description></item>
/// <item><term><see cref="ActorKilledException"/>, <see cref="DeathPactException"/></term><description>Stop (Akka semantics).</description></item>
/// <item><term><see cref="OutOfMemoryException"/></term><description>Escalate: the process is in trouble, not the context.</description></item>
/// <item><term>anything else (handler fault, <see cref="CcmdHandlerException"/>)</term><description>Restart around the same ContextState, at most MaxRestarts in RestartWindow; exhausted → Stop.</description></item>
/// </list>
/// A stopped context releases its host resources in teardown order and sets <c>async_error</c> in its shmem.
/// </summary>
public static class ContextSupervision
{
    public static Directive Decide(Exception e) => e switch
    {
        ContextInvariantException => Directive.Stop,
        ActorInitializationException => Directive.Stop,
        ActorKilledException => Directive.Stop,
        DeathPactException => Directive.Stop,
        OutOfMemoryException => Directive.Escalate,
        _ => Directive.Restart,
    };

    public static IDecider Decider { get; } = Akka.Actor.Decider.From(Decide);

    /// <summary>One-for-one: a failing context never touches its siblings. Exhausted restarts stop the context.</summary>
    public static SupervisorStrategy Strategy(ContextSettings settings) =>
        new OneForOneStrategy(settings.MaxRestarts, settings.RestartWindow, Decider);
}
