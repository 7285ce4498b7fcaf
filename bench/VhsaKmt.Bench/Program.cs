using VhsaKmt.Bench.Floors;

namespace VhsaKmt.Bench;

/// <summary>
/// vhsakmt-bench: `run` (default) measures everything and writes RESULTS.md and results.png; the other
/// modes are the child processes the run starts (floors, the daemon host, the client).
/// </summary>
public static class Program
{
    /// <summary>`run [--smoke] [--out DIR]`: default output is the repository's bench/ directory.</summary>
    private static int Run(string[] args)
    {
        bool smoke = args.Contains("--smoke");
        int outAt = Array.IndexOf(args, "--out");
        string repo = Suite.BenchRunner.FindRepository(Environment.CurrentDirectory);
        string outDir = outAt >= 0 && outAt + 1 < args.Length ? Path.GetFullPath(args[outAt + 1]) : Path.Combine(repo, "bench");
        var options = smoke ? Suite.SuiteOptions.SmokeRun(outDir) : Suite.SuiteOptions.FullRun(outDir);
        Suite.BenchRunner.Run(options, repo, "bench/run.sh" + (smoke ? " --smoke" : ""), Console.Out);
        Console.Out.WriteLine($"wrote {Path.Combine(outDir, "RESULTS.md")} and results.png");
        return 0;
    }

    public static int Main(string[] args)
    {
        string mode = args.Length > 0 ? args[0] : "run";
        if (mode.StartsWith("--", StringComparison.Ordinal)) { args = ["run", .. args]; mode = "run"; }
        int I(int i) => int.Parse(args[i]);
        switch (mode)
        {
            case "floor-eventfd-echo": return EventFdPingPong.Echo(I(1), I(2));
            case "floor-eventfd-ping": return EventFdPingPong.Ping(I(1), I(2), I(3), I(4), args[5]);
            case "floor-spin-echo": return SpinPingPong.Echo(I(1), I(2));
            case "floor-spin-ping": return SpinPingPong.Ping(I(1), I(2), I(3), args[4]);
            case "daemon": return Daemon.BenchDaemonHost.Run(args[1], args[2] == "polling", I(3), args.Length > 4 ? args[4] : null);
            case "client":
                var options = Workloads.ClientOptions.Parse(args.Skip(1));
                return options.Workload switch
                {
                    "loop" => new Workloads.LoopWorkload(options).Run(),
                    "real" => new Workloads.RealCommandsWorkload(options).Run(),
                    _ => throw new ArgumentException($"unknown workload '{options.Workload}'"),
                };
            case "run": return Run(args.Skip(1).ToArray());
            case "render":
                string repo = Suite.BenchRunner.FindRepository(Environment.CurrentDirectory);
                Suite.BenchRunner.Render(args.Length > 1 ? Path.GetFullPath(args[1]) : Path.Combine(repo, "bench"), repo, "bench/run.sh");
                return 0;
            default:
                Console.Error.WriteLine($"unknown mode '{mode}'; use: run [--smoke] [--out DIR]");
                return 2;
        }
    }
}
