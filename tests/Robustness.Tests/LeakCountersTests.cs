using Akka.Actor;
using Akka.TestKit.Xunit2;
using VhsaKmt.Actors.Diagnostics;
using VhsaKmt.Native;
using VhsaKmt.Native.Hsa;
using VhsaKmt.Native.Interop;
using VhsaKmt.Native.Simulated;
using Xunit;

namespace VhsaKmt.Robustness.Tests;

/// <summary>The leak accounting itself sees what it claims to see.</summary>
public sealed class LeakCountersTests : TestKit
{
    public LeakCountersTests() : base("akka.loglevel = WARNING") { }

    [Fact]
    public void Snapshot_sees_an_fd_a_mapping_a_kfd_object_and_an_actor_and_their_release()
    {
        using var kfd = new SimulatedKfd(log: Serilog.Core.Logger.None);
        var counters = new LeakCounters(kfd, system: Sys);
        var before = counters.Take();

        var memfd = Memfd.Create("leak-test", 4096);
        var map = Mmap.MapShared(memfd, 0, 4096);
        Assert.Equal(HsaStatus.Success, kfd.CreateEvent(new HsaEventDescriptor { NodeId = 1 }, false, false, out _, out ulong ev));
        var actor = Sys.ActorOf(Props.Empty, "leak-probe");
        var during = counters.Take();
        var diff = during.DiffFrom(before);
        Assert.Contains(diff, d => d.StartsWith("OpenFds", StringComparison.Ordinal));
        Assert.Contains(diff, d => d.StartsWith("HostMappings", StringComparison.Ordinal));
        Assert.Contains(diff, d => d.StartsWith("Memfds", StringComparison.Ordinal));
        Assert.Contains(diff, d => d.StartsWith("Kfd.Events", StringComparison.Ordinal));
        Assert.Equal(before.LiveActors + 1, during.LiveActors);
        Assert.Empty(before.GrowthFrom(during)); // nothing grew going back

        Watch(actor);
        Sys.Stop(actor);
        ExpectTerminated(actor);
        Assert.Equal(HsaStatus.Success, kfd.DestroyEvent(ev));
        map.Dispose();
        memfd.Dispose();
        var after = counters.Take();
        Assert.Equal(before.Kfd, after.Kfd);
        Assert.Equal(before.LiveActors, after.LiveActors);
        // Our memfd and mapping are gone; only the KFD's process-wide event page (one memfd, one mapping) stays.
        Assert.InRange(after.Memfds - before.Memfds, 0, 1);
        Assert.InRange(after.HostMappings - before.HostMappings, 0, 1);
        Assert.InRange(after.OpenFds - before.OpenFds, 0, 1);
        Assert.True(during.Memfds > after.Memfds);
    }

    [Fact]
    public void Stats_reporter_answers_with_the_snapshot_it_logged()
    {
        using var kfd = new SimulatedKfd(log: Serilog.Core.Logger.None);
        var reporter = Sys.ActorOf(StatsReporter.Props(new LeakCounters(kfd, system: Sys), TimeSpan.Zero, Serilog.Core.Logger.None));
        reporter.Tell(StatsReporter.ReportNow.Instance);
        var snap = ExpectMsg<LeakSnapshot>(TimeSpan.FromSeconds(3));
        Assert.True(snap.OpenFds > 0);
        Assert.True(snap.RssBytes > 0);
        Assert.True(snap.LiveActors >= 1); // the reporter itself
    }
}
