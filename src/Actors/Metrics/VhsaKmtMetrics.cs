using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace VhsaKmt.Actors.Metrics;

/// <summary>Outcome of one ccmd or virtio-gpu command, as a metric tag value.</summary>
public enum CommandResult { Ok, GuestError, HostError }

/// <summary>
/// The "VhsaKmt" meter and its cached instruments. Record points call the static methods; every tag set is either a
/// pre-built per-context array (<see cref="ContextTags"/>) or a <see cref="TagList"/> on the stack, so recording on the
/// ccmd path allocates nothing. Live-object gauges are observed from <see cref="LiveContexts"/> at scrape time.
/// </summary>
public static class VhsaKmtMetrics
{
    public const string MeterName = "VhsaKmt";

    public static readonly Meter Meter = new(MeterName, "1.0");

    private static readonly string[] s_results = ["ok", "guest_error", "host_error"];

    /// <summary>Seconds; boundaries resolve 5–100 µs (the NOP round trip) and still cover slow KFD calls.</summary>
    public static readonly double[] LatencyBuckets =
        [0.000005, 0.00001, 0.00002, 0.00003, 0.00005, 0.000075, 0.0001, 0.00025, 0.0005, 0.001, 0.005, 0.025, 0.1, 1];

    public static readonly Counter<long> Ccmds = Meter.CreateCounter<long>("vhsakmt.ccmds", "{ccmd}", "ccmds handled, by family, subtype and result");

    public static readonly Histogram<double> CcmdLatency = Meter.CreateHistogram<double>("vhsakmt.ccmd.duration", "s",
        "ccmd handling time, by family", advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LatencyBuckets });

    public static readonly Counter<long> GpuCommands = Meter.CreateCounter<long>("vhsakmt.virtio_gpu.commands", "{command}", "virtio-gpu control commands, by type and result");
    public static readonly Counter<long> InlineSubmits = Meter.CreateCounter<long>("vhsakmt.submits.inline", "{submit}",
        "SUBMIT_3Ds run on the connection's IO thread (the others went through the DeviceActor and ContextActor)");
    public static readonly Counter<long> FencesRetired = Meter.CreateCounter<long>("vhsakmt.fences.retired", "{fence}", "fences retired");
    public static readonly Counter<long> ContextsCreated = Meter.CreateCounter<long>("vhsakmt.contexts.created", "{context}", "contexts created");
    public static readonly Counter<long> ContextsDestroyed = Meter.CreateCounter<long>("vhsakmt.contexts.destroyed", "{context}", "contexts destroyed (guest, reset, disconnect, admin)");
    public static readonly Counter<long> ContextsCrashed = Meter.CreateCounter<long>("vhsakmt.contexts.crashed", "{context}", "contexts that stopped unexpectedly");
    public static readonly Counter<long> SupervisorRestarts = Meter.CreateCounter<long>("vhsakmt.supervisor.restarts", "{restart}", "context actor restarts after a handler fault");
    public static readonly Counter<long> Connects = Meter.CreateCounter<long>("vhsakmt.hypervisor.connects", "{connection}", "hypervisor connections accepted");
    public static readonly Counter<long> Disconnects = Meter.CreateCounter<long>("vhsakmt.hypervisor.disconnects", "{connection}", "hypervisor connections closed");
    public static readonly Counter<long> ProtocolErrors = Meter.CreateCounter<long>("vhsakmt.protocol.errors", "{error}", "protocol errors, by reason");

    static VhsaKmtMetrics()
    {
        LiveContexts.RegisterGauges(Meter);
        LiveDevices.RegisterGauges(Meter);
    }

    public static string ResultTag(CommandResult r) => s_results[(int)r];

    /// <summary>One handled ccmd: count by family/subtype/result and its latency (Stopwatch ticks).</summary>
    public static void RecordCcmd(ContextTags ctx, string family, string subtype, CommandResult result, long elapsedTicks)
    {
        if (Ccmds.Enabled)
        {
            var tags = ctx.With(("family", family), ("subtype", subtype), ("result", s_results[(int)result]));
            Ccmds.Add(1, in tags);
        }
        if (CcmdLatency.Enabled)
        {
            var tags = ctx.With(("family", family));
            CcmdLatency.Record(elapsedTicks / (double)Stopwatch.Frequency, in tags);
        }
    }

    public static void RecordGpuCommand(string vm, string type, CommandResult result)
    {
        if (!GpuCommands.Enabled) return;
        var tags = new TagList { { "vm", vm }, { "type", type }, { "result", s_results[(int)result] } };
        GpuCommands.Add(1, in tags);
    }

    public static void RecordInlineSubmit(string vm)
    {
        if (InlineSubmits.Enabled) InlineSubmits.Add(1, new KeyValuePair<string, object?>("vm", vm));
    }

    public static void RecordFenceRetired(string vm)
    {
        if (FencesRetired.Enabled) FencesRetired.Add(1, new KeyValuePair<string, object?>("vm", vm));
    }

    public static void RecordContextCreated(ContextTags ctx) => ContextsCreated.Add(1, ctx.Span);
    public static void RecordContextDestroyed(ContextTags ctx) => ContextsDestroyed.Add(1, ctx.Span);
    public static void RecordContextCrashed(ContextTags ctx) => ContextsCrashed.Add(1, ctx.Span);
    public static void RecordSupervisorRestart(ContextTags ctx) => SupervisorRestarts.Add(1, ctx.Span);
    public static void RecordConnect(string vm) => Connects.Add(1, new KeyValuePair<string, object?>("vm", vm));
    public static void RecordDisconnect(string vm) => Disconnects.Add(1, new KeyValuePair<string, object?>("vm", vm));

    public static void RecordProtocolError(string vm, string reason)
    {
        var tags = new TagList { { "vm", vm }, { "reason", reason } };
        ProtocolErrors.Add(1, in tags);
    }
}
