using Akka.Actor;
using Akka.Configuration;
using VhsaKmt.Actors.Diagnostics;
using VhsaKmt.Actors.Hosting;
using VhsaKmt.Actors.Supervisor;
using VhsaKmt.Daemon;
using VhsaKmt.Native;
using VhsaKmt.Native.Faults;
using VhsaKmt.Native.Simulated;
using VhsaKmt.Native.Va;
using VhsaKmt.TestSupport.Guest;
using VhsaKmt.TestSupport.Vmm;
using Xunit;

namespace VhsaKmt.Robustness.Tests.Support;

/// <summary>
/// The daemon's service (BackendSupervisor with the embedded HOCON.conf) in this process, on a private socket, with
/// the simulated KFD behind a <see cref="FaultInjectingKfd"/> whose <see cref="Faults"/> tests arm. Hypervisors
/// connect through the real socket (<see cref="TestVmm"/>); <see cref="Leaks"/> reads the leak counters.
/// </summary>
public sealed class HostileDaemon : IDisposable
{
    private readonly string _dir;
    private readonly List<TestVmm> _vmms = new();

    public HostileDaemon(string extraConfig = "")
    {
        _dir = Path.Combine(Path.GetTempPath(), "vhsakmt-robust-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(_dir);
        SocketPath = Path.Combine(_dir, "vhsakmt.sock");
        // A VA base of our own: the fuzz slices in this process use 0x2000_0000_0000.
        var config = ConfigurationFactory.ParseString(
                $"vhsakmt.socket-path = \"{SocketPath}\"\nvhsakmt.backend = simulated\nvhsakmt.kfd.va.base = 0x180000000000\n" +
                "vhsakmt.kfd.va.slice-count = 32\nakka.loglevel = WARNING\nakka.stdout-loglevel = OFF\n" + extraConfig)
            .WithFallback(EmbeddedDefaults.Config());
        System = ActorSystem.Create("vhsakmt-robust", config);
        try
        {
            var options = new ServiceOptions(SocketPath, null, BackendKind.Simulated, config);
            var settings = ServiceSettings.From(options);
            var choice = new KfdBackendChoice("simulated", "fault injection over the simulated KFD",
                (va, time, log) => new FaultInjectingKfd(new SimulatedKfd(settings.Kfd.Simulated, va, time, log), Faults));
            Supervisor = System.ActorOf(BackendSupervisor.Props(settings, choice, new ListenEndpoint(SocketPath, null)), VhsaKmtService.SupervisorName);
            Supervisor.Ask<ServiceInfo>(GetServiceInfo.Instance, TimeSpan.FromSeconds(30)).GetAwaiter().GetResult();
            var backend = Supervisor.Ask<BackendInfo>(GetBackend.Instance, TimeSpan.FromSeconds(5)).GetAwaiter().GetResult();
            Kfd = backend.Kfd;
            Va = backend.Va;
            Counters = new LeakCounters(Kfd, Va, System);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public string SocketPath { get; }
    public ActorSystem System { get; }
    public IActorRef Supervisor { get; } = ActorRefs.Nobody;
    public FaultPlan Faults { get; } = new();
    public IKfd Kfd { get; } = null!;
    public VaManager Va { get; } = null!;
    public LeakCounters Counters { get; } = null!;

    public LeakSnapshot Leaks() => Counters.Take();

    /// <summary>A hypervisor with QEMU's handshake done.</summary>
    public TestVmm Connect(TestVmmOptions? options = null)
    {
        var vmm = TestVmm.Connect(SocketPath, options ?? new TestVmmOptions { Timeout = TimeSpan.FromSeconds(10) });
        lock (_vmms) _vmms.Add(vmm);
        return vmm;
    }

    public void Disconnect(TestVmm vmm)
    {
        lock (_vmms) _vmms.Remove(vmm);
        vmm.Dispose();
    }

    /// <summary>A started guest process (context + shmem) on <paramref name="gpu"/>.</summary>
    public static RocmProcess Process(GuestGpu gpu, string name = "hostile")
    {
        var p = new RocmProcess(gpu, name);
        p.Start();
        return p;
    }

    /// <summary>Live DeviceActors.</summary>
    public int DeviceCount => Supervisor.Ask<DeviceList>(ListDevices.Instance, TimeSpan.FromSeconds(5)).GetAwaiter().GetResult().Devices.Count;

    /// <summary>Wait (bounded, polling) until every exact counter is back at <paramref name="baseline"/>; fail with the diff.</summary>
    public void AssertBackToBaseline(LeakSnapshot baseline, TimeSpan? timeout = null) => AssertWithin(baseline, growthOnly: false, timeout);

    /// <summary>As <see cref="AssertBackToBaseline"/>, but only growth fails (a soak: fewer fds than at the start is fine).</summary>
    public void AssertNoGrowth(LeakSnapshot baseline, TimeSpan? timeout = null) => AssertWithin(baseline, growthOnly: true, timeout);

    private void AssertWithin(LeakSnapshot baseline, bool growthOnly, TimeSpan? timeout)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(3));
        IReadOnlyList<string> diff;
        while ((diff = growthOnly ? Leaks().GrowthFrom(baseline) : Leaks().DiffFrom(baseline)).Count > 0)
        {
            if (DateTime.UtcNow > deadline) Assert.Fail("leak counters not back to baseline: " + string.Join("; ", diff));
            Thread.Sleep(10); // polling a process-wide count: there is no event to wait on
        }
    }

    /// <summary>Wait (bounded) until <paramref name="condition"/> holds.</summary>
    public static void Eventually(Func<bool> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail("timed out waiting for: " + what);
            Thread.Sleep(5);
        }
    }

    public void Dispose()
    {
        lock (_vmms)
        {
            foreach (var v in _vmms) v.Dispose();
            _vmms.Clear();
        }
        if (!Supervisor.IsNobody()) VhsaKmtService.StopAsync(Supervisor, TimeSpan.FromSeconds(10)).Wait(TimeSpan.FromSeconds(15));
        System.Terminate().Wait(TimeSpan.FromSeconds(15));
        if (Directory.Exists(_dir)) Directory.Delete(_dir, true);
    }
}
