using System.Globalization;
using Akka.Actor;
using VhsaKmt.Native;
using VhsaKmt.Native.Interop;
using VhsaKmt.Native.Va;

namespace VhsaKmt.Actors.Diagnostics;

/// <summary>
/// Takes <see cref="LeakSnapshot"/>s of one service instance: its KFD, its VA manager and its actor system, plus the
/// process-wide fd, mapping and RSS counts. Cheap enough for a periodic stats line (reads three /proc files).
/// Process-wide counts include everything else in the process: compare snapshots taken with the rest idle.
/// </summary>
public sealed class LeakCounters(IKfd kfd, VaManager? va = null, ActorSystem? system = null)
{
    public LeakSnapshot Take() => new(
        CountOpenFds(),
        va is null ? 0 : CountMapsIn(va.Area.Start, va.Area.End),
        MappingCounters.LiveMappings,
        MappingCounters.LiveMemfds,
        va is null ? 0 : va.Options.SliceCount - va.FreeSliceCount,
        va?.LiveBackingCount ?? 0,
        kfd.Counters.Snapshot(),
        system is null ? 0 : LiveActorCount.UnderUser(system),
        ReadRssBytes());

    /// <summary>Entries of /proc/self/fd (the directory's own fd, open while enumerating, is not counted).</summary>
    public static int CountOpenFds() => Math.Max(0, Directory.EnumerateFileSystemEntries("/proc/self/fd").Count() - 1);

    /// <summary>Lines of /proc/self/maps that intersect [start, end).</summary>
    public static int CountMapsIn(ulong start, ulong end)
    {
        int n = 0;
        foreach (var line in File.ReadLines("/proc/self/maps"))
        {
            int dash = line.IndexOf('-');
            int space = line.IndexOf(' ');
            if (dash <= 0 || space <= dash) continue;
            ulong lo = ulong.Parse(line.AsSpan(0, dash), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            ulong hi = ulong.Parse(line.AsSpan(dash + 1, space - dash - 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            if (lo < end && hi > start) n++;
        }
        return n;
    }

    /// <summary>Resident set size from /proc/self/statm (pages × page size).</summary>
    public static long ReadRssBytes()
    {
        var fields = File.ReadAllText("/proc/self/statm").Split(' ');
        return long.Parse(fields[1], CultureInfo.InvariantCulture) * Environment.SystemPageSize;
    }
}
