using Akka.Actor;
using Akka.Configuration;
using Serilog;
using VhsaKmt.Actors.Hosting;
using VhsaKmt.Actors.Metrics;

namespace VhsaKmt.Actors.Admin;

/// <summary>
/// Starts the operations side of a running service: the admin socket (<c>vhsakmt.admin</c>) and the Prometheus
/// endpoint (<c>vhsakmt.metrics</c>). Both stop in CoordinatedShutdown's before-service-unbind phase (or on Dispose).
/// Neither failing to start stops the service: it runs without them and says so.
/// </summary>
public sealed class OperationsHost : IDisposable
{
    private OperationsHost(AdminServer? admin, PrometheusEndpoint? metrics)
    {
        Admin = admin;
        Metrics = metrics;
    }

    public AdminServer? Admin { get; }
    public PrometheusEndpoint? Metrics { get; }

    public static OperationsHost Start(ActorSystem system, Config config, ServiceStarted started, string? mainSocketPath, ILogger log)
    {
        var metrics = PrometheusEndpoint.Start(MetricsSettings.From(config), log);
        var adminSettings = AdminSettings.From(config);
        AdminServer? admin = null;
        var path = adminSettings.ResolvePath(mainSocketPath);
        if (!adminSettings.Enabled) log.Information("admin socket disabled (vhsakmt.admin.enabled = off)");
        else if (path is null) log.Warning("admin socket off: listening on an inherited fd with no known path; set vhsakmt.admin.socket-path");
        else
        {
            try
            {
                admin = AdminServer.Start(path, new AdminQueries(system, started.Supervisor, adminSettings.AskTimeout), log);
            }
            catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or UnauthorizedAccessException)
            {
                log.Warning(e, "admin socket off: cannot listen on {AdminSocket}", path);
            }
        }
        var host = new OperationsHost(admin, metrics);
        CoordinatedShutdown.Get(system).AddTask(CoordinatedShutdown.PhaseBeforeServiceUnbind, "vhsakmt-operations-stop", () =>
        {
            host.Dispose();
            return Task.FromResult(Akka.Done.Instance);
        });
        return host;
    }

    public void Dispose()
    {
        Admin?.Dispose();
        Metrics?.Dispose();
    }
}
