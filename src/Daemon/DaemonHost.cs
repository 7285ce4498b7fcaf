using Akka.Actor;
using Serilog;
using VhsaKmt.Actors.Hosting;

namespace VhsaKmt.Daemon;

/// <summary>
/// Runs the daemon for <see cref="DaemonAction.Run"/>: configuration, logging, the actor system,
/// the service, then waits until CoordinatedShutdown (signal or service failure) has finished.
/// </summary>
public static class DaemonHost
{
    /// <summary>How long a shutdown may take before the process gives up and exits 1.</summary>
    private static readonly TimeSpan ShutdownLimit = TimeSpan.FromSeconds(30);

    /// <summary>CoordinatedShutdown ran because the service could not start or stopped by itself.</summary>
    private sealed class ServiceFailedReason : CoordinatedShutdown.Reason
    {
        public static readonly ServiceFailedReason Instance = new();
        public override int ExitCode => 1;
        public override string ToString() => "service failed";
    }

    public static async Task<int> RunAsync(DaemonArguments args, TextWriter stdout, TextWriter stderr)
    {
        DaemonConfiguration config;
        try
        {
            config = DaemonConfiguration.Load(args, EmbeddedDefaults.Config());
        }
        catch (ConfigurationInvalidException e)
        {
            await stderr.WriteLineAsync($"vhsakmtd: {e.Message}");
            return 2;
        }

        var logger = DaemonLogging.Create(config.LogLevel, config.LogFormat, DaemonLogging.UnderJournal());
        Log.Logger = logger;
        try
        {
            if (config.UnknownKeys.Count > 0)
                logger.Warning("Ignoring {Count} unknown configuration key(s) not in the built-in HOCON.conf: {UnknownKeys}",
                    config.UnknownKeys.Count, config.UnknownKeys);
            return await RunSystemAsync(args, config, logger, stdout);
        }
        finally
        {
            await Log.CloseAndFlushAsync();
        }
    }

    private static async Task<int> RunSystemAsync(DaemonArguments args, DaemonConfiguration config, ILogger log, TextWriter stdout)
    {
        using var systemd = SystemdNotifier.FromEnvironment(log);
        var system = ActorSystem.Create("vhsakmt", config.Config);
        var shutdown = CoordinatedShutdown.Get(system);
        using var startup = new CancellationTokenSource();
        shutdown.AddTask(CoordinatedShutdown.PhaseBeforeServiceUnbind, "daemon-stopping", () =>
        {
            systemd?.Notify("STOPPING=1");
            // A signal during start-up must abort the start, not wait for it.
            startup.Cancel();
            StartShutdownWatchdog(system, log);
            return Task.FromResult(Akka.Done.Instance);
        });
        using var signals = new SignalShutdown(system, log);

        var options = new ServiceOptions(args.SocketPath, args.ListenFd, config.Backend, config.Config);
        // For the hypervisor flags in the start-up line: with --fd, the path the inherited socket is bound to.
        var socketPath = args.SocketPath ?? (args.ListenFd is { } fd ? InheritedSocketPath.Find(fd) : null);
        ServiceStarted started;
        try
        {
            started = await VhsaKmtService.StartAsync(system, options, startup.Token);
        }
        catch (OperationCanceledException) when (startup.IsCancellationRequested)
        {
            log.Information("Start-up cancelled by shutdown");
            return await WaitForTerminationAsync(system, log);
        }
        catch (Exception e)
        {
            // The top of the process: whatever stopped the service from starting is reported, then we exit 1.
            log.Fatal(e, "Service failed to start: {Reason}", e.Message);
            await shutdown.Run(ServiceFailedReason.Instance);
            await WaitForTerminationAsync(system, log);
            return 1;
        }

        log.Information("Backend {Backend} chosen: {BackendReason}; GPU nodes {GpuNodes}; listening on {Listening}",
            started.BackendName, started.BackendReason, started.GpuNodes, started.Listening);
        VhsaKmt.Actors.Admin.OperationsHost.Start(system, config.Config, started, socketPath, log); // admin socket + metrics (operations)
        await stdout.WriteLineAsync(StartupLine.Format(started, socketPath));
        await stdout.FlushAsync();
        systemd?.Notify($"READY=1\nSTATUS=listening on {started.Listening}, backend {started.BackendName}");

        // If the service's top actor stops on its own, the daemon has nothing left to serve.
        _ = started.Supervisor.WatchAsync().ContinueWith(_ =>
        {
            if (shutdown.ShutdownReason is null)
            {
                log.Error("Service supervisor {Supervisor} stopped; shutting down", started.Supervisor.Path);
                _ = shutdown.Run(ServiceFailedReason.Instance);
            }
        }, TaskScheduler.Default);

        return await WaitForTerminationAsync(system, log);
    }

    /// <summary>Every CoordinatedShutdown phase has its own timeout; this bounds the whole, so a wedged
    /// teardown cannot keep a stopping daemon (and its socket) around forever.</summary>
    private static void StartShutdownWatchdog(ActorSystem system, ILogger log)
        => _ = Task.Delay(ShutdownLimit).ContinueWith(_ =>
        {
            if (system.WhenTerminated.IsCompleted)
                return;
            log.Fatal("Shutdown did not finish within {Limit}; exiting", ShutdownLimit);
            Log.CloseAndFlush();
            Environment.Exit(1);
        }, TaskScheduler.Default);

    private static async Task<int> WaitForTerminationAsync(ActorSystem system, ILogger log)
    {
        await system.WhenTerminated;
        var reason = CoordinatedShutdown.Get(system).ShutdownReason;
        log.Information("Stopped ({Reason})", reason?.ToString() ?? "actor system terminated");
        // A signal ends with 0; a failure, or a termination nobody asked for, with non-zero.
        return reason is null ? 1 : reason.ExitCode;
    }
}
