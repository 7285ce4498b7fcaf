using System.Collections.Concurrent;
using Serilog.Core;
using Serilog.Events;

namespace VhsaKmt.Integration.Tests.Qemu;

/// <summary>Collects the in-process daemon's Serilog events so tests can assert on what it logged.</summary>
public sealed class DaemonLogCapture : ILogEventSink
{
    private readonly ConcurrentQueue<LogEvent> _events = new();

    public void Emit(LogEvent logEvent) => _events.Enqueue(logEvent);

    public IReadOnlyList<LogEvent> Events => _events.ToArray();

    public void Clear() => _events.Clear();

    /// <summary>A scalar property's value as text (without quotes), or null.</summary>
    public static string? Property(LogEvent e, string name) =>
        e.Properties.TryGetValue(name, out var v) ? (v is ScalarValue s ? s.Value?.ToString() : v.ToString()) : null;

    /// <summary>The rendered message plus every property, for matching and for failure messages.</summary>
    public static string Render(LogEvent e) =>
        $"{e.Timestamp:HH:mm:ss.fff} {e.Level} {e.RenderMessage()} {{{string.Join(", ", e.Properties.Select(p => $"{p.Key}={p.Value}"))}}}"
        + (e.Exception is null ? "" : $" !{e.Exception.GetType().Name}: {e.Exception.Message}");

    public string Dump(int max = 200)
    {
        var all = Events;
        return string.Join('\n', all.Skip(Math.Max(0, all.Count - max)).Select(Render));
    }
}
