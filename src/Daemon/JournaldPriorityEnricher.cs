using Serilog.Core;
using Serilog.Events;

namespace VhsaKmt.Daemon;

/// <summary>Adds <c>SdPriority</c>, the sd-daemon "&lt;N&gt;" line prefix journald turns into a syslog
/// priority, so levels survive when stdout/stderr is a journal stream.</summary>
public sealed class JournaldPriorityEnricher : ILogEventEnricher
{
    public const string PropertyName = "SdPriority";

    private static readonly LogEventProperty[] Priorities =
    [
        new(PropertyName, new ScalarValue("<7>")), // Verbose -> debug
        new(PropertyName, new ScalarValue("<7>")), // Debug
        new(PropertyName, new ScalarValue("<6>")), // Information -> info
        new(PropertyName, new ScalarValue("<4>")), // Warning -> warning
        new(PropertyName, new ScalarValue("<3>")), // Error -> err
        new(PropertyName, new ScalarValue("<2>")), // Fatal -> crit
    ];

    public void Enrich(LogEvent logEvent, ILogEventPropertyFactory propertyFactory)
        => logEvent.AddPropertyIfAbsent(Priorities[(int)logEvent.Level]);
}
