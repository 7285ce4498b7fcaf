using System.Globalization;
using Serilog;
using Serilog.Core;
using Serilog.Events;
using Serilog.Formatting.Compact;

namespace VhsaKmt.Daemon;

/// <summary>
/// Builds the daemon's Serilog logger. Every event goes to stderr so stdout carries only the
/// start-up line (and --print-capabilities); text for people, compact JSON for collectors, and
/// under systemd (JOURNAL_STREAM set) plain lines with no timestamp, prefixed with the journald priority.
/// </summary>
public static class DaemonLogging
{
    public const string DefaultSource = "vhsakmtd";

    private const string TextTemplate =
        "{Timestamp:HH:mm:ss.fff} {Level:u3} {SourceContext:l}: {Message:lj}{NewLine}{Exception}";

    private const string JournalTemplate =
        "{SdPriority:l}{SourceContext:l}: {Message:lj}{NewLine}{Exception}";

    public static Logger Create(DaemonLogLevel level, LogFormat format, bool journal)
    {
        var config = new LoggerConfiguration()
            .MinimumLevel.Is(level.Serilog)
            .Enrich.WithProperty(Constants.SourceContextPropertyName, DefaultSource);

        if (format == LogFormat.Json)
            return config.WriteTo.Console(new CompactJsonFormatter(), standardErrorFromLevel: LogEventLevel.Verbose)
                .CreateLogger();

        if (journal)
            config = config.Enrich.With<JournaldPriorityEnricher>();
        return config.WriteTo.Console(
                outputTemplate: journal ? JournalTemplate : TextTemplate,
                standardErrorFromLevel: LogEventLevel.Verbose,
                formatProvider: CultureInfo.InvariantCulture)
            .CreateLogger();
    }

    /// <summary>systemd sets JOURNAL_STREAM when stdout/stderr is connected to the journal.</summary>
    public static bool UnderJournal() => !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("JOURNAL_STREAM"));
}
