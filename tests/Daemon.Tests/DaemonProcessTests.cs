using System.Globalization;
using System.Net.Sockets;
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

    private static void StopIfRunning(DaemonProcess daemon)
    {
        if (daemon.HasExited)
            return;
        daemon.Signal(DaemonProcess.SIGTERM);
        daemon.WaitForExit(Wait);
    }
}
