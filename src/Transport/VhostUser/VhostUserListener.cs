using System.Collections.Concurrent;
using Serilog;
using VhsaKmt.Native.Interop;
using VhsaKmt.Transport.Interop;
using VhsaKmt.Transport.Virtio;

namespace VhsaKmt.Transport.VhostUser;

/// <summary>What a device model factory learns about the connection it serves.</summary>
public sealed record ConnectionInfo(string VmId);

/// <summary>
/// Accepts front-end connections on a Unix socket (a path, or an inherited listening fd) and serves each
/// with its own <see cref="VhostUserConnection"/> and a device model from the factory. A connection that
/// ends is dropped; the listener keeps listening. Ids are "vm-1", "vm-2", ... in accept order.
/// </summary>
public sealed class VhostUserListener : IDisposable
{
    private readonly FdHandle _listener;
    private readonly string? _path;
    private readonly Func<ConnectionInfo, IVirtioDeviceModel> _modelFactory;
    private readonly VhostUserOptions _options;
    private readonly ILogger _log;
    private readonly FdHandle _wake;
    private readonly Thread _thread;
    private readonly ConcurrentDictionary<string, VhostUserConnection> _connections = new();
    private volatile bool _stopping;
    private int _nextId;

    private VhostUserListener(FdHandle listener, string? path, Func<ConnectionInfo, IVirtioDeviceModel> modelFactory, VhostUserOptions? options, ILogger? log)
    {
        _listener = listener;
        _path = path;
        _modelFactory = modelFactory;
        _options = options ?? VhostUserOptions.Default;
        _log = (log ?? Log.Logger).ForContext<VhostUserListener>();
        _wake = EventFd.Create();
        _thread = new Thread(AcceptLoop) { IsBackground = true, Name = "vhost-user listener" };
        _thread.Start();
    }

    /// <summary>Listen on <paramref name="path"/> (a stale socket file is replaced; mode 0660).</summary>
    public static VhostUserListener Listen(string path, Func<ConnectionInfo, IVirtioDeviceModel> modelFactory, VhostUserOptions? options = null, ILogger? log = null)
    {
        var fd = UnixSocket.Listen(path);
        var listener = new VhostUserListener(fd, path, modelFactory, options, log);
        listener._log.Information("Listening on {Path}", path);
        return listener;
    }

    /// <summary>Accept on an inherited listening socket (<c>--fd</c>); it is owned from now on.</summary>
    public static VhostUserListener FromListeningFd(FdHandle listeningSocket, Func<ConnectionInfo, IVirtioDeviceModel> modelFactory, VhostUserOptions? options = null, ILogger? log = null) =>
        new(listeningSocket, null, modelFactory, options, log);

    /// <summary>Raised on the accepting thread for each new connection, before it starts serving.</summary>
    public event EventHandler<VhostUserConnection>? Connected;

    /// <summary>Raised on the connection's IO thread when it has closed and released everything.</summary>
    public event EventHandler<ConnectionClosedEventArgs>? Disconnected;

    /// <summary>Connections currently served.</summary>
    public IReadOnlyCollection<VhostUserConnection> Connections => _connections.Values.ToArray();

    private void AcceptLoop()
    {
        while (!_stopping)
        {
            int ready;
            try
            {
                ready = Poller.WaitEither(_listener.Fd, _wake.Fd, -1);
            }
            catch (LibcException e)
            {
                _log.Error("Listener poll failed, no longer accepting: {Reason}", e.Message);
                return;
            }
            if (ready != 0 || _stopping) continue;
            FdHandle? socket;
            try
            {
                socket = UnixSocket.Accept(_listener);
            }
            catch (LibcException e)
            {
                // EMFILE and the like: this connection is lost, the listener is not.
                _log.Error("accept failed: {Reason}", e.Message);
                continue;
            }
            if (socket is not null) Serve(socket);
        }
    }

    private void Serve(FdHandle socket)
    {
        string vmId = _options.VmIdPrefix + Interlocked.Increment(ref _nextId);
        VhostUserConnection connection;
        try
        {
            var model = _modelFactory(new ConnectionInfo(vmId));
            connection = new VhostUserConnection(socket, vmId, model, _options, _log);
        }
        catch (Exception e)
        {
            _log.ForContext("VmId", vmId).Error(e, "Could not set up a device for the new connection; closed");
            socket.Dispose();
            return;
        }
        _connections[vmId] = connection;
        connection.Disconnected += (_, args) =>
        {
            _connections.TryRemove(args.VmId, out VhostUserConnection? _);
            Disconnected?.Invoke(this, args);
        };
        Connected?.Invoke(this, connection);
        connection.Start();
    }

    /// <summary>Stop accepting, close every connection and remove the socket file.</summary>
    public void Dispose()
    {
        if (_stopping) return;
        _stopping = true;
        EventFd.Signal(_wake);
        if (!_thread.Join(TimeSpan.FromSeconds(5))) _log.Error("Listener thread did not stop within 5 s");
        foreach (var connection in _connections.Values) connection.Dispose();
        _listener.Dispose();
        _wake.Dispose();
        if (_path is not null) UnixSocket.Unlink(_path);
    }
}
