using Akka.Actor;
using VhsaKmt.Native.Hsa;
using VhsaKmt.TestSupport.Guest;
using Xunit;

namespace VhsaKmt.Integration.Tests.EndToEnd;

[Collection(EndToEndCollection.Name)]
public sealed class ServiceTests
{
    [Fact]
    public async Task A_device_that_fails_takes_only_its_own_vm_down()
    {
        await using var d = await DaemonHarness.StartAsync();
        var doomedVmm = d.Connect();
        var doomed = DaemonHarness.Process(new GuestGpu(doomedVmm), "doomed");
        Assert.Equal(0, doomed.OpenKfd().Ret);
        Assert.Equal(0, doomed.AllocMemory(0, 0x4000, HsaMemFlags.HostAccess).Ret);
        var healthy = DaemonHarness.Process(new GuestGpu(d.Connect()), "healthy");
        Assert.Equal(0, healthy.OpenKfd().Ret);
        var devices = await d.DevicesAsync();
        Assert.Equal(2, devices.Count);

        devices["vm-1"].Tell(Kill.Instance); // a host bug inside one device actor
        await DaemonHarness.Eventually(() => d.DevicesAsync().Result.Count == 1, "failed device removed");
        await DaemonHarness.Eventually(() => d.Kfd.Counters.Allocations == 0, "the failed VM's objects released");
        Assert.Throws<IOException>(() => doomedVmm.Request(Transport.VhostUser.VhostUserRequest.GetFeatures)); // its connection is closed

        Assert.Equal(0, healthy.GetSystemProperties().Ret);
        var a = healthy.AllocMemory(0, 0x1000, HsaMemFlags.HostAccess);
        Assert.Equal(0, a.Ret);
        healthy.Release(a.Blob!);
    }

    [Fact]
    public async Task Coordinated_shutdown_closes_connections_releases_guests_and_removes_the_socket()
    {
        var d = await DaemonHarness.StartAsync();
        var p = DaemonHarness.Process(new GuestGpu(d.Connect()), "until-shutdown");
        Assert.Equal(0, p.OpenKfd().Ret);
        Assert.Equal(0, p.AllocMemory(0, 0x4000, HsaMemFlags.HostAccess).Ret);
        Assert.True(File.Exists(d.SocketPath));
        var kfd = d.Kfd;

        await CoordinatedShutdown.Get(d.System).Run(CoordinatedShutdown.ActorSystemTerminateReason.Instance).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.False(File.Exists(d.SocketPath));
        Assert.Equal(0, kfd.Counters.Allocations);
        await d.DisposeAsync();
    }
}
