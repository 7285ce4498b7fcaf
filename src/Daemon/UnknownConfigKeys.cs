using Akka.Configuration;
using Akka.Configuration.Hocon;

namespace VhsaKmt.Daemon;

/// <summary>
/// Finds keys a user's config sets under a section (<c>vhsakmt</c>) that the defaults do not know:
/// almost always a typo that would otherwise be silently ignored. Reports the shallowest unknown
/// path (an unknown object is one finding, not one per leaf).
/// </summary>
public static class UnknownConfigKeys
{
    public static IReadOnlyList<string> Find(Config user, Config defaults, string section = "vhsakmt")
    {
        var found = new List<string>();
        if (user.IsEmpty || user.Root is not { } root || !root.IsObject())
            return found;
        if (root.GetObject().Items.TryGetValue(section, out var value))
            Walk(section, value, defaults, found);
        return found;
    }

    private static void Walk(string path, HoconValue value, Config defaults, List<string> found)
    {
        if (!value.IsObject())
            return;
        foreach (var (key, child) in value.GetObject().Items)
        {
            var childPath = $"{path}.{Quote(key)}";
            if (!defaults.HasPath(childPath))
                found.Add(childPath);
            else
                Walk(childPath, child, defaults, found);
        }
    }

    // A key with a dot in it is one key, not a path: quote it so HasPath reads it whole.
    private static string Quote(string key) => key.Contains('.') ? HoconString.Quote(key) : key;
}
