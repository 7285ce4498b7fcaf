using System.Collections.Concurrent;
using VhsaKmt.TestSupport.Vmm;
using VhsaKmt.Transport.VhostUser;

namespace VhsaKmt.Transport.Tests.VhostUser;

/// <summary>A listener on a fresh socket path serving <see cref="EchoDevice"/>s, and what it accepted.</summary>
internal sealed class BackendHarness : IDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    public BackendHarness(Func<EchoDevice>? deviceFactory = null, VhostUserOptions? options = null)
    {
        Path = $"/tmp/vhsakmt-t-{Guid.NewGuid():N}.sock";
        var factory = deviceFactory ?? (() => new EchoDevice());
        Listener = VhostUserListener.Listen(Path, info =>
        {
            var device = factory();
            Devices[info.VmId] = device;
            return device;
        }, options, Log.CreateLogger());
        Listener.Connected += (_, c) => { Connections[c.VmId] = c; Accepted.Add(c); };
        Listener.Disconnected += (_, e) => Closed.Add(e);
    }

    public CapturingSink Log { get; } = new();

    public string Path { get; }
    public VhostUserListener Listener { get; }
    public ConcurrentDictionary<string, EchoDevice> Devices { get; } = new();
    public ConcurrentDictionary<string, VhostUserConnection> Connections { get; } = new();
    public BlockingCollection<VhostUserConnection> Accepted { get; } = new();
    public BlockingCollection<ConnectionClosedEventArgs> Closed { get; } = new();

    /// <summary>Connect a TestVmm and return it with the connection and device that serve it.</summary>
    public (TestVmm Vmm, VhostUserConnection Connection, EchoDevice Device) Connect(TestVmmOptions? options = null)
    {
        TestVmm vmm;
        try
        {
            vmm = TestVmm.Connect(Path, options);
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or TimeoutException)
        {
            // Put the back-end's side of the story into the failure.
            throw new InvalidOperationException($"{e.Message}; back-end log: {string.Join(" | ", Log.Messages())}", e);
        }
        if (!Accepted.TryTake(out var connection, Timeout)) throw new TimeoutException("no connection accepted");
        return (vmm, connection, Devices[connection.VmId]);
    }

    public ConnectionClosedEventArgs WaitClosed()
    {
        if (!Closed.TryTake(out var closed, Timeout)) throw new TimeoutException("no connection closed");
        return closed;
    }

    public void Dispose() => Listener.Dispose();
}
