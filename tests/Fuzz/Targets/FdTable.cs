namespace VhsaKmt.Fuzz.Targets;

/// <summary>The process's open fds as "fd → target" strings (/proc/self/fd), to name what leaked.</summary>
public static class FdTable
{
    public static HashSet<string> Snapshot()
    {
        var set = new HashSet<string>();
        foreach (var entry in Directory.EnumerateFileSystemEntries("/proc/self/fd"))
        {
            string? target;
            try
            {
                target = new FileInfo(entry).LinkTarget;
            }
            catch (IOException)
            {
                continue; // the enumeration's own fd, already closed
            }
            // The runtime opens assemblies and native libraries lazily, on first use: not ours to account.
            if (target is null || target.EndsWith(".dll", StringComparison.Ordinal) || target.EndsWith(".pdb", StringComparison.Ordinal) || target.Contains(".so", StringComparison.Ordinal)
                || target.StartsWith("/proc/", StringComparison.Ordinal)
                || target.StartsWith("pipe:", StringComparison.Ordinal)) continue; // the daemon makes no pipes; the runtime does (lazily)
            set.Add($"{Path.GetFileName(entry)}->{target}");
        }
        return set;
    }
}
