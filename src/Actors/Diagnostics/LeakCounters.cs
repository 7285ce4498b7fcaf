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
        ResourceCounters.LiveMappings,
        ResourceCounters.LiveMemfds,
        ResourceCounters.OpenFds,
        va is null ? 0 : va.Options.SliceCount - va.FreeSliceCount,
        va?.LiveBackingCount ?? 0,
        kfd.Counters.Snapshot(),
        system is null ? 0 : LiveActorCount.UnderUser(system),
        ReadRssBytes());

    /// <summary>
    /// Entries of /proc/self/fd, without the runtime's own lazily opened files (assemblies, symbol files, native
    /// libraries: opened on first use, e.g. for a stack trace, and kept) and the enumeration's own fd.
    /// </summary>
    public static int CountOpenFds()
    {
        int n = 0;
        foreach (var entry in Directory.EnumerateFileSystemEntries("/proc/self/fd"))
        {
            string? target;
            try
            {
                target = new FileInfo(entry).LinkTarget;
            }
            catch (IOException)
            {
                continue; // closed while we looked (the enumeration's own fd)
            }
            if (target is null || IsRuntimeFile(target)) continue;
            n++;
        }
        return n;
    }

    private static bool IsRuntimeFile(string target) =>
        target.EndsWith(".dll", StringComparison.Ordinal) || target.EndsWith(".pdb", StringComparison.Ordinal)
        || target.Contains(".so", StringComparison.Ordinal) || target.StartsWith("/proc/", StringComparison.Ordinal);

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
