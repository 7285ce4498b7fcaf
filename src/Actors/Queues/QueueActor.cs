using Akka.Actor;
using VhsaKmt.Actors.Context;
using VhsaKmt.Actors.Objects;

namespace VhsaKmt.Actors.Queues;

/// <summary>
/// Lifetime of one KFD queue (child of its ContextActor). Stopping it destroys the queue (hsaKmtDestroyQueue) in
/// PostStop and unlinks its ring / r-w memory; the ContextActor's death-watch then frees that memory if the guest
/// dropped it, so queue memory is never freed before its queue is gone (PROTOCOL.md §5.3).
/// </summary>
public sealed class QueueActor(QueueObject queue, ContextState state, ObjectReleaser releaser) : ObjectLifetimeActor
{
    public static Props Props(QueueObject queue, ContextState state, ObjectReleaser releaser) =>
        Akka.Actor.Props.Create(() => new QueueActor(queue, state, releaser));

    protected override void ReleaseObject()
    {
        lock (state.Sync) releaser.DestroyQueue(queue);
    }
}
