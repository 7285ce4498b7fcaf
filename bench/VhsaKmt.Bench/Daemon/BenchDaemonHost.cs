using System.Diagnostics;
using Akka.Actor;
using Akka.Configuration;
using Serilog;
using VhsaKmt.Actors.Hosting;
using VhsaKmt.Daemon;

namespace VhsaKmt.Bench.Daemon;

/// <summary>
/// Child mode "daemon": hosts the service exactly as vhsakmtd does (embedded HOCON.conf, Serilog, actor
/// system, VhsaKmtService.StartAsync, simulated KFD) in its own process, plus a line protocol on stdin so
/// the bench can read in-process figures between phases: "alloc" (managed bytes allocated so far, precise),
/// "rss", "quit". EOF on stdin (the bench went away) also stops it.
/// </summary>
public static class BenchDaemonHost
{
    /// <summary>Overrides layered over HOCON.conf for a run: quiet logs, simulated KFD, room for 256 contexts per VM.</summary>
    public static Config BenchConfig(bool polling, int spinMicroseconds) => ConfigurationFactory.ParseString($$"""
        vhsakmt {
          backend = simulated
          log.level = warning
          transport.polling { enabled = {{(polling ? "on" : "off")}}, spin-microseconds = {{spinMicroseconds}} }
          device.max-contexts-per-vm = 256
        }
        akka.loglevel = WARNING
        """).WithFallback(EmbeddedDefaults.Config());

    public static int Run(string socketPath, bool polling, int spinMicroseconds, string? extraConfigFile)
    {
        long t0 = Stopwatch.GetTimestamp();
        DaemonLogLevel.TryParse("warning", out var level);
        Log.Logger = DaemonLogging.Create(level, LogFormat.Text, journal: false);
        var config = BenchConfig(polling, spinMicroseconds);
        // An experiment's overrides (e.g. another dispatcher) win over everything else.
        if (extraConfigFile is not null) config = ConfigurationFactory.ParseString(File.ReadAllText(extraConfigFile)).WithFallback(config);
        var system = ActorSystem.Create("vhsakmt", config);
        try
        {
            var started = VhsaKmtService.StartAsync(system, new ServiceOptions(socketPath, null, BackendKind.Simulated, config), CancellationToken.None)
                .GetAwaiter().GetResult();
            Console.Out.WriteLine($"READY {started.Listening} {Stopwatch.GetElapsedTime(t0).TotalMilliseconds:0.0}");
            Console.Out.Flush();
            Serve();
            return 0;
        }
        finally
        {
            CoordinatedShutdown.Get(system).Run(CoordinatedShutdown.ClrExitReason.Instance).Wait(TimeSpan.FromSeconds(15));
            system.WhenTerminated.Wait(TimeSpan.FromSeconds(15));
            Log.CloseAndFlush();
        }
    }

    private static void Serve()
    {
        using var sampler = new AllocationSampler();
        while (Console.In.ReadLine() is { } line)
        {
            switch (line.Trim())
            {
                case "alloc":
                    Console.Out.WriteLine($"ALLOC {GC.GetTotalAllocatedBytes(precise: true)} {GC.CollectionCount(0)} {GC.CollectionCount(1)} {GC.CollectionCount(2)}");
                    break;
                case "rss":
                    // Settle the heap first so the figure is what stays resident, not garbage waiting for a GC.
                    GC.Collect();
                    GC.WaitForPendingFinalizers();
                    Console.Out.WriteLine($"RSS {Environment.WorkingSet}");
                    break;
                case "sample-start":
                    sampler.Start();
                    Console.Out.WriteLine("SAMPLING");
                    break;
                case "sample-stop":
                    // Sampled bytes per type: the types a steady-state operation allocates, not exact amounts.
                    Console.Out.WriteLine("SAMPLES " + string.Join(";", sampler.Stop(12).Select(t => $"{t.Type}={t.Bytes}")));
                    break;
                case "quit":
                    return;
                default:
                    Console.Out.WriteLine($"ERR unknown command '{line}'");
                    break;
            }
            Console.Out.Flush();
        }
    }
}
