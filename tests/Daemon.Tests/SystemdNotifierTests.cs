using System.Net.Sockets;
using System.Text;
using Serilog;
using VhsaKmt.Daemon.Tests.Logging;
using Xunit;

namespace VhsaKmt.Daemon.Tests;

public sealed class SystemdNotifierTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("vhsakmt-notify-").FullName;
    private readonly CollectingSink _sink = new();
    private readonly ILogger _log;

    public SystemdNotifierTests() => _log = new LoggerConfiguration().WriteTo.Sink(_sink).CreateLogger();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>A datagram socket standing in for systemd's notify socket.</summary>
    public static Socket Listen(string address)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(address));
        socket.ReceiveTimeout = 30_000; // a loaded CI machine may take a while to start the daemon
        return socket;
    }

    public static string Receive(Socket socket)
    {
        var buffer = new byte[4096];
        var n = socket.Receive(buffer);
        return Encoding.UTF8.GetString(buffer, 0, n);
    }

    [Fact]
    public void SendsEachStateAsOneDatagramToAPathSocket()
    {
        var path = Path.Combine(_dir, "notify");
        using var systemd = Listen(path);
        using var notifier = SystemdNotifier.FromAddress(path, _log);

        Assert.NotNull(notifier);
        Assert.True(notifier.Notify("READY=1\nSTATUS=listening"));
        Assert.True(notifier.Notify("STOPPING=1"));
        Assert.Equal("READY=1\nSTATUS=listening", Receive(systemd));
        Assert.Equal("STOPPING=1", Receive(systemd));
    }

    [Fact]
    public void AtPrefixMeansAnAbstractSocket()
    {
        var name = $"vhsakmt-test-{Guid.NewGuid():N}";
        using var systemd = Listen("\0" + name);
        using var notifier = SystemdNotifier.FromAddress("@" + name, _log);

        Assert.True(notifier!.Notify("READY=1"));
        Assert.Equal("READY=1", Receive(systemd));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("relative/path")]
    public void NoUsableAddressMeansNoNotifier(string? address)
        => Assert.Null(SystemdNotifier.FromAddress(address, _log));

    [Fact]
    public void ANotifySocketThatIsGoneIsLoggedNotThrown()
    {
        using var notifier = SystemdNotifier.FromAddress(Path.Combine(_dir, "nobody-listens"), _log);
        Assert.False(notifier!.Notify("READY=1"));
        var warning = Assert.Single(_sink.Events);
        Assert.Equal(Serilog.Events.LogEventLevel.Warning, warning.Level);
    }
}
