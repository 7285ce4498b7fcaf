using VhsaKmt.TestSupport.Vmm;
using VhsaKmt.Native.Interop;
using VhsaKmt.Transport.Interop;
using VhsaKmt.Transport.VhostUser;
using VhsaKmt.Transport.Virtio;
using Xunit;

namespace VhsaKmt.Transport.Tests.VhostUser;

/// <summary>Leak tests compare process-wide counters, so nothing else may run beside them.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ResourceCounterCollection
{
    public const string Name = "resource counters";
}

/// <summary>Connections come and go; every fd and mapping goes with them.</summary>
[Collection(ResourceCounterCollection.Name)]
public sealed class LifecycleTests
{
    // Test-made memfds (guest RAM, blobs) are counted apart from FdHandle fds: both must return to the baseline.
    private static (long Fds, long Memfds, long Mappings) Counters() =>
        (ResourceCounters.OpenFds, ResourceCounters.LiveMemfds, ResourceCounters.LiveMappings);

    [Fact]
    public void Disconnect_mid_chain_resets_the_device_and_releases_every_fd_and_mapping()
    {
        var baseline = Counters();
        DescriptorChain held;
        EchoDevice device;
        using (var harness = new BackendHarness())
        {
            var (vmm, _, dev) = harness.Connect();
            device = dev;
            device.HoldChains = true;
            vmm.PutChain(0, [[1, 2, 3]], [3]);
            vmm.Kick(0);
            Assert.True(SpinWait.SpinUntil(() => !device.Held.IsEmpty, BackendHarness.Timeout));
            Assert.True(Counters().Fds > baseline.Fds);
            Assert.True(Counters().Mappings > baseline.Mappings);
            vmm.Dispose();

            var closed = harness.WaitClosed();
            Assert.Equal(ConnectionCloseReason.FrontEndClosed, closed.Reason);
            Assert.Equal([DeviceResetReason.Disconnect], device.Resets.ToArray());
            Assert.True(device.Held.TryDequeue(out held!));
        }
        Assert.Equal(baseline, Counters());
        // The chain outlived its memory: reads fail cleanly instead of touching unmapped pages.
        Assert.Equal(0, held.ReadAt(0, new byte[3]));
    }

    [Fact]
    public void Two_connections_are_served_at_once_and_independently()
    {
        var baseline = Counters();
        using (var harness = new BackendHarness())
        {
            var (vmm1, c1, _) = harness.Connect();
            var (vmm2, c2, _) = harness.Connect();
            Assert.Equal("vm-1", c1.VmId);
            Assert.Equal("vm-2", c2.VmId);
            Assert.Equal(2, harness.Listener.Connections.Count);
            using (vmm2)
            {
                using (vmm1)
                {
                    var t1 = vmm1.PutChain(0, [[1]], [1]);
                    var t2 = vmm2.PutChain(0, [[2]], [1]);
                    vmm2.Kick(0);
                    vmm1.Kick(0);
                    Assert.Equal(new byte[] { 1 }, vmm1.WaitUsed(0).Data);
                    Assert.Equal(new byte[] { 2 }, vmm2.WaitUsed(0).Data);
                }
                Assert.Equal("vm-1", harness.WaitClosed().VmId);
                vmm2.PutChain(1, [[9]], [1]);
                vmm2.Kick(1);
                Assert.Equal(new byte[] { 9 }, vmm2.WaitUsed(1).Data);
                Assert.Single(harness.Listener.Connections);
            }
            harness.WaitClosed();
        }
        Assert.Equal(baseline, Counters());
    }

    [Fact]
    public void Disposing_the_listener_closes_live_connections_and_removes_the_socket()
    {
        var baseline = Counters();
        string path;
        TestVmm vmm;
        using (var harness = new BackendHarness())
        {
            path = harness.Path;
            (vmm, _, _) = harness.Connect();
            Assert.True(File.Exists(path));
            harness.Dispose();
            Assert.Equal(ConnectionCloseReason.Stopped, harness.WaitClosed().Reason);
        }
        Assert.True(vmm.WaitBackendClosed(BackendHarness.Timeout));
        vmm.Dispose();
        Assert.False(File.Exists(path));
        Assert.Equal(baseline, Counters());
    }

    [Fact]
    public void A_connection_can_start_from_an_already_connected_socket()
    {
        var baseline = Counters();
        var (ours, theirs) = UnixSocket.Pair();
        var device = new EchoDevice();
        var connection = new VhostUserConnection(ours, "vm-fd", device);
        var closed = new ManualResetEventSlim();
        connection.Disconnected += (_, _) => closed.Set();
        connection.Start();
        using (var vmm = TestVmm.FromSocket(theirs))
        {
            Assert.Equal("vm-fd", device.Host!.VmId);
            vmm.PutChain(0, [[4, 2]], [2]);
            vmm.Kick(0);
            Assert.Equal(new byte[] { 4, 2 }, vmm.WaitUsed(0).Data);
        }
        Assert.True(closed.Wait(BackendHarness.Timeout));
        connection.Dispose();
        Assert.Equal(baseline, Counters());
    }

    [Fact]
    public void Failed_handshake_steps_leak_nothing()
    {
        var baseline = Counters();
        using (var harness = new BackendHarness())
        {
            var (vmm, _, _) = harness.Connect();
            using (vmm)
            {
                // A refused memory table (region beyond its file) and a refused kick: the fds they carried are closed.
                using var small = Memfd.Create("small", 0x1000, seal: false);
                var table = new byte[MemoryTableHeader.Size + MemoryRegionPayload.Size];
                BitConverter.TryWriteBytes(table, 1u);
                BitConverter.TryWriteBytes(table.AsSpan(MemoryTableHeader.Size + 8), 0x100000UL);
                Assert.NotEqual(0UL, vmm.Request(VhostUserRequest.SetMemTable, table, [small], needReply: true)!.U64);
                using var kick = EventFd.Create();
                ulong q9 = 9;
                Assert.NotEqual(0UL, vmm.Request(VhostUserRequest.SetVringKick, in q9, [kick], needReply: true)!.U64);
            }
            harness.WaitClosed();
        }
        Assert.Equal(baseline, Counters());
    }
}
