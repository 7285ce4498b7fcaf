using Akka.Actor;
using VhsaKmt.Actors.Context;
using VhsaKmt.Actors.Objects;

namespace VhsaKmt.Actors.Queues;

/// <summary>
/// Lifetime of one KFD queue (child of its ContextActor). Stopping it destroys the queue (hsaKmtDestroyQueue) in
/// PostStop and unlinks its ring / r-w memory; the ContextActor's death-watch then frees that memory if the guest
/// dropped it, so queue memory is never freed before its queue is gone (PROTOCOL.md §5.3).
/// </summary>
public sealed class QueueActor(QueueObject queue, ContextState state, ObjectReleaser releaser) : UntypedActor
{
    /// <summary>Asks the queue to go away (same as stopping it).</summary>
    public sealed record Release
    {
        public static readonly Release Instance = new();
    }

    public static Props Props(QueueObject queue, ContextState state, ObjectReleaser releaser) =>
        Akka.Actor.Props.Create(() => new QueueActor(queue, state, releaser));

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

    protected override void PostStop()
    {
        lock (state.Sync) releaser.DestroyQueue(queue);
    }
}
