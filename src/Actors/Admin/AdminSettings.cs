using Akka.Configuration;

namespace VhsaKmt.Actors.Admin;

/// <summary>HOCON <c>vhsakmt.admin</c>: the admin socket (status, health, kill-context).</summary>
public sealed record AdminSettings(bool Enabled, string? SocketPath, TimeSpan AskTimeout)
{
    public const string Suffix = ".admin";

    public static AdminSettings From(Config root)
    {
        var c = root.GetConfig("vhsakmt.admin");
        if (c is null || c.IsEmpty) return new AdminSettings(true, null, TimeSpan.FromSeconds(5));
        var path = c.GetString("socket-path", "");
        return new AdminSettings(c.GetBoolean("enabled", true), string.IsNullOrEmpty(path) ? null : path,
            c.GetTimeSpan("ask-timeout", TimeSpan.FromSeconds(5), allowInfinite: false));
    }

    /// <summary>The configured path, else "&lt;main socket&gt;.admin"; null when neither is known (inherited fd without a path).</summary>
    public string? ResolvePath(string? mainSocketPath) => SocketPath ?? (mainSocketPath is null ? null : mainSocketPath + Suffix);
}
