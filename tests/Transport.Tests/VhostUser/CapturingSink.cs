using System.Collections.Concurrent;
using Serilog;
using Serilog.Core;
using Serilog.Events;

namespace VhsaKmt.Transport.Tests.VhostUser;

/// <summary>Collects rendered log events so tests can assert that a rejection was logged with its reason.</summary>
internal sealed class CapturingSink : ILogEventSink
{
    public ConcurrentQueue<LogEvent> Events { get; } = new();

    public void Emit(LogEvent logEvent) => Events.Enqueue(logEvent);

    public ILogger CreateLogger() => new LoggerConfiguration().MinimumLevel.Verbose().WriteTo.Sink(this).CreateLogger();

    public IEnumerable<string> Messages(LogEventLevel minimum = LogEventLevel.Warning) =>
        Events.Where(e => e.Level >= minimum).Select(e => e.RenderMessage() + (e.Exception is null ? "" : " " + e.Exception));
}
