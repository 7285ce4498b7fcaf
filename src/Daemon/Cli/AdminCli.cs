using System.Globalization;
using System.Net.Sockets;
using VhsaKmt.Actors.Admin;

namespace VhsaKmt.Daemon.Cli;

/// <summary>
/// Client subcommands that talk to a running daemon's admin socket:
/// <c>vhsakmtd status [--json] [--watch] [--admin-socket PATH | --socket-path PATH]</c> and
/// <c>vhsakmtd ctl kill-context VM CTX [--admin-socket PATH | --socket-path PATH]</c>.
/// Exit 0 = answered, 1 = the daemon is unreachable or refused, 2 = bad usage.
/// </summary>
public static class AdminCli
{
    /// <summary>Where the packaged service listens (packaging/vhsakmtd.socket) plus the admin suffix.</summary>
    public const string DefaultAdminSocket = "/run/vhsakmt/vhsakmt.sock" + AdminSettings.Suffix;

    public const string Help = """
        Usage: vhsakmtd status [--json] [--watch] [--admin-socket PATH | --socket-path PATH]
               vhsakmtd ctl kill-context VM CTX [--admin-socket PATH | --socket-path PATH]
          --json                print the daemon's JSON answer instead of a table
          --watch               refresh every second until Ctrl-C
          --admin-socket PATH   the daemon's admin socket (default /run/vhsakmt/vhsakmt.sock.admin)
          --socket-path PATH    the daemon's main socket; the admin socket is PATH.admin
        """;

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken ct = default)
    {
        bool json = false, watch = false;
        string? admin = null;
        var positional = new List<string>();
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--json": json = true; break;
                case "--watch": watch = true; break;
                case "--help" or "-h": stdout.WriteLine(Help); return 0;
                case "--admin-socket" or "--socket-path":
                    if (admin is not null) return Usage(stderr, "give one of --admin-socket / --socket-path");
                    if (i + 1 >= args.Length || args[i + 1].StartsWith("--", StringComparison.Ordinal)) return Usage(stderr, $"{args[i]} needs a path");
                    admin = args[i] == "--admin-socket" ? args[++i] : args[++i] + AdminSettings.Suffix;
                    break;
                default:
                    if (args[i].StartsWith("--", StringComparison.Ordinal)) return Usage(stderr, $"unknown option {args[i]}");
                    positional.Add(args[i]);
                    break;
            }
        }
        admin ??= DefaultAdminSocket;

        try
        {
            if (positional is ["status"]) return watch ? Watch(admin, json, stdout, ct) : Status(admin, json, stdout, stderr);
            if (positional is ["ctl", "kill-context", var vm, var ctxText])
            {
                if (json || watch) return Usage(stderr, "kill-context takes no --json/--watch");
                if (!uint.TryParse(ctxText, NumberStyles.None, CultureInfo.InvariantCulture, out var ctx) || ctx == 0)
                    return Usage(stderr, $"CTX '{ctxText}' is not a context id (1..4294967295)");
                return KillContext(admin, vm, ctx, stdout, stderr);
            }
            return Usage(stderr, positional.Count > 0 && positional[0] == "ctl" ? "usage: ctl kill-context VM CTX" : $"unexpected arguments: {string.Join(' ', positional)}");
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException or System.Text.Json.JsonException)
        {
            stderr.WriteLine($"vhsakmtd: cannot talk to the daemon at {admin}: {e.Message}");
            return 1;
        }
    }

    private static int Usage(TextWriter stderr, string error)
    {
        stderr.WriteLine($"vhsakmtd: {error}");
        stderr.WriteLine(Help);
        return 2;
    }

    private static int Status(string admin, bool json, TextWriter stdout, TextWriter stderr)
    {
        using var client = AdminClient.Connect(admin, Timeout);
        var (line, r) = client.Send(new { cmd = "status" });
        if (!r.Ok || r.Status is null)
        {
            stderr.WriteLine($"vhsakmtd: status refused: {r.Error}");
            return 1;
        }
        stdout.Write(json ? line + "\n" : StatusTable.Format(r.Status));
        return 0;
    }

    /// <summary>Redraw every second over one connection until Ctrl-C (or <paramref name="ct"/>).</summary>
    private static int Watch(string admin, bool json, TextWriter stdout, CancellationToken ct)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        ConsoleCancelEventHandler onCancel = (_, e) => { e.Cancel = true; stop.Cancel(); };
        Console.CancelKeyPress += onCancel;
        try
        {
            using var client = AdminClient.Connect(admin, Timeout);
            while (!stop.IsCancellationRequested)
            {
                var (line, r) = client.Send(new { cmd = "status" });
                var body = !r.Ok || r.Status is null ? $"status refused: {r.Error}\n" : json ? line + "\n" : StatusTable.Format(r.Status);
                // Home + clear screen: the table redraws in place.
                stdout.Write("\u001b[H\u001b[2J" + DateTime.Now.ToString("HH:mm:ss", CultureInfo.InvariantCulture) + "  (Ctrl-C to quit)\n" + body);
                stdout.Flush();
                stop.Token.WaitHandle.WaitOne(TimeSpan.FromSeconds(1));
            }
            return 0;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }

    private static int KillContext(string admin, string vm, uint ctx, TextWriter stdout, TextWriter stderr)
    {
        using var client = AdminClient.Connect(admin, Timeout);
        var (_, r) = client.Send(new { cmd = "kill-context", vm, ctx });
        if (!r.Ok)
        {
            stderr.WriteLine($"vhsakmtd: kill-context refused: {r.Error}");
            return 1;
        }
        stdout.WriteLine(r.Kill?.Message ?? "done");
        return 0;
    }
}
