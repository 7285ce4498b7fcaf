using Akka.Actor;

namespace VhsaKmt.Actors.Diagnostics;

/// <summary>
/// Counts live actors by walking the children of the user guardian (a snapshot of each child container; no
/// messages, so it works while actors are busy). Stopped actors leave their parent's container once terminated.
/// </summary>
public static class LiveActorCount
{
    public static int UnderUser(ActorSystem system)
    {
        if (system is not ExtendedActorSystem ext) return 0;
        return CountBelow(ext.Guardian);
    }

    /// <summary>Actors strictly below <paramref name="actor"/>.</summary>
    public static int CountBelow(IActorRef actor)
    {
        if (actor is not ActorRefWithCell withCell) return 0;
        int n = 0;
        foreach (var child in withCell.Children)
        {
            n++;
            n += CountBelow(child);
        }
        return n;
    }
}
