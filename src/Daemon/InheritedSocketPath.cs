
namespace VhsaKmt.Daemon;

/// <summary>
/// The filesystem path an inherited listening socket (<c>--fd</c>) is bound to, for the start-up
/// line only: /proc/self/fd/N names the socket's inode and /proc/net/unix maps inodes to paths.
/// Read-only: the fd itself belongs to the service and is not touched.
/// </summary>
public static class InheritedSocketPath
{
    public static string? Find(int fd, string procRoot = "/proc")
    {
        string target;
        try
        {
            target = new FileInfo($"{procRoot}/self/fd/{fd}").LinkTarget ?? "";
        }
        catch (IOException)
        {
            return null;
        }
        // "socket:[12345]"
        if (!target.StartsWith("socket:[", StringComparison.Ordinal) || !target.EndsWith(']'))
            return null;
        var inode = target["socket:[".Length..^1];
        try
        {
            return FromNetUnix(File.ReadLines($"{procRoot}/net/unix"), inode);
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>Looks an inode up in /proc/net/unix lines: "Num RefCount Protocol Flags Type St Inode [Path]".</summary>
    public static string? FromNetUnix(IEnumerable<string> lines, string inode)
    {
        foreach (var line in lines.Skip(1))
        {
            var fields = line.Split(' ', 8, StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length == 8 && fields[6] == inode && fields[7].StartsWith('/'))
                return fields[7];
        }
        return null;
    }
}
