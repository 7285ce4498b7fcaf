using Akka.Actor;
using Akka.Configuration;
using Akka.Event;
using Akka.TestKit;
using Serilog;
using Serilog.Events;
using VhsaKmt.Actors.Logging;
using Xunit;
using AkkaLogEvent = Akka.Event.LogEvent;
using LogEvent = Serilog.Events.LogEvent;

namespace VhsaKmt.Daemon.Tests.Logging;

public sealed class SerilogLoggerTests : Akka.TestKit.Xunit2.TestKit
{
    private const string Source = "akka://vhsakmt/user/vhsakmt/device-0/ctx-7";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    private readonly CollectingSink _sink = new();
    private readonly IActorRef _bridge;

    public SerilogLoggerTests() : base("akka.loglevel = DEBUG")
    {
        var serilog = new LoggerConfiguration().MinimumLevel.Information().WriteTo.Sink(_sink).CreateLogger();
        // A TestActorRef is created and run synchronously on the calling thread.
        _bridge = ActorOfAsTestActorRef<SerilogLogger>(Props.Create(() => new SerilogLogger(serilog)));
    }

    /// <summary>Logs through a real Akka logging adapter, catches the event Akka publishes, and hands it to the bridge.</summary>
    private void LogThroughAkka(Action<ILoggingAdapter> log)
    {
        var probe = CreateTestProbe();
        Sys.EventStream.Subscribe(probe.Ref, typeof(AkkaLogEvent));
        log(Akka.Event.Logging.GetLogger(Sys.EventStream, Source));
        var published = probe.ExpectMsg<AkkaLogEvent>(e => e.LogSource == Source, Timeout);
        Sys.EventStream.Unsubscribe(probe.Ref);
        _bridge.Tell(published);
    }

    private LogEvent Single() => Assert.Single(_sink.Events);

    private static object? Scalar(LogEvent e, string name) => Assert.IsType<ScalarValue>(e.Properties[name]).Value;

    [Fact]
    public void AnswersInitializeLogger()
    {
        _bridge.Tell(new InitializeLogger(Sys.EventStream), TestActor);
        ExpectMsg<LoggerInitialized>(Timeout);
    }

    [Fact]
    public void TemplateAndArgumentsStayStructuredWithSourceContext()
    {
        LogThroughAkka(log => log.Info("Context {CtxId} opened for VM {VmId}", 7, "vm-3"));

        var e = Single();
        Assert.Equal(LogEventLevel.Information, e.Level);
        Assert.Equal("Context {CtxId} opened for VM {VmId}", e.MessageTemplate.Text);
        Assert.Equal(7, Scalar(e, "CtxId"));
        Assert.Equal("vm-3", Scalar(e, "VmId"));
        Assert.Equal(Source, Scalar(e, "SourceContext"));
        Assert.Equal("Context 7 opened for VM \"vm-3\"", e.RenderMessage());
    }

    [Fact]
    public void ErrorCarriesItsExceptionAndLevel()
    {
        var cause = new InvalidOperationException("queue table corrupt");
        LogThroughAkka(log => log.Error(cause, "Handler {Cmd} failed", "CREATE_QUEUE"));

        var e = Single();
        Assert.Equal(LogEventLevel.Error, e.Level);
        Assert.Same(cause, e.Exception);
        Assert.Equal("CREATE_QUEUE", Scalar(e, "Cmd"));
    }

    [Fact]
    public void WarningLevelIsKept()
    {
        LogThroughAkka(log => log.Warning("Guest {VmId} sent a short descriptor", 5));
        var e = Single();
        Assert.Equal(LogEventLevel.Warning, e.Level);
        Assert.Equal(5, Scalar(e, "VmId"));
    }

    [Fact]
    public void FreeTextMessageIsNotParsedAsATemplate()
    {
        _bridge.Tell(new Warning("src", typeof(SerilogLoggerTests), "guest sent {bogus} braces"));
        var e = Single();
        Assert.Equal(LogEventLevel.Warning, e.Level);
        Assert.Equal("guest sent {bogus} braces", e.RenderMessage());
        Assert.Equal("src", Scalar(e, "SourceContext"));
    }

    [Fact]
    public void EventsBelowSerilogsMinimumAreDropped()
    {
        LogThroughAkka(log => log.Debug("chatty {N}", 1));
        LogThroughAkka(log => log.Info("kept {N}", 2));
        var e = Single();
        Assert.Equal("kept 2", e.RenderMessage());
    }

    [Fact]
    public async Task ConfiguredAsAkkaLoggerItReceivesTheSystemsLogEvents()
    {
        var previous = Serilog.Log.Logger;
        var sink = new CollectingSink();
        Serilog.Log.Logger = new LoggerConfiguration().MinimumLevel.Debug().WriteTo.Sink(sink).CreateLogger();
        var config = ConfigurationFactory.ParseString("""
            akka.loglevel = INFO
            akka.stdout-loglevel = OFF
            akka.loggers = ["VhsaKmt.Actors.Logging.SerilogLogger, VhsaKmt.Actors"]
            """);
        var system = ActorSystem.Create("bridge-e2e", config);
        try
        {
            system.Log.Info("Device {VmId} connected", 42);
            await AwaitConditionAsync(() => Task.FromResult(sink.Events.Any(e => e.MessageTemplate.Text == "Device {VmId} connected")), Timeout);
            var e = sink.Events.First(e => e.MessageTemplate.Text == "Device {VmId} connected");
            Assert.Equal(42, Scalar(e, "VmId"));
            Assert.Equal(LogEventLevel.Information, e.Level);
        }
        finally
        {
            await system.Terminate().WaitAsync(Timeout);
            Serilog.Log.Logger = previous;
        }
    }
}
