using Akka.Actor;
using Akka.Dispatch;
using Akka.Event;
using Serilog;
using Serilog.Core;
using Serilog.Events;
using AkkaLogEvent = Akka.Event.LogEvent;

namespace VhsaKmt.Actors.Logging;

/// <summary>
/// Akka logger (named in <c>akka.loggers</c>) that forwards Akka's log events to Serilog. The
/// log source becomes <c>SourceContext</c>, and a <see cref="LogMessage"/>'s format and arguments
/// are passed to Serilog as a message template with its values, so properties such as
/// <c>{VmId}</c> stay structured instead of being rendered to text first.
/// </summary>
public sealed class SerilogLogger : ReceiveActor, IRequiresMessageQueue<ILoggerMessageQueueSemantics>
{
    private readonly ILogger? _logger;

    /// <summary>Used by Akka when it starts the configured loggers: writes to <see cref="Log.Logger"/>.</summary>
    public SerilogLogger() : this(null) { }

    /// <summary>Writes to <paramref name="logger"/>; null means the global <see cref="Log.Logger"/>, read per event
    /// so a logger configured after the actor system starts is still honoured.</summary>
    public SerilogLogger(ILogger? logger)
    {
        _logger = logger;
        Receive<InitializeLogger>(_ => Sender.Tell(new LoggerInitialized()));
        Receive<Error>(e => Write(LogEventLevel.Error, e, e.Cause));
        Receive<Warning>(e => Write(LogEventLevel.Warning, e, e.Cause));
        Receive<Info>(e => Write(LogEventLevel.Information, e, e.Cause));
        Receive<Debug>(e => Write(LogEventLevel.Debug, e, e.Cause));
    }

    private void Write(LogEventLevel level, AkkaLogEvent e, Exception? cause)
    {
        var root = _logger ?? Log.Logger;
        if (!root.IsEnabled(level))
            return;
        var log = root
            .ForContext(Constants.SourceContextPropertyName, e.LogSource)
            .ForContext("LogClass", e.LogClass?.Name);
        if (e.Message is LogMessage message)
            log.Write(level, cause, message.Format, message.Parameters().ToArray());
        else
            // Not a template: render it verbatim so braces in free text are not parsed.
            log.Write(level, cause, "{Message:l}", e.Message);
    }
}
