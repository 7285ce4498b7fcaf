using Akka.Actor;
using VhsaKmt.Actors.Supervisor;
using VhsaKmt.Native;

namespace VhsaKmt.Actors.Hosting;

/// <summary>
/// Starts the VhsaKmt service inside an actor system: selects the KFD backend, creates the BackendSupervisor at
/// /user/vhsakmt, waits until it listens, and registers a CoordinatedShutdown task (service-unbind) that stops the
/// listener, tears every device down in order and removes the socket file.
/// </summary>
public static class VhsaKmtService
{
    public const string SupervisorName = "vhsakmt";

    /// <summary>Longest wait for the supervisor to bind and answer (KFD open included).</summary>
    public static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);

    public static async Task<ServiceStarted> StartAsync(ActorSystem system, ServiceOptions options, CancellationToken ct)
    {
        if ((options.SocketPath is null) == (options.ListenFd is null))
            throw new ArgumentException("exactly one of SocketPath and ListenFd must be set", nameof(options));
        ct.ThrowIfCancellationRequested();

        var settings = ServiceSettings.From(options);
        var backend = KfdBackendSelector.Select(settings.Backend, settings.Kfd);
        if (!backend.Usable)
            throw new InvalidOperationException($"KFD backend '{backend.Name}' cannot run: {backend.Reason}");

        var supervisor = system.ActorOf(
            BackendSupervisor.Props(settings, backend, new ListenEndpoint(options.SocketPath, options.ListenFd)), SupervisorName);
        ServiceInfo info;
        try
        {
            info = await supervisor.Ask<ServiceInfo>(GetServiceInfo.Instance, StartTimeout, ct);
        }
        catch (Exception)
        {
            // Failed or cancelled start: its PostStop closes the listener (socket file) and the KFD.
            await supervisor.GracefulStop(TimeSpan.FromSeconds(10));
            throw;
        }

        CoordinatedShutdown.Get(system).AddTask(CoordinatedShutdown.PhaseServiceUnbind, "vhsakmt-stop-service", async () =>
        {
            await StopAsync(supervisor, TimeSpan.FromSeconds(10));
            return Akka.Done.Instance;
        });
        return new ServiceStarted(supervisor, info.Listening, info.BackendName, info.BackendReason, info.GpuNodes);
    }

    /// <summary>Close the listener and every connection and wait for the devices' teardown (bounded by <paramref name="timeout"/>).</summary>
    public static async Task StopAsync(IActorRef supervisor, TimeSpan timeout)
    {
        try
        {
            await supervisor.Ask<ServiceStopped>(StopService.Instance, timeout);
        }
        catch (AskTimeoutException)
        {
            // The phase moves on; the supervisor's PostStop still closes the listener and the KFD.
        }
    }
}
