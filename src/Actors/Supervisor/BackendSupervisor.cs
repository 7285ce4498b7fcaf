using Akka.Actor;
using Serilog;
using VhsaKmt.Actors.Context;
using VhsaKmt.Actors.Device;
using VhsaKmt.Native;
using VhsaKmt.Native.Hsa;
using VhsaKmt.Native.Va;
using VhsaKmt.Transport.Hsakmt;
using VhsaKmt.Native.Interop;
using VhsaKmt.Transport.VhostUser;
using VhsaKmt.Transport.VirtioGpu;

namespace VhsaKmt.Actors.Supervisor;

/// <summary>Where the service listens: a socket path, or an inherited listening fd (<c>--fd</c>).</summary>
public sealed record ListenEndpoint(string? SocketPath, int? ListenFd)
{
    public override string ToString() => SocketPath ?? $"fd {ListenFd}";
}

/// <summary>
/// /user/vhsakmt: owns the KFD (created by the selected backend's factory over this subtree's VA manager), the VA
/// manager and the vhost-user listener. Each accepted connection gets a <see cref="VirtioGpuDeviceModel"/> and a
/// DeviceActor "device-&lt;n&gt;". A DeviceActor that fails is stopped and its connection closed: that VM loses its GPU,
/// no other VM notices. <see cref="StopService"/> closes the listener and every connection, then waits until every
/// device has finished its ordered teardown.
/// </summary>
public sealed class BackendSupervisor : UntypedActor
{
    private readonly ServiceSettings _settings;
    private readonly KfdBackendChoice _backend;
    private readonly ListenEndpoint _endpoint;
    private readonly ILogger _log;

    private VaManager? _va;
    private IKfd? _kfd;
    private VhostUserListener? _listener;
    private KfdContextSpawner? _spawner;
    private CapsetHsakmt _capset;
    private ServiceInfo? _info;
    private Exception? _startFailure;
    private readonly Dictionary<string, IActorRef> _devices = new();
    private readonly List<IActorRef> _stopWaiters = new();
    private bool _stopping;
    private bool _listenerClosed;
    private int _nextDevice;

    public BackendSupervisor(ServiceSettings settings, KfdBackendChoice backend, ListenEndpoint endpoint, ILogger? log = null)
    {
        _settings = settings;
        _backend = backend;
        _endpoint = endpoint;
        _log = (log ?? Log.Logger).ForContext<BackendSupervisor>();
    }

    public static Props Props(ServiceSettings settings, KfdBackendChoice backend, ListenEndpoint endpoint, ILogger? log = null) =>
        Akka.Actor.Props.Create(() => new BackendSupervisor(settings, backend, endpoint, log));

    /// <summary>A device fault stays in its VM: stop that DeviceActor (its connection is closed on Terminated).</summary>
    protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(e =>
    {
        _log.Error(e, "DeviceActor failed; stopping that VM's device and closing its connection");
        return Directive.Stop;
    });

    protected override void PreStart()
    {
        try
        {
            if (_backend.Factory is null) throw new InvalidOperationException($"KFD backend {_backend.Name} cannot run: {_backend.Reason}");
            _va = new VaManager(_settings.Kfd.Va, _log);
            _kfd = _backend.Factory(_va, TimeProvider.System, _log);
            _capset = CapsetOf(_kfd);
            _spawner = new KfdContextSpawner(new ContextServices(_kfd, _va, _settings.Context, SystemClock.Instance, _log), _settings.ContextDispatcher);
            var gpus = GpuNodeNames.Of(_kfd);

            var self = Self;
            var createTimeout = TimeSpan.FromSeconds(10);
            var factory = new ModelFactory(self, _settings.Device, _log, createTimeout);
            _listener = _endpoint.SocketPath is { } path
                ? VhostUserListener.Listen(path, factory.Create, _settings.Transport, _log)
                : VhostUserListener.FromListeningFd(FdHandle.Adopt(_endpoint.ListenFd!.Value), factory.Create, _settings.Transport, _log);
            _listener.Disconnected += (_, e) => _log.ForContext("VmId", e.VmId).Information("front-end connection closed ({Reason})", e.Reason);

            if (_settings.StatsInterval > TimeSpan.Zero)
                Context.ActorOf(Diagnostics.StatsReporter.Props(new Diagnostics.LeakCounters(_kfd, _va, Context.System), _settings.StatsInterval, _log), "stats");

            _info = new ServiceInfo(_endpoint.ToString(), _kfd.Name, _backend.Reason, gpus);
            _log.Information("VhsaKmt listening on {Listening} with KFD backend {Backend} ({Reason})", _info.Listening, _kfd.Name, _backend.Reason);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Reported to whoever asks for the service info; the actor then stops (no half-started service).
            _startFailure = e;
            _log.Error(e, "VhsaKmt service failed to start: {Reason}", e.Message);
            ReleaseBackend();
        }
    }

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case GetServiceInfo:
                if (_startFailure is not null)
                {
                    Sender.Tell(new Status.Failure(_startFailure));
                    Context.Stop(Self);
                }
                else Sender.Tell(_info);
                break;
            case CreateDevice c: OnCreateDevice(c.VmId, c.Lanes); break;
            case GetBackend: Sender.Tell(new BackendInfo(_kfd!, _va!)); break;
            case ListDevices: Sender.Tell(new DeviceList(new Dictionary<string, IActorRef>(_devices))); break;
            case DeviceStopped: break; // the Terminated that follows does the bookkeeping
            case Terminated t: OnDeviceTerminated(t.ActorRef); break;
            case StopService: OnStopService(); break;
            case ListenerClosed: _listenerClosed = true; MaybeStopped(); break;
            default: Unhandled(message); break;
        }
    }

    private void OnCreateDevice(string vmId, ContextLanes? lanes)
    {
        if (_stopping || _spawner is null)
        {
            Sender.Tell(new Status.Failure(new InvalidOperationException("service is stopping")));
            return;
        }
        var props = DeviceActor.Props(_settings.Device, _spawner, _capset, _log, lanes);
        if (_settings.Device.Dispatcher is { } dispatcher && Context.System.Dispatchers.HasDispatcher(dispatcher)) props = props.WithDispatcher(dispatcher);
        var device = Context.ActorOf(props, $"device-{++_nextDevice}");
        Context.Watch(device);
        _devices[vmId] = device;
        _log.ForContext("VmId", vmId).Information("front-end connected; {Device} serves it", device.Path.Name);
        Sender.Tell(device);
    }

    private void OnDeviceTerminated(IActorRef device)
    {
        var vmId = _devices.FirstOrDefault(kv => kv.Value.Equals(device)).Key;
        if (vmId is null) return;
        _devices.Remove(vmId);
        // After a disconnect the connection is gone already; after a device fault it is still open: close it.
        var connection = _listener?.Connections.FirstOrDefault(c => c.VmId == vmId);
        if (connection is { IsClosed: false })
        {
            _log.ForContext("VmId", vmId).Warning("device {Device} stopped while its connection was open; closing the connection", device.Path.Name);
            Task.Run(connection.Dispose);
        }
        MaybeStopped();
    }

    private void OnStopService()
    {
        _stopWaiters.Add(Sender);
        if (_stopping) { MaybeStopped(); return; }
        _stopping = true;
        _log.Information("stopping: closing the listener and {Count} connections", _devices.Count);
        var listener = _listener;
        if (listener is null) { _listenerClosed = true; MaybeStopped(); return; }
        // Dispose joins the connection threads (each resets its model: the device tears down): off the actor thread.
        Task.Run(() => { listener.Dispose(); return ListenerClosed.Instance; }).PipeTo(Self);
    }

    private void MaybeStopped()
    {
        if (!_stopping || !_listenerClosed || _devices.Count > 0) return;
        foreach (var w in _stopWaiters) w.Tell(ServiceStopped.Instance);
        _stopWaiters.Clear();
    }

    protected override void PostStop()
    {
        _listener?.Dispose();
        _listener = null;
        ReleaseBackend();
        base.PostStop();
    }

    private void ReleaseBackend()
    {
        _kfd?.Dispose();
        _kfd = null;
        _va?.Dispose();
        _va = null;
    }

    /// <summary>Capset 8 payload (PROTOCOL.md §2.4): KFD interface version from the host, 1.0 if the call fails.</summary>
    private static CapsetHsakmt CapsetOf(IKfd kfd)
    {
        var ok = kfd.GetVersion(out HsaVersionInfo v) == HsaStatus.Success;
        return new CapsetHsakmt
        {
            version_major = ok ? v.KernelInterfaceMajorVersion : 1,
            version_minor = ok ? v.KernelInterfaceMinorVersion : 0,
            context_type = VirtioGpuConst.VIRTGPU_HSAKMT_CONTEXT_AMDGPU,
        };
    }

    private sealed class ListenerClosed { public static readonly ListenerClosed Instance = new(); }

    /// <summary>Runs on the listener's accept thread: asks the supervisor for a DeviceActor, then builds the model around it.</summary>
    private sealed class ModelFactory(IActorRef supervisor, DeviceSettings settings, ILogger log, TimeSpan timeout)
    {
        public Transport.Virtio.IVirtioDeviceModel Create(ConnectionInfo info)
        {
            // Inline submits (vhsakmt.device.inline-submits): the device and the model share the contexts' lanes.
            var lanes = settings.InlineSubmits ? new ContextLanes() : null;
            var device = supervisor.Ask<IActorRef>(new CreateDevice(info.VmId, lanes), timeout).GetAwaiter().GetResult();
            return new VirtioGpuDeviceModel(device, settings, log.ForContext("VmId", info.VmId), lanes);
        }
    }
}
