using Serilog;
using VhsaKmt.Native.Interop;
using VhsaKmt.Transport.Interop;
using VhsaKmt.Transport.Virtio;

namespace VhsaKmt.Transport.VhostUser;

/// <summary>
/// Serves one vhost-user front-end (one VM's device) on one connected socket with an
/// <see cref="IVirtioDeviceModel"/>. One IO thread per connection reads the socket and the kick eventfds
/// and calls the model: a slow or faulty VM then stalls only itself, and the whole connection (socket,
/// thread, rings) can move into a per-VM worker process as it is (DESIGN.md, isolation). Every model call
/// happens on that thread. A disconnect or fatal protocol error resets the model and releases every fd
/// and mapping of the connection.
/// </summary>
public sealed partial class VhostUserConnection : IDeviceHost, IDisposable
{
    private const ulong SocketTag = 0;
    private const ulong WakeTag = 1;
    private const ulong KickTagBase = 2;

    private readonly FdHandle _socket;
    private readonly IVirtioDeviceModel _model;
    private readonly VhostUserOptions _options;
    private readonly ILogger _log;
    private readonly VhostUserReader _reader;
    private readonly VhostUserWriter _writer;
    private readonly GuestMemoryTable _memory = new();
    private readonly VringSlot[] _slots;
    private readonly Epoll _epoll;
    private readonly FdHandle _wake;
    private readonly Thread _thread;
    private volatile bool _stopRequested;
    private int _started;
    private int _closed;

    private ulong _ackedFeatures;
    private ulong _ackedProtocolFeatures;
    private byte _status;
    private bool _attached;
    private BackendChannel? _backend;
    private FdHandle? _gpuSocket;

    /// <summary>Serve <paramref name="socket"/> (an accepted or inherited connected socket, owned from now on).</summary>
    public VhostUserConnection(FdHandle socket, string vmId, IVirtioDeviceModel model, VhostUserOptions? options = null, ILogger? log = null)
    {
        ArgumentNullException.ThrowIfNull(socket);
        ArgumentNullException.ThrowIfNull(model);
        _socket = socket;
        VmId = vmId;
        _model = model;
        _options = options ?? VhostUserOptions.Default;
        _log = (log ?? Log.Logger).ForContext<VhostUserConnection>().ForContext("VmId", vmId);
        _reader = new VhostUserReader(socket);
        _writer = new VhostUserWriter(socket);
        if (model.QueueCount is < 1 or > 64) throw new ArgumentException($"model has {model.QueueCount} queues", nameof(model));
        _slots = new VringSlot[model.QueueCount];
        for (int i = 0; i < _slots.Length; i++) _slots[i] = new VringSlot(i);
        UnixSocket.SetReceiveTimeout(socket, _options.ReceiveTimeout);
        _epoll = new Epoll();
        _wake = EventFd.Create();
        _epoll.Add(socket.Fd, SocketTag);
        _epoll.Add(_wake.Fd, WakeTag);
        _thread = new Thread(Run) { IsBackground = true, Name = $"vhost-user {vmId}" };
    }

    /// <summary>Raised once, on the IO thread, after the connection has released everything.</summary>
    public event EventHandler<ConnectionClosedEventArgs>? Disconnected;

    public string VmId { get; }

    public IGuestMemory Memory => _memory;

    /// <summary>The memory table with its user-address translation (transport-level tests, diagnostics).</summary>
    public GuestMemoryTable MemoryTable => _memory;

    public IBackendChannel? BackendChannel =>
        (_ackedProtocolFeatures & (ulong)VhostUserProtocolFeatures.BackendReq) != 0 ? Volatile.Read(ref _backend) : null;

    public ulong AckedProtocolFeatures => Volatile.Read(ref _ackedProtocolFeatures);

    /// <summary>Virtio features the front-end acked with SET_FEATURES.</summary>
    public ulong AckedFeatures => Volatile.Read(ref _ackedFeatures);

    public bool IsClosed => Volatile.Read(ref _closed) != 0;

    public IVirtqueue? Queue(int index) => (uint)index < (uint)_slots.Length ? _slots[index].Published : null;

    /// <summary>Start serving on the connection's own thread.</summary>
    public void Start()
    {
        if (Interlocked.Exchange(ref _started, 1) != 0) throw new InvalidOperationException("already started");
        _thread.Start();
    }

    /// <summary>Stop serving (the model is reset with Disconnect) and wait for the IO thread to finish.</summary>
    public void Dispose()
    {
        _stopRequested = true;
        if (Volatile.Read(ref _started) == 0)
        {
            Interlocked.Exchange(ref _started, 1);
            Teardown(ConnectionCloseReason.Stopped, null);
            return;
        }
        try
        {
            if (!IsClosed) EventFd.Signal(_wake);
        }
        catch (ObjectDisposedException)
        {
            // The IO thread closed between the check and the signal: it is stopping already.
        }
        if (Thread.CurrentThread != _thread && !_thread.Join(TimeSpan.FromSeconds(10)))
            _log.Error("IO thread did not stop within 10 s");
    }

    /// <summary>Wait until the connection has closed (tests, orderly shutdown).</summary>
    public bool WaitClosed(TimeSpan timeout) => _thread.Join(timeout);
}
