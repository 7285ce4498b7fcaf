using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using Akka.Configuration;
using VhsaKmt.Actors.Admin;
using VhsaKmt.Actors.Hosting;
using VhsaKmt.Actors.Supervisor;
using VhsaKmt.Daemon;
using VhsaKmt.TestSupport.Guest;
using VhsaKmt.TestSupport.Vmm;
using Xunit;

namespace VhsaKmt.Operations.Tests;

/// <summary>The daemons share the simulated KFD's process-wide VA area and the static meter: one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class OperationsCollection
{
    public const string Name = "operations";
}

/// <summary>
/// vhsakmtd hosted in the test process as the executable starts it (embedded HOCON.conf, simulated KFD), with its
/// operations side (admin socket next to the main socket, Prometheus endpoint on a free loopback port).
/// </summary>
public sealed class OperationsDaemon : IAsyncDisposable
{
    private readonly string _dir;
    private readonly List<TestVmm> _vmms = new();

    private OperationsDaemon(string dir, ActorSystem system, ServiceStarted started, OperationsHost ops, int port)
    {
        _dir = dir;
        System = system;
        Started = started;
        Ops = ops;
        MetricsUrl = $"http://127.0.0.1:{port}/metrics";
    }

    public ActorSystem System { get; }
    public ServiceStarted Started { get; }
    public OperationsHost Ops { get; }
    public string MetricsUrl { get; }
    public string SocketPath => Path.Combine(_dir, "vhsakmt.sock");
    public string AdminPath => SocketPath + ".admin";

    public static async Task<OperationsDaemon> StartAsync()
    {
        var dir = Path.Combine(Path.GetTempPath(), "vhsakmt-ops-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        var socket = Path.Combine(dir, "vhsakmt.sock");
        int port = FreePort();
        var config = ConfigurationFactory.ParseString(
                $"vhsakmt.socket-path = \"{socket}\"\nvhsakmt.backend = simulated\nvhsakmt.metrics.listen = \"http://127.0.0.1:{port}/\"")
            .WithFallback(EmbeddedDefaults.Config());
        var system = ActorSystem.Create("vhsakmt-ops", config);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var started = await VhsaKmtService.StartAsync(system, new ServiceOptions(socket, null, BackendKind.Simulated, config), cts.Token);
        var ops = OperationsHost.Start(system, config, started, socket, Serilog.Log.Logger);
        return new OperationsDaemon(dir, system, started, ops, port);
    }

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    public TestVmm Connect()
    {
        var vmm = TestVmm.Connect(SocketPath, new TestVmmOptions { Timeout = TimeSpan.FromSeconds(10) });
        lock (_vmms) _vmms.Add(vmm);
        return vmm;
    }

    public static RocmProcess Process(GuestGpu gpu, string name)
    {
        var p = new RocmProcess(gpu, name);
        p.Start();
        return p;
    }

    public async Task<IReadOnlyDictionary<string, IActorRef>> DevicesAsync() =>
        (await Started.Supervisor.Ask<DeviceList>(ListDevices.Instance, TimeSpan.FromSeconds(5))).Devices;

    public static async Task Eventually(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("timed out waiting for: " + what);
            await Task.Delay(20);
        }
    }

    /// <summary>Run the CLI in-process; returns exit code and what it printed.</summary>
    public static (int Code, string Out, string Err) Cli(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        int code = Daemon.Cli.AdminCli.Run(args, o, e);
        return (code, o.ToString(), e.ToString());
    }

    public async ValueTask DisposeAsync()
    {
        lock (_vmms) foreach (var v in _vmms) v.Dispose();
        await CoordinatedShutdown.Get(System).Run(CoordinatedShutdown.ActorSystemTerminateReason.Instance).WaitAsync(TimeSpan.FromSeconds(30));
        if (Directory.Exists(_dir)) Directory.Delete(_dir, true);
    }
}
