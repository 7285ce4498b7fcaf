using VhsaKmt.Bench.Floors;

namespace VhsaKmt.Bench;

/// <summary>
/// vhsakmt-bench: `run` (default) measures everything and writes RESULTS.md and results.png; the other
/// modes are the child processes the run starts (floors, the daemon host, the client).
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        string mode = args.Length > 0 ? args[0] : "run";
        int I(int i) => int.Parse(args[i]);
        switch (mode)
        {
            case "floor-eventfd-echo": return EventFdPingPong.Echo(I(1), I(2));
            case "floor-eventfd-ping": return EventFdPingPong.Ping(I(1), I(2), I(3), I(4), args[5]);
            case "floor-spin-echo": return SpinPingPong.Echo(I(1), I(2));
            case "floor-spin-ping": return SpinPingPong.Ping(I(1), I(2), I(3), args[4]);
            case "daemon": return Daemon.BenchDaemonHost.Run(args[1], args[2] == "polling", I(3));
            case "client":
                var options = Workloads.ClientOptions.Parse(args.Skip(1));
                return options.Workload switch
                {
                    "loop" => new Workloads.LoopWorkload(options).Run(),
                    "real" => new Workloads.RealCommandsWorkload(options).Run(),
                    _ => throw new ArgumentException($"unknown workload '{options.Workload}'"),
                };
            default:
                foreach (var regime in Processes.Regime.Available())
                {
                    var e = EventFdPingPong.Run(regime, 20000, TimeSpan.FromSeconds(10));
                    Console.WriteLine($"{e.Kind} {e.Regime} p50 {e.Latency.P50:0.00} p99 {e.Latency.P99:0.00} p999 {e.Latency.P999:0.00} n {e.Latency.Count}");
                    var s = SpinPingPong.Run(regime, 20000, TimeSpan.FromSeconds(10));
                    Console.WriteLine($"{s.Kind} {s.Regime} p50 {s.Latency.P50:0.00} p99 {s.Latency.P99:0.00} p999 {s.Latency.P999:0.00} n {s.Latency.Count}");
                }
                return 0;
        }
    }
}
