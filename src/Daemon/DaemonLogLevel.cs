using Serilog.Events;

namespace VhsaKmt.Daemon;

/// <summary>One log level, spelled the same on the command line and in HOCON (<c>vhsakmt.log.level</c>),
/// mapped to both Serilog's and Akka's level so the two never disagree.</summary>
public sealed record DaemonLogLevel(string Name, LogEventLevel Serilog, string Akka)
{
    private static readonly DaemonLogLevel[] All =
    [
        new("verbose", LogEventLevel.Verbose, "DEBUG"),
        new("debug", LogEventLevel.Debug, "DEBUG"),
        new("info", LogEventLevel.Information, "INFO"),
        new("warning", LogEventLevel.Warning, "WARNING"),
        new("error", LogEventLevel.Error, "ERROR"),
        new("fatal", LogEventLevel.Fatal, "ERROR"),
    ];

    /// <summary>Accepted names, for error messages and help.</summary>
    public static string Names => string.Join("|", All.Select(l => l.Name));

    public static bool TryParse(string text, out DaemonLogLevel level)
    {
        level = All.FirstOrDefault(l => string.Equals(l.Name, text, StringComparison.OrdinalIgnoreCase))!;
        return level is not null;
    }
}
