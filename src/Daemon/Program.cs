namespace VhsaKmt.Daemon;

/// <summary>vhsakmtd entry point: exit 0 = done, 1 = service failure, 2 = bad usage or configuration.</summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length > 0 && args[0] is "status" or "ctl") return Cli.AdminCli.Run(args, Console.Out, Console.Error);
        var parsed = CommandLineParser.Parse(args, out var error);
        if (parsed is null)
        {
            Console.Error.WriteLine($"vhsakmtd: {error} (see --help)");
            return 2;
        }
        switch (parsed.Action)
        {
            case DaemonAction.Help:
                Console.Out.WriteLine(Usage.Help);
                return 0;
            case DaemonAction.Version:
                Console.Out.WriteLine($"vhsakmtd {Usage.Version}");
                return 0;
            case DaemonAction.PrintCapabilities:
                Console.Out.WriteLine(Capabilities.Json());
                return 0;
            default:
                return DaemonHost.RunAsync(parsed, Console.Out, Console.Error).GetAwaiter().GetResult();
        }
    }
}
