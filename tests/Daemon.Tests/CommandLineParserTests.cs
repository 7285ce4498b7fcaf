using VhsaKmt.Actors.Hosting;
using Xunit;

namespace VhsaKmt.Daemon.Tests;

public sealed class CommandLineParserTests
{
    [Fact]
    public void SocketPathWithSpaceOrEqualsGivesTheSamePath()
    {
        var spaced = CommandLineParser.Parse(["--socket-path", "/run/v.sock"], out var e1);
        var joined = CommandLineParser.Parse(["--socket-path=/run/v.sock"], out var e2);
        Assert.Null(e1);
        Assert.Null(e2);
        Assert.Equal("/run/v.sock", spaced!.SocketPath);
        Assert.Equal(spaced, joined);
        Assert.Equal(DaemonAction.Run, spaced.Action);
        Assert.Null(spaced.ListenFd);
    }

    [Fact]
    public void AValueThatLooksLikeAnOptionNeedsTheEqualsForm()
    {
        var a = CommandLineParser.Parse(["--socket-path=--odd.sock"], out var error);
        Assert.Null(error);
        Assert.Equal("--odd.sock", a!.SocketPath);
    }

    [Fact]
    public void EveryRunOptionIsParsed()
    {
        var a = CommandLineParser.Parse(
            ["--fd", "3", "--backend", "simulated", "--config", "/etc/v.conf", "--log-level", "debug", "--log-format=json"],
            out var error);
        Assert.Null(error);
        Assert.Equal(3, a!.ListenFd);
        Assert.Null(a.SocketPath);
        Assert.Equal(BackendKind.Simulated, a.Backend);
        Assert.Equal("/etc/v.conf", a.ConfigFile);
        Assert.Equal("debug", a.LogLevel!.Name);
        Assert.Equal(Serilog.Events.LogEventLevel.Debug, a.LogLevel.Serilog);
        Assert.Equal(LogFormat.Json, a.LogFormat);
    }

    [Fact]
    public void StatsFlagTurnsTheStatsLineOnThroughHocon()
    {
        var a = CommandLineParser.Parse(["--socket-path", "/run/v.sock", "--stats"], out var error);
        Assert.Null(error);
        Assert.True(a!.Stats);
        Assert.True(DaemonConfiguration.CommandLineOverrides(a).GetBoolean("vhsakmt.diagnostics.stats"));
        Assert.False(CommandLineParser.Parse(["--socket-path", "/run/v.sock"], out _)!.Stats);
    }

    [Theory]
    [InlineData("auto", BackendKind.Auto)]
    [InlineData("hsakmt", BackendKind.HsaKmt)]
    [InlineData("SIMULATED", BackendKind.Simulated)]
    public void BackendNames(string text, BackendKind expected)
    {
        var a = CommandLineParser.Parse(["--socket-path", "s", "--backend", text], out _);
        Assert.Equal(expected, a!.Backend);
    }

    [Theory]
    [InlineData(new[] { "--print-capabilities" }, DaemonAction.PrintCapabilities)]
    [InlineData(new[] { "-V" }, DaemonAction.Version)]
    [InlineData(new[] { "--version" }, DaemonAction.Version)]
    [InlineData(new[] { "-h" }, DaemonAction.Help)]
    [InlineData(new[] { "--help", "--print-capabilities" }, DaemonAction.Help)]
    [InlineData(new[] { "--print-capabilities", "--version" }, DaemonAction.Version)]
    // libvirt probes capabilities with only this flag; a socket alongside is allowed and ignored.
    [InlineData(new[] { "--socket-path", "s", "--print-capabilities" }, DaemonAction.PrintCapabilities)]
    public void InformationalActionsNeedNoSocket(string[] args, DaemonAction expected)
    {
        var a = CommandLineParser.Parse(args, out var error);
        Assert.Null(error);
        Assert.Equal(expected, a!.Action);
    }

    [Theory]
    [InlineData(new string[0], "exactly one of --socket-path PATH or --fd N is required")]
    [InlineData(new[] { "--socket-path", "s", "--fd", "3" }, "--socket-path and --fd cannot be used together")]
    [InlineData(new[] { "--bogus" }, "unknown option '--bogus'")]
    [InlineData(new[] { "--bogus=1" }, "unknown option '--bogus'")]
    [InlineData(new[] { "stray" }, "unexpected argument 'stray'")]
    [InlineData(new[] { "--socket-path" }, "option '--socket-path' needs a value")]
    [InlineData(new[] { "--socket-path=" }, "--socket-path needs a non-empty path")]
    [InlineData(new[] { "--fd", "-1" }, "--fd needs a non-negative file descriptor number, got '-1'")]
    [InlineData(new[] { "--fd", "2" }, "--fd 2 is standard input/output/error, not a listening socket")]
    [InlineData(new[] { "--socket-path", "--fd", "3" }, "option '--socket-path' needs a value")]
    [InlineData(new[] { "--fd", "x" }, "--fd needs a non-negative file descriptor number, got 'x'")]
    [InlineData(new[] { "--fd", "99999999999" }, "--fd needs a non-negative file descriptor number, got '99999999999'")]
    [InlineData(new[] { "--socket-path", "s", "--backend", "gpu" }, "--backend must be auto|hsakmt|simulated, got 'gpu'")]
    [InlineData(new[] { "--socket-path", "s", "--log-format", "xml" }, "--log-format must be text|json, got 'xml'")]
    [InlineData(new[] { "--socket-path", "s", "--log-level", "loud" }, "--log-level must be verbose|debug|info|warning|error|fatal, got 'loud'")]
    [InlineData(new[] { "--socket-path", "a", "--socket-path", "b" }, "option '--socket-path' given more than once")]
    [InlineData(new[] { "-V", "--version" }, "option '--version' given more than once")]
    [InlineData(new[] { "--print-capabilities=yes" }, "option '--print-capabilities' takes no value")]
    public void BadCommandLinesGiveOneLineErrors(string[] args, string expected)
    {
        var a = CommandLineParser.Parse(args, out var error);
        Assert.Null(a);
        Assert.Equal(expected, error);
        Assert.DoesNotContain('\n', error!);
    }
}
