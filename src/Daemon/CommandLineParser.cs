using System.Globalization;
using VhsaKmt.Actors.Hosting;

namespace VhsaKmt.Daemon;

/// <summary>
/// Parses vhsakmtd's command line, following QEMU's vhost-user "Backend program conventions":
/// <c>--socket-path PATH</c> or <c>--fd N</c>, <c>--print-capabilities</c>; both <c>--opt value</c>
/// and <c>--opt=value</c> are accepted. Every error is one line for stderr (the caller exits 2).
/// </summary>
public static class CommandLineParser
{
    /// <summary>An option: whether it takes a value, and how it updates the arguments (error text or null).</summary>
    private sealed record Option(bool TakesValue, Func<DaemonArguments, string, (DaemonArguments Args, string? Error)> Apply);

    private static readonly Dictionary<string, Option> Options = new(StringComparer.Ordinal)
    {
        ["--socket-path"] = new(true, (a, v) => v.Length == 0
            ? (a, "--socket-path needs a non-empty path")
            : (a with { SocketPath = v }, null)),
        ["--fd"] = new(true, (a, v) =>
            !int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out var fd)
                ? (a, $"--fd needs a non-negative file descriptor number, got '{v}'")
                : fd < 3
                    ? (a, $"--fd {fd} is standard input/output/error, not a listening socket")
                    : (a with { ListenFd = fd }, null)),
        ["--print-capabilities"] = new(false, (a, _) => (a with { Action = Max(a.Action, DaemonAction.PrintCapabilities) }, null)),
        ["--backend"] = new(true, (a, v) => ParseBackend(v) is { } b
            ? (a with { Backend = b }, null)
            : (a, $"--backend must be auto|hsakmt|simulated, got '{v}'")),
        ["--config"] = new(true, (a, v) => v.Length == 0
            ? (a, "--config needs a file name")
            : (a with { ConfigFile = v }, null)),
        ["--log-level"] = new(true, (a, v) => DaemonLogLevel.TryParse(v, out var l)
            ? (a with { LogLevel = l }, null)
            : (a, $"--log-level must be {DaemonLogLevel.Names}, got '{v}'")),
        ["--log-format"] = new(true, (a, v) => ParseLogFormat(v) is { } f
            ? (a with { LogFormat = f }, null)
            : (a, $"--log-format must be text|json, got '{v}'")),
        ["--stats"] = new(false, (a, _) => (a with { Stats = true }, null)),
        ["--version"] = new(false, (a, _) => (a with { Action = Max(a.Action, DaemonAction.Version) }, null)),
        ["-V"] = new(false, (a, _) => (a with { Action = Max(a.Action, DaemonAction.Version) }, null)),
        ["--help"] = new(false, (a, _) => (a with { Action = DaemonAction.Help }, null)),
        ["-h"] = new(false, (a, _) => (a with { Action = DaemonAction.Help }, null)),
    };

    /// <summary>Parses <paramref name="args"/>; on failure returns null and a one-line <paramref name="error"/>.</summary>
    public static DaemonArguments? Parse(IReadOnlyList<string> args, out string? error)
    {
        var result = new DaemonArguments();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            var eq = arg.StartsWith("--", StringComparison.Ordinal) ? arg.IndexOf('=') : -1;
            var name = eq > 0 ? arg[..eq] : arg;
            if (!Options.TryGetValue(name, out var option))
            {
                error = arg.StartsWith('-') ? $"unknown option '{name}'" : $"unexpected argument '{arg}'";
                return null;
            }
            // -V/--version and -h/--help are the same option under two names.
            if (!seen.Add(Canonical(name)))
            {
                error = $"option '{name}' given more than once";
                return null;
            }
            string value;
            if (!option.TakesValue)
            {
                if (eq > 0)
                {
                    error = $"option '{name}' takes no value";
                    return null;
                }
                value = "";
            }
            else if (eq > 0)
                value = arg[(eq + 1)..];
            // "--socket-path --fd 3" is a forgotten value, not a path named "--fd" (use --opt=VALUE for that).
            else if (i + 1 < args.Count && !args[i + 1].StartsWith("--", StringComparison.Ordinal))
                value = args[++i];
            else
            {
                error = $"option '{name}' needs a value";
                return null;
            }
            (result, error) = option.Apply(result, value);
            if (error is not null)
                return null;
        }

        if (result.Action == DaemonAction.Run && (result.SocketPath is null) == (result.ListenFd is null))
        {
            error = result.SocketPath is null
                ? "exactly one of --socket-path PATH or --fd N is required"
                : "--socket-path and --fd cannot be used together";
            return null;
        }
        error = null;
        return result;
    }

    /// <summary>HOCON/CLI spelling of a backend, or null.</summary>
    public static BackendKind? ParseBackend(string text) => text.ToLowerInvariant() switch
    {
        "auto" => BackendKind.Auto,
        "hsakmt" => BackendKind.HsaKmt,
        "simulated" => BackendKind.Simulated,
        _ => null,
    };

    /// <summary>HOCON/CLI spelling of a log format, or null.</summary>
    public static LogFormat? ParseLogFormat(string text) => text.ToLowerInvariant() switch
    {
        "text" => Daemon.LogFormat.Text,
        "json" => Daemon.LogFormat.Json,
        _ => null,
    };

    private static string Canonical(string name) => name switch { "-V" => "--version", "-h" => "--help", _ => name };

    // Help beats version beats print-capabilities, whatever the order they were given in.
    private static DaemonAction Max(DaemonAction a, DaemonAction b) => (DaemonAction)Math.Max((int)a, (int)b);
}
