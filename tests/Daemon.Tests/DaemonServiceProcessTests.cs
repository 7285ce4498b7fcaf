using System.Globalization;
using System.Net.Sockets;
using System.Text.Json;
using Xunit;

namespace VhsaKmt.Daemon.Tests;

/// <summary>The built vhsakmtd run as a real child process, with the real service behind it.</summary>
public sealed class DaemonServiceProcessTests : IDisposable
{
    private static readonly TimeSpan Wait = DaemonProcess.DefaultTimeout;
    private readonly string _dir = Directory.CreateTempSubdirectory("vhsakmtd-svc-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [ServiceFact]
    public void SocketThatCannotBeBoundExitsOneAndSaysWhy()
    {
        var socket = Path.Combine(_dir, "no-such-dir", "vhsakmt.sock");
        using var daemon = DaemonProcess.Start(["--socket-path", socket, "--backend", "simulated"]);
        Assert.Equal(1, daemon.WaitForExit(Wait));
        Assert.Empty(daemon.StdoutLines);
        Assert.Contains(daemon.StderrLines, l => l.Contains("FTL vhsakmtd: Service failed to start") && l.Contains("bind"));
    }

    [ServiceFact]
    public void ForcedHsakmtBackendWithoutAKfdExitsOne()
    {
        if (File.Exists("/dev/kfd"))
            return; // a real GPU host: the forced backend is usable here, nothing to refuse
        using var daemon = DaemonProcess.Start(["--socket-path", Path.Combine(_dir, "s.sock"), "--backend", "hsakmt"]);
        Assert.Equal(1, daemon.WaitForExit(Wait));
        Assert.Contains(daemon.StderrLines, l => l.Contains("Service failed to start") && l.Contains("/dev/kfd"));
        Assert.False(File.Exists(Path.Combine(_dir, "s.sock")));
    }

    [ServiceTheory]
    [InlineData(DaemonProcess.SIGTERM)]
    [InlineData(DaemonProcess.SIGINT)]
    public void ServesOnTheSocketAndShutsDownCleanlyOnSignal(int signal)
    {
        var socket = Path.Combine(_dir, "vhsakmt.sock");
        using var daemon = DaemonProcess.Start(["--socket-path", socket, "--backend", "simulated"]);

        var banner = daemon.WaitForStdout(l => l.StartsWith("vhsakmtd listening on", StringComparison.Ordinal), Wait);
        Assert.True(banner is not null, "no start-up line; stderr:\n" + string.Join('\n', daemon.StderrLines));
        Assert.Contains("backend simulated", banner);
        Assert.Contains($"path={socket}", banner);
        Assert.True(File.Exists(socket), "socket file not created");

        daemon.Signal(signal);
        Assert.Equal(0, daemon.WaitForExit(Wait));
        // Stderr is complete only once the process has exited (it is read on its own thread).
        Assert.Contains(daemon.StderrLines, l => l.Contains("Backend") && l.Contains("simulated"));
        Assert.False(File.Exists(socket), "socket file left behind");
    }

    [ServiceFact]
    public void StatsFlagLogsTheResourceLinePeriodically()
    {
        var conf = Path.Combine(_dir, "stats.conf");
        File.WriteAllText(conf, "vhsakmt.diagnostics.stats-interval = 200ms\n");
        using var daemon = DaemonProcess.Start(
            ["--socket-path", Path.Combine(_dir, "stats.sock"), "--backend", "simulated", "--config", conf, "--stats"]);
        Assert.NotNull(daemon.WaitForStdout(l => l.StartsWith("vhsakmtd listening on", StringComparison.Ordinal), Wait));
        var first = daemon.WaitForStderr(l => l.Contains("stats fds "), Wait);
        var second = daemon.WaitForStderr(l => l.Contains("stats fds "), Wait);
        daemon.Signal(DaemonProcess.SIGTERM);
        Assert.Equal(0, daemon.WaitForExit(Wait));
        Assert.True(first is not null && second is not null, "expected periodic stats lines; stderr:\n" + string.Join('\n', daemon.StderrLines));
        var lines = new[] { first!, second! };
        Assert.Contains("kfd-alloc 0", lines[0]);
        Assert.Contains(" actors ", lines[0]);
    }

    [ServiceFact]
    public void LogLevelWarningHidesEveryInformationEvent()
    {
        using var daemon = DaemonProcess.Start(
            ["--socket-path", Path.Combine(_dir, "quiet.sock"), "--backend", "simulated", "--log-level", "warning", "--log-format", "json"]);
        Assert.NotNull(daemon.WaitForStdout(l => l.StartsWith("vhsakmtd listening on", StringComparison.Ordinal), Wait));
        daemon.Signal(DaemonProcess.SIGTERM);
        Assert.Equal(0, daemon.WaitForExit(Wait));

        // Start-up, backend choice, CoordinatedShutdown and "Stopped" are all Information: none may show.
        foreach (var line in daemon.StderrLines)
        {
            using var doc = JsonDocument.Parse(line);
            var level = doc.RootElement.TryGetProperty("@l", out var l) ? l.GetString() : "Information";
            Assert.True(level is "Warning" or "Error" or "Fatal", $"{level} event at --log-level warning: {line}");
        }
    }

    [ServiceFact]
    public void UnderSystemdItNotifiesReadyThenStopping()
    {
        var notify = Path.Combine(_dir, "notify");
        using var systemd = SystemdNotifierTests.Listen(notify);
        using var daemon = DaemonProcess.Start(
            ["--socket-path", Path.Combine(_dir, "vhsakmt.sock"), "--backend", "simulated"],
            new Dictionary<string, string?> { [SystemdNotifier.EnvironmentVariable] = notify, ["JOURNAL_STREAM"] = "8:1234" });

        var ready = SystemdNotifierTests.Receive(systemd);
        Assert.StartsWith("READY=1\nSTATUS=listening on ", ready);
        // Journal mode: no timestamps, lines start with the sd-daemon priority. Stderr is read asynchronously, so
        // wait for the line rather than look at what has been read so far (READY=1 can arrive first).
        Assert.NotNull(daemon.WaitForStderr(l => l.StartsWith("<6>", StringComparison.Ordinal), Wait));

        daemon.Signal(DaemonProcess.SIGTERM);
        Assert.Equal("STOPPING=1", SystemdNotifierTests.Receive(systemd));
        Assert.Equal(0, daemon.WaitForExit(Wait));
    }

    [ServiceFact]
    public void ServesAnInheritedListeningSocketGivenAsFd()
    {
        var path = Path.Combine(_dir, "activated.sock");
        // What systemd socket activation does: bind and listen here, hand the fd to the child.
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen();
        var fd = (int)listener.SafeHandle.DangerousGetHandle();
        InheritableFd.Allow(fd);

        using var daemon = DaemonProcess.Start(["--fd", fd.ToString(CultureInfo.InvariantCulture), "--backend", "simulated"]);
        var banner = daemon.WaitForStdout(l => l.StartsWith("vhsakmtd listening on", StringComparison.Ordinal), Wait);
        Assert.True(banner is not null, "no start-up line; stderr:\n" + string.Join('\n', daemon.StderrLines));
        // The hypervisor flags name the path the inherited socket is bound to.
        Assert.Contains($"-chardev socket,id=vgpu,path={path} ", banner);

        // Our copy of the listener stays open (closing a bound .NET socket unlinks its path) but never
        // accepts: an answer to VHOST_USER_GET_FEATURES can only come from the daemon.
        using var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified) { ReceiveTimeout = 30_000 };
        client.Connect(new UnixDomainSocketEndPoint(path));
        client.Send([1, 0, 0, 0, /* flags: version 1 */ 1, 0, 0, 0, /* size */ 0, 0, 0, 0]);
        var reply = new byte[20];
        for (var got = 0; got < reply.Length;)
        {
            var n = client.Receive(reply, got, reply.Length - got, SocketFlags.None);
            Assert.True(n > 0, "daemon closed the connection");
            got += n;
        }
        Assert.Equal(1u, BitConverter.ToUInt32(reply, 0));      // request GET_FEATURES
        Assert.Equal(0x5u, BitConverter.ToUInt32(reply, 4));    // version 1 | reply
        Assert.Equal(8u, BitConverter.ToUInt32(reply, 8));      // one u64 payload

        daemon.Signal(DaemonProcess.SIGTERM);
        Assert.Equal(0, daemon.WaitForExit(Wait));
    }
}
