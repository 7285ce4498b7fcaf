using Akka.Configuration;
using VhsaKmt.Actors.Context;
using VhsaKmt.Actors.Device;
using VhsaKmt.Actors.Hosting;
using VhsaKmt.Native;
using VhsaKmt.Transport.VhostUser;

namespace VhsaKmt.Actors.Supervisor;

/// <summary>Everything the BackendSupervisor reads from the merged configuration (sections under <c>vhsakmt</c>).</summary>
public sealed record ServiceSettings(
    string Backend,
    DeviceSettings Device,
    ContextSettings Context,
    KfdOptions Kfd,
    VhostUserOptions Transport,
    string? ContextDispatcher)
{
    public const string ContextDispatcherId = "akka.actor.vhsakmt-context-dispatcher";

    /// <summary>Period of the resource stats line (<c>vhsakmt.diagnostics</c>, <c>--stats</c>); zero = off.</summary>
    public TimeSpan StatsInterval { get; init; }

    public static ServiceSettings From(ServiceOptions options)
    {
        var root = options.Config;
        var backend = options.Backend switch
        {
            BackendKind.HsaKmt => "hsakmt",
            BackendKind.Simulated => "simulated",
            _ => root.HasPath("vhsakmt.backend") ? root.GetString("vhsakmt.backend") : "auto",
        };
        return new ServiceSettings(
            backend,
            DeviceSettings.FromConfig(Section(root, "vhsakmt.device")),
            ContextSettings.FromConfig(Section(root, "vhsakmt.context")),
            KfdOptionsReader.Read(key => root.HasPath("vhsakmt.kfd." + key) ? root.GetString("vhsakmt.kfd." + key) : null),
            ReadTransport(Section(root, "vhsakmt.transport")),
            root.HasPath(ContextDispatcherId) ? ContextDispatcherId : null)
        {
            StatsInterval = root.GetBoolean("vhsakmt.diagnostics.stats", false)
                ? root.GetTimeSpan("vhsakmt.diagnostics.stats-interval", TimeSpan.FromSeconds(60))
                : TimeSpan.Zero,
        };
    }

    private static Config? Section(Config root, string path) => root.HasPath(path) ? root.GetConfig(path) : null;

    /// <summary>The transport section (keys documented in HOCON.conf by the transport engineer); absent keys keep defaults.</summary>
    private static VhostUserOptions ReadTransport(Config? t)
    {
        var d = VhostUserOptions.Default;
        if (t is null || t.IsEmpty) return d;
        return d with
        {
            Polling = new PollingOptions(
                t.GetBoolean("polling.enabled", d.Polling.Enabled),
                t.GetInt("polling.spin-microseconds", d.Polling.SpinMicroseconds)),
            ReceiveTimeout = t.GetTimeSpan("receive-timeout", d.ReceiveTimeout),
            VmIdPrefix = t.GetString("vm-id-prefix", d.VmIdPrefix),
        };
    }
}
