using System.Text.Json;
using Xunit;

namespace VhsaKmt.Daemon.Tests;

/// <summary>The built vhsakmtd run as a real child process.</summary>
public sealed class DaemonProcessTests : IDisposable
{
    private static readonly TimeSpan Wait = DaemonProcess.DefaultTimeout;
    private readonly string _dir = Directory.CreateTempSubdirectory("vhsakmtd-test-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void PrintCapabilitiesIsGpuJsonOnStdout()
    {
        var (code, stdout, stderr) = DaemonProcess.Run("--print-capabilities");
        Assert.Equal(0, code);
        Assert.Empty(stderr);
        using var doc = JsonDocument.Parse(string.Join('\n', stdout));
        Assert.Equal("gpu", doc.RootElement.GetProperty("type").GetString());
        Assert.Equal(JsonValueKind.Array, doc.RootElement.GetProperty("features").ValueKind);
        // Neither vhost-user.json gpu feature applies: no virglrenderer, no --render-node.
        Assert.Equal(0, doc.RootElement.GetProperty("features").GetArrayLength());
    }

    [Fact]
    public void VersionAndHelpExitZero()
    {
        var version = DaemonProcess.Run("-V");
        Assert.Equal(0, version.ExitCode);
        Assert.StartsWith("vhsakmtd ", Assert.Single(version.Stdout));

        var help = DaemonProcess.Run("--help");
        Assert.Equal(0, help.ExitCode);
        Assert.Contains(help.Stdout, l => l.Contains("--socket-path PATH"));
        Assert.Contains(help.Stdout, l => l.Contains("--print-capabilities"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("--socket-path /tmp/a.sock --fd 3")]
    [InlineData("--frobnicate")]
    [InlineData("--socket-path /tmp/a.sock --backend cuda")]
    [InlineData("--socket-path")]
    public void BadCommandLineExitsTwoWithOneStderrLine(string commandLine)
    {
        var (code, stdout, stderr) = DaemonProcess.Run(commandLine.Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(2, code);
        Assert.Empty(stdout);
        Assert.StartsWith("vhsakmtd: ", Assert.Single(stderr));
    }

    [Fact]
    public void BadConfigFileExitsTwoWithOneStderrLine()
    {
        var conf = Path.Combine(_dir, "bad.conf");
        File.WriteAllText(conf, "vhsakmt.backend = quantum");
        var (code, _, stderr) = DaemonProcess.Run("--socket-path", Path.Combine(_dir, "s.sock"), "--config", conf);
        Assert.Equal(2, code);
        Assert.Equal("vhsakmtd: vhsakmt.backend must be auto|hsakmt|simulated, got 'quantum'", Assert.Single(stderr));
    }

    [Fact]
    public void ConfigThatHangsTheHoconParserIsRejectedNotWaitedFor()
    {
        var conf = Path.Combine(_dir, "hang.conf");
        File.WriteAllText(conf, "vhsakmt { backend = [ }");
        var (code, _, stderr) = DaemonProcess.Run("--socket-path", Path.Combine(_dir, "s.sock"), "--config", conf);
        Assert.Equal(2, code);
        Assert.Equal($"vhsakmtd: config file '{conf}' is not valid HOCON: the parser did not finish within 3s", Assert.Single(stderr));
    }

    [Fact]
    public void UnknownConfigKeysAreReportedInAJsonWarning()
    {
        var conf = Path.Combine(_dir, "user.conf");
        File.WriteAllText(conf, "vhsakmt { bakend = simulated, kfd { no-such-knob = 1 } }");
        using var daemon = DaemonProcess.Start(
            ["--socket-path", Path.Combine(_dir, "s.sock"), "--backend", "simulated", "--config", conf, "--log-format", "json"]);

        var line = daemon.WaitForStderr(l => l.Contains("unknown configuration key"), Wait);
        Assert.NotNull(line);
        using var doc = JsonDocument.Parse(line);
        Assert.Equal("Warning", doc.RootElement.GetProperty("@l").GetString());
        var keys = doc.RootElement.GetProperty("UnknownKeys").EnumerateArray().Select(k => k.GetString()!).Order().ToArray();
        Assert.Equal(["vhsakmt.bakend", "vhsakmt.kfd.no-such-knob"], keys);
        StopIfRunning(daemon);
    }

    [Fact]
    public void UnderJournaldLinesCarryThePriorityAndNoTimestamp()
    {
        var conf = Path.Combine(_dir, "user.conf");
        File.WriteAllText(conf, "vhsakmt.no-such-key = 1");
        using var daemon = DaemonProcess.Start(
            ["--socket-path", Path.Combine(_dir, "s.sock"), "--backend", "simulated", "--config", conf],
            new Dictionary<string, string?> { ["JOURNAL_STREAM"] = "8:1234" });

        var line = daemon.WaitForStderr(l => l.Contains("unknown configuration key"), Wait);
        Assert.StartsWith("<4>vhsakmtd: Ignoring 1 unknown configuration key(s)", line);
        Assert.Contains("\"vhsakmt.no-such-key\"", line);
        StopIfRunning(daemon);
    }

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
        Assert.Contains(daemon.StderrLines, l => l.Contains("Backend") && l.Contains("simulated"));
        Assert.True(File.Exists(socket), "socket file not created");

        daemon.Signal(signal);
        Assert.Equal(0, daemon.WaitForExit(Wait));
        Assert.False(File.Exists(socket), "socket file left behind");
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
        // Journal mode: no timestamps, lines start with the sd-daemon priority.
        Assert.Contains(daemon.StderrLines, l => l.StartsWith("<6>", StringComparison.Ordinal));

        daemon.Signal(DaemonProcess.SIGTERM);
        Assert.Equal("STOPPING=1", SystemdNotifierTests.Receive(systemd));
        Assert.Equal(0, daemon.WaitForExit(Wait));
    }

    private static void StopIfRunning(DaemonProcess daemon)
    {
        if (daemon.HasExited)
            return;
        daemon.Signal(DaemonProcess.SIGTERM);
        daemon.WaitForExit(Wait);
    }
}
