using Akka.Actor;
using VhsaKmt.Actors.Context;
using VhsaKmt.Actors.Objects;

namespace VhsaKmt.Actors.Regions;

/// <summary>
/// Lifetime of one allocated / registered / userptr region (child of its ContextActor). PostStop releases it on the
/// KFD (GPU unmap, free or deregister, VA back to the slice) — unless a live queue still uses it, in which case the
/// ContextActor releases it after that queue is gone.
/// </summary>
public sealed class VaRegionActor(KfdObject region, ContextState state, ObjectReleaser releaser) : ObjectLifetimeActor
{
    public static Props Props(KfdObject region, ContextState state, ObjectReleaser releaser) =>
        Akka.Actor.Props.Create(() => new VaRegionActor(region, state, releaser));

    protected override void ReleaseObject()
    {
        lock (state.Sync) releaser.TryReleaseRegion(region);
    }
}
