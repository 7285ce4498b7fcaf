namespace VhsaKmt.Bench.Workloads;

/// <summary>How the client waits for a completion: block on the call eventfd, or spin on the used ring.</summary>
public enum WaitMode { Block, Spin }

/// <summary>
/// What one client run does (passed on the command line as key=value pairs): how many VMs and contexts, how
/// many ccmds per SUBMIT_3D and submits in flight per context, how to wait, and its bounds.
/// </summary>
public sealed record ClientOptions
{
    public string Socket { get; init; } = "";
    public string Workload { get; init; } = "loop";
    public int Vms { get; init; } = 1;
    public int Contexts { get; init; } = 1;
    public int Batch { get; init; } = 1;
    public int InFlight { get; init; } = 1;
    public WaitMode Wait { get; init; } = WaitMode.Block;
    public int Samples { get; init; } = 20_000;
    public int MeasureMs { get; init; } = 3_000;
    public int WarmupMs { get; init; } = 500;
    /// <summary>Stop at each phase line and wait for "GO" on stdin (the bench reads the daemon in between).</summary>
    public bool Sync { get; init; }
    public string Label { get; init; } = "";

    public IEnumerable<string> ToArgs() =>
    [
        "client", $"socket={Socket}", $"workload={Workload}", $"vms={Vms}", $"contexts={Contexts}", $"batch={Batch}",
        $"inflight={InFlight}", $"wait={Wait.ToString().ToLowerInvariant()}", $"samples={Samples}", $"measure-ms={MeasureMs}",
        $"warmup-ms={WarmupMs}", $"sync={(Sync ? 1 : 0)}", $"label={Label}",
    ];

    public static ClientOptions Parse(IEnumerable<string> args)
    {
        var o = new ClientOptions();
        foreach (var a in args)
        {
            int eq = a.IndexOf('=');
            if (eq <= 0) throw new ArgumentException($"expected key=value, got '{a}'");
            string k = a[..eq], v = a[(eq + 1)..];
            o = k switch
            {
                "socket" => o with { Socket = v },
                "workload" => o with { Workload = v },
                "vms" => o with { Vms = int.Parse(v) },
                "contexts" => o with { Contexts = int.Parse(v) },
                "batch" => o with { Batch = int.Parse(v) },
                "inflight" => o with { InFlight = int.Parse(v) },
                "wait" => o with { Wait = Enum.Parse<WaitMode>(v, ignoreCase: true) },
                "samples" => o with { Samples = int.Parse(v) },
                "measure-ms" => o with { MeasureMs = int.Parse(v) },
                "warmup-ms" => o with { WarmupMs = int.Parse(v) },
                "sync" => o with { Sync = v == "1" },
                "label" => o with { Label = v },
                _ => throw new ArgumentException($"unknown client option '{k}'"),
            };
        }
        return o;
    }
}
