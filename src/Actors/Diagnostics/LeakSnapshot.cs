using VhsaKmt.Native;

namespace VhsaKmt.Actors.Diagnostics;

/// <summary>
/// Host resources that must return to their baseline once the guest objects holding them are gone (leak tests, the
/// daemon's stats line). Every field but <see cref="RssBytes"/> is an exact count; RSS is reported, never asserted.
/// </summary>
/// <param name="OpenFds">Entries in /proc/self/fd.</param>
/// <param name="VaAreaMaps">/proc/self/maps lines inside the device VA area (the reservation itself counts 1 per piece).</param>
/// <param name="HostMappings">Live mmaps made through VhsaKmt.Native.Interop (the transport's guest-memory mappings included).</param>
/// <param name="Memfds">Live memfds made through VhsaKmt.Native.Interop.</param>
/// <param name="TransportFds">Fds owned through FdHandle: the vhost-user transport's sockets, eventfds and received fds.</param>
/// <param name="VaSlicesInUse">Context slices handed out by the VA manager.</param>
/// <param name="VaBackings">Ranges of the VA area holding real pages.</param>
/// <param name="Kfd">Live KFD objects.</param>
/// <param name="LiveActors">Actors under /user.</param>
/// <param name="RssBytes">Resident set size.</param>
public sealed record LeakSnapshot(
    int OpenFds,
    int VaAreaMaps,
    long HostMappings,
    long Memfds,
    long TransportFds,
    int VaSlicesInUse,
    int VaBackings,
    KfdCountersSnapshot Kfd,
    int LiveActors,
    long RssBytes)
{
    /// <summary>What grew or shrank since <paramref name="baseline"/>; empty when every exact counter is back.</summary>
    public IReadOnlyList<string> DiffFrom(LeakSnapshot baseline) => Compare(baseline, growthOnly: false);

    /// <summary>Only what grew since <paramref name="baseline"/> (a soak asserts no growth; shrinking is not a leak).</summary>
    public IReadOnlyList<string> GrowthFrom(LeakSnapshot baseline) => Compare(baseline, growthOnly: true);

    private List<string> Compare(LeakSnapshot baseline, bool growthOnly)
    {
        var diffs = new List<string>();
        void Check(string name, long now, long then)
        {
            if (growthOnly ? now > then : now != then) diffs.Add($"{name} {then} -> {now} ({now - then:+#;-#})");
        }
        Check(nameof(OpenFds), OpenFds, baseline.OpenFds);
        Check(nameof(VaAreaMaps), VaAreaMaps, baseline.VaAreaMaps);
        Check(nameof(HostMappings), HostMappings, baseline.HostMappings);
        Check(nameof(Memfds), Memfds, baseline.Memfds);
        Check(nameof(TransportFds), TransportFds, baseline.TransportFds);
        Check(nameof(VaSlicesInUse), VaSlicesInUse, baseline.VaSlicesInUse);
        Check(nameof(VaBackings), VaBackings, baseline.VaBackings);
        Check("Kfd.Allocations", Kfd.Allocations, baseline.Kfd.Allocations);
        Check("Kfd.Events", Kfd.Events, baseline.Kfd.Events);
        Check("Kfd.Queues", Kfd.Queues, baseline.Kfd.Queues);
        Check("Kfd.Registrations", Kfd.Registrations, baseline.Kfd.Registrations);
        Check("Kfd.Exports", Kfd.Exports, baseline.Kfd.Exports);
        Check("Kfd.Mappings", Kfd.Mappings, baseline.Kfd.Mappings);
        Check(nameof(LiveActors), LiveActors, baseline.LiveActors);
        return diffs;
    }

    public override string ToString() =>
        $"fds={OpenFds} va-maps={VaAreaMaps} mappings={HostMappings} memfds={Memfds} transport-fds={TransportFds} slices={VaSlicesInUse} backings={VaBackings} " +
        $"kfd(alloc={Kfd.Allocations} events={Kfd.Events} queues={Kfd.Queues} reg={Kfd.Registrations} exports={Kfd.Exports} gpumaps={Kfd.Mappings}) " +
        $"actors={LiveActors} rss={RssBytes >> 10}KiB";
}
