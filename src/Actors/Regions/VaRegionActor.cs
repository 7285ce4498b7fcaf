using Akka.Actor;
using VhsaKmt.Actors.Context;
using VhsaKmt.Actors.Objects;

namespace VhsaKmt.Actors.Regions;

/// <summary>
/// Lifetime of one allocated / registered / userptr region (child of its ContextActor). PostStop releases it on the
/// KFD (GPU unmap, free or deregister, VA back to the slice) — unless a live queue still uses it, in which case the
/// ContextActor releases it after that queue is gone.
/// </summary>
public sealed class VaRegionActor(KfdObject region, ContextState state, ObjectReleaser releaser) : UntypedActor
{
    public sealed record Release
    {
        public static readonly Release Instance = new();
    }

    public static Props Props(KfdObject region, ContextState state, ObjectReleaser releaser) =>
        Akka.Actor.Props.Create(() => new VaRegionActor(region, state, releaser));

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
        lock (state.Sync) releaser.TryReleaseRegion(region);
    }
}
