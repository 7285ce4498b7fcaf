using System.Runtime.InteropServices;
using Akka.Actor;
using Akka.Configuration;
using VhsaKmt.Actors.Hosting;
using VhsaKmt.Actors.Supervisor;
using VhsaKmt.Daemon;
using VhsaKmt.Native;
using VhsaKmt.Native.Interop;
using VhsaKmt.Native.Va;
using VhsaKmt.TestSupport.Guest;
using VhsaKmt.TestSupport.Vmm;
using Xunit;

namespace VhsaKmt.Integration.Tests.EndToEnd;

/// <summary>
/// The end-to-end tests share the process-wide fixed VA area of the simulated KFD (vhsakmt.kfd.va.base), so only
/// one daemon may live at a time: they run alone, one after another.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class EndToEndCollection
{
    public const string Name = "end-to-end";
}

/// <summary>
/// vhsakmtd hosted in the test process as the executable starts it (embedded HOCON.conf, an actor system,
/// <see cref="VhsaKmtService.StartAsync"/>, simulated KFD), on a socket in a private directory. Hypervisors
/// connect with <see cref="Connect"/>; the daemon's KFD is reachable for leak and memory checks.
/// </summary>
public sealed class DaemonHarness : IAsyncDisposable
{
    private readonly string _dir;
    private readonly List<TestVmm> _vmms = new();

    private DaemonHarness(string dir, ActorSystem system, ServiceStarted started, BackendInfo backend)
    {
        _dir = dir;
        System = system;
        Started = started;
        Kfd = backend.Kfd;
        Va = backend.Va;
    }

    public ActorSystem System { get; }
    public ServiceStarted Started { get; }
    public IKfd Kfd { get; }
    public VaManager Va { get; }
    public string SocketPath => Path.Combine(_dir, "vhsakmt.sock");

    public static async Task<DaemonHarness> StartAsync(string extraConfig = "")
    {
        var dir = Path.Combine(Path.GetTempPath(), "vhsakmt-e2e-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        var socket = Path.Combine(dir, "vhsakmt.sock");
        var config = ConfigurationFactory.ParseString($"vhsakmt.socket-path = \"{socket}\"\nvhsakmt.backend = simulated\n{extraConfig}")
            .WithFallback(EmbeddedDefaults.Config());
        var system = ActorSystem.Create("vhsakmt-e2e", config);
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            var started = await VhsaKmtService.StartAsync(system, new ServiceOptions(socket, null, BackendKind.Simulated, config), cts.Token);
            var backend = await started.Supervisor.Ask<BackendInfo>(GetBackend.Instance, TimeSpan.FromSeconds(5));
            return new DaemonHarness(dir, system, started, backend);
        }
        catch
        {
            await system.Terminate().WaitAsync(TimeSpan.FromSeconds(10));
            Directory.Delete(dir, true);
            throw;
        }
    }

    /// <summary>A hypervisor connecting and running QEMU 11.1's handshake up to live rings.</summary>
    public TestVmm Connect(TestVmmOptions? options = null)
    {
        var vmm = TestVmm.Connect(SocketPath, options ?? new TestVmmOptions { Timeout = TimeSpan.FromSeconds(10) });
        lock (_vmms) _vmms.Add(vmm);
        return vmm;
    }

    /// <summary>A started ROCm guest process on <paramref name="gpu"/>.</summary>
    public static RocmProcess Process(GuestGpu gpu, string name = "rocminfo")
    {
        var p = new RocmProcess(gpu, name);
        p.Start();
        return p;
    }

    public async Task<IReadOnlyDictionary<string, IActorRef>> DevicesAsync() =>
        (await Started.Supervisor.Ask<DeviceList>(ListDevices.Instance, TimeSpan.FromSeconds(5))).Devices;

    /// <summary>Whether context actor ctx-<paramref name="ctxId"/> of <paramref name="device"/> is alive.</summary>
    public async Task<bool> ContextAliveAsync(IActorRef device, uint ctxId)
    {
        try
        {
            await System.ActorSelection(device.Path / $"ctx-{ctxId}").ResolveOne(TimeSpan.FromSeconds(2));
            return true;
        }
        catch (ActorNotFoundException)
        {
            return false;
        }
    }

    /// <summary>Wait (bounded) until <paramref name="condition"/> holds.</summary>
    public static async Task Eventually(Func<bool> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("timed out waiting for: " + what);
            await Task.Delay(10);
        }
    }

    /// <summary>Read the daemon's memory at a host VA (in-process: guest VA = host VA = GPU VA).</summary>
    public static byte[] ReadHost(ulong va, int length)
    {
        var b = new byte[length];
        Marshal.Copy((nint)va, b, 0, length);
        return b;
    }

    /// <summary>
    /// Create the KFD's process-wide pages once (event page, per-node doorbell page: they live as long as the KFD, as
    /// in libhsakmt) through a throw-away VM, so a leak baseline taken afterwards only counts per-guest resources.
    /// </summary>
    public async Task WarmUpAsync()
    {
        using (var vmm = Connect())
        {
            var p = Process(new GuestGpu(vmm), "warm-up");
            if (p.OpenKfd().Ret != 0) throw new InvalidOperationException("warm-up OPEN_KFD failed");
            p.CreateEvent();
            var ring = p.AllocMemory(1, 0x10000, Native.Hsa.HsaMemFlags.HostAccess);
            var rw = p.AllocMemory(1, 0x1000, Native.Hsa.HsaMemFlags.HostAccess);
            if (p.CreateQueue(1, 21, ring, 0x10000, rw, rw.Va, rw.Va + 8).Ret != 0) throw new InvalidOperationException("warm-up queue failed");
            p.Exit();
        }
        await Eventually(() => DevicesAsync().Result.Count == 0, "warm-up device stopped");
    }

    public LeakSnapshot Leaks() => new(
        Kfd.Counters.Snapshot(),
        ResourceCounters.OpenFds,
        ResourceCounters.LiveMappings,
        ResourceCounters.LiveMemfds,
        Va.LiveBackingCount,
        Va.FreeSliceCount);

    public async ValueTask DisposeAsync()
    {
        lock (_vmms) foreach (var v in _vmms) v.Dispose();
        await CoordinatedShutdown.Get(System).Run(CoordinatedShutdown.ActorSystemTerminateReason.Instance).WaitAsync(TimeSpan.FromSeconds(30));
        if (Directory.Exists(_dir)) Directory.Delete(_dir, true);
    }
}

/// <summary>Everything that must return to its baseline when guests go away.</summary>
public readonly record struct LeakSnapshot(
    KfdCountersSnapshot Kfd, long TransportFds, long Mappings, long Memfds, long VaBackings, int FreeSlices);
