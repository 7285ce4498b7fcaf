using Akka.Actor;
using VhsaKmt.Actors.Hosting;
using VhsaKmt.Daemon;

namespace VhsaKmt.Integration.Tests.Qemu;

/// <summary>
/// vhsakmtd hosted in the test process exactly as the executable starts it (its embedded HOCON.conf,
/// an actor system, <see cref="VhsaKmtService.StartAsync"/> with the simulated KFD), listening on a
/// socket inside the chroot. In-process, so a test can read the simulated KFD's memory directly.
/// </summary>
public sealed class InProcessDaemon : IAsyncDisposable
{
    public ActorSystem System { get; }
    public ServiceStarted Started { get; }
    public string SocketPath { get; }

    private InProcessDaemon(ActorSystem system, ServiceStarted started, string socketPath)
    {
        System = system;
        Started = started;
        SocketPath = socketPath;
    }

    public static async Task<InProcessDaemon> StartAsync(string socketPath, TimeSpan timeout)
    {
        // The same layering as vhsakmtd (DaemonHost): command-line values over the embedded HOCON.conf.
        // Debug level: the tests assert on what the daemon logs about the guest's commands.
        if (!DaemonLogLevel.TryParse("debug", out var debug))
            throw new InvalidOperationException("log level 'debug' is unknown to the daemon");
        var args = new DaemonArguments(SocketPath: socketPath, Backend: BackendKind.Simulated, LogLevel: debug);
        var config = DaemonConfiguration.Load(args, EmbeddedDefaults.Config());
        var system = ActorSystem.Create("vhsakmt", config.Config);
        try
        {
            using var cts = new CancellationTokenSource(timeout);
            var started = await VhsaKmtService.StartAsync(system, new ServiceOptions(args.SocketPath, args.ListenFd, config.Backend, config.Config), cts.Token);
            return new InProcessDaemon(system, started, socketPath);
        }
        catch
        {
            await system.Terminate().WaitAsync(TimeSpan.FromSeconds(10));
            throw;
        }
    }

    /// <summary>True while the service's supervisor answers: the daemon survived whatever the guest did.</summary>
    public async Task<bool> IsAliveAsync()
    {
        if (System.WhenTerminated.IsCompleted)
            return false;
        try
        {
            var id = await Started.Supervisor.Ask<ActorIdentity>(new Identify("alive"), TimeSpan.FromSeconds(5));
            return id.Subject is not null;
        }
        catch (AskTimeoutException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await CoordinatedShutdown.Get(System).Run(CoordinatedShutdown.ActorSystemTerminateReason.Instance).WaitAsync(TimeSpan.FromSeconds(30));
        File.Delete(SocketPath);
    }
}
