using Akka.Actor;
using Serilog;

namespace VhsaKmt.Actors.Diagnostics;

/// <summary>
/// Logs one structured stats line per interval (the daemon's <c>--stats</c>): open fds, mappings, VA use, KFD objects,
/// live actors and RSS, with the growth since the previous line. Started by whoever owns the KFD and VA manager
/// (the backend supervisor) as a child; stops with it.
/// </summary>
public sealed class StatsReporter : ReceiveActor, IWithTimers
{
    private sealed record Tick
    {
        public static readonly Tick Instance = new();
    }

    /// <summary>Ask for a line now; answered with the <see cref="LeakSnapshot"/> that was logged.</summary>
    public sealed record ReportNow
    {
        public static readonly ReportNow Instance = new();
    }

    private readonly LeakCounters _counters;
    private readonly TimeSpan _interval;
    private readonly ILogger _log;
    private LeakSnapshot? _previous;

    public StatsReporter(LeakCounters counters, TimeSpan interval, ILogger? log = null)
    {
        _counters = counters;
        _interval = interval;
        _log = (log ?? Log.Logger).ForContext<StatsReporter>();
        Receive<Tick>(_ => Report());
        Receive<ReportNow>(_ => Sender.Tell(Report()));
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(LeakCounters counters, TimeSpan interval, ILogger? log = null) =>
        Akka.Actor.Props.Create(() => new StatsReporter(counters, interval, log));

    protected override void PreStart()
    {
        if (_interval > TimeSpan.Zero) Timers.StartPeriodicTimer("stats", Tick.Instance, _interval);
    }

    private LeakSnapshot Report()
    {
        var now = _counters.Take();
        var growth = _previous is null ? [] : now.DiffFrom(_previous);
        _log.Information(
            "stats fds {OpenFds} va-maps {VaAreaMaps} mappings {HostMappings} memfds {Memfds} transport-fds {TransportFds} slices {VaSlicesInUse} backings {VaBackings} " +
            "kfd-alloc {KfdAllocations} kfd-events {KfdEvents} kfd-queues {KfdQueues} kfd-gpumaps {KfdMappings} actors {LiveActors} rss-kib {RssKiB} changed {Changes}",
            now.OpenFds, now.VaAreaMaps, now.HostMappings, now.Memfds, now.TransportFds, now.VaSlicesInUse, now.VaBackings,
            now.Kfd.Allocations, now.Kfd.Events, now.Kfd.Queues, now.Kfd.Mappings, now.LiveActors, now.RssBytes >> 10, growth);
        _previous = now;
        return now;
    }
}
