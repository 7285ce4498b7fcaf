using System.Collections.Concurrent;
using Serilog.Core;
using Serilog.Events;

namespace VhsaKmt.Daemon.Tests.Logging;

/// <summary>Serilog sink that keeps every event for assertions.</summary>
public sealed class CollectingSink : ILogEventSink
{
    private readonly ConcurrentQueue<LogEvent> _events = new();

    public IReadOnlyList<LogEvent> Events => _events.ToArray();

    public void Emit(LogEvent logEvent) => _events.Enqueue(logEvent);
}
