using VhsaKmt.TestSupport.Vmm;
using VhsaKmt.Native.Interop;
using VhsaKmt.Transport.Virtio;
using Xunit;

namespace VhsaKmt.Transport.Tests.VhostUser;

/// <summary>SHMEM_MAP/UNMAP through the backend channel, with QEMU's SET_MEM_TABLE in the middle.</summary>
public sealed class ShmemTests
{
    private static readonly TimeSpan Timeout = BackendHarness.Timeout;

    [Fact]
    public async Task Map_round_trip_shares_the_blob_and_the_front_end_resends_its_table()
    {
        using var harness = new BackendHarness();
        var (vmm, connection, _) = harness.Connect();
        using (vmm)
        using (var blob = Memfd.Create("blob", 0x3000, seal: false))
        using (var blobMap = Mmap.MapShared(blob, 0, 0x3000))
        {
            blobMap.AsSpan(0x1000, 4).Fill(0x77);
            var channel = connection.BackendChannel!;
            Assert.Equal(0, await channel.ShmemMapAsync(1, blob, 0x1000, 0x20000, 0x2000, ShmemMapFlags.Read | ShmemMapFlags.Write).WaitAsync(Timeout));
            Assert.Equal(new byte[] { 0x77, 0x77, 0x77, 0x77 }, vmm.Window!.Read(0x20000, 4));

            // Zero copy both ways.
            vmm.Window.Write(0x20010, new byte[] { 1, 2, 3 });
            Assert.Equal(new byte[] { 1, 2, 3 }, blobMap.AsSpan(0x1010, 3).ToArray());

            // QEMU's follow-up SET_MEM_TABLE put the blob into the table at its guest-physical address.
            Assert.True(SpinWait.SpinUntil(() => vmm.MemTableResends == 1, Timeout));
            Assert.Equal(3, connection.MemoryTable.RegionCount);
            var viaTable = new byte[3];
            Assert.True(connection.Memory.TryRead(vmm.Options.HostVisibleGuestPhysAddr + 0x20010, viaTable));
            Assert.Equal(new byte[] { 1, 2, 3 }, viaTable);

            Assert.Equal(0, await channel.ShmemUnmapAsync(1, 0x20000, 0x2000).WaitAsync(Timeout));
            Assert.True(SpinWait.SpinUntil(() => vmm.MemTableResends == 2, Timeout));
            Assert.Equal(2, connection.MemoryTable.RegionCount);
            Assert.Empty(vmm.Window.Mappings);
            Assert.Null(vmm.BackendChannelError);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Back_to_back_requests_while_the_front_end_waits_on_set_mem_table_do_not_deadlock(bool tableBeforeReply)
    {
        using var harness = new BackendHarness();
        var (vmm, connection, _) = harness.Connect(new TestVmmOptions { MemTableBeforeShmemReply = tableBeforeReply });
        using (vmm)
        using (var blob = Memfd.Create("blobs", 0x4000, seal: false))
        {
            var channel = connection.BackendChannel!;
            // VHOST-USER.md §5: the second request goes out while QEMU blocks on the first one's SET_MEM_TABLE.
            var maps = new[]
            {
                channel.ShmemMapAsync(1, blob, 0, 0, 0x2000, ShmemMapFlags.Read),
                channel.ShmemMapAsync(1, blob, 0x2000, 0x2000, 0x2000, ShmemMapFlags.Read),
            };
            Assert.Equal(new long[] { 0, 0 }, await Task.WhenAll(maps).WaitAsync(Timeout));
            var unmaps = new[] { channel.ShmemUnmapAsync(1, 0, 0x2000), channel.ShmemUnmapAsync(1, 0x2000, 0x2000) };
            Assert.Equal(new long[] { 0, 0 }, await Task.WhenAll(unmaps).WaitAsync(Timeout));
            Assert.True(SpinWait.SpinUntil(() => vmm.MemTableResends == 4, Timeout));
            Assert.Equal(2, connection.MemoryTable.RegionCount);
        }
    }

    [Fact]
    public void Io_thread_waiting_on_a_map_reply_still_gets_it()
    {
        using var blob = Memfd.Create("blob-io", 0x1000, seal: false);
        long result = -1;
        using var harness = new BackendHarness(() => new EchoDevice
        {
            // A model that blocks its IO thread on the reply: the reply comes through the channel's own reader.
            OnNotify = (host, _) =>
            {
                var map = host.BackendChannel!.ShmemMapAsync(1, blob, 0, 0x1000, 0x1000, ShmemMapFlags.Read);
                result = map.Wait(Timeout) ? map.Result : -2;
            },
        });
        var (vmm, _, _) = harness.Connect(new TestVmmOptions { ResendMemTableOnShmemMap = false });
        using (vmm)
        {
            vmm.PutChain(0, [[1]], [1]);
            vmm.Kick(0);
            vmm.WaitUsed(0);
            Assert.Equal(0, result);
            Assert.Single(vmm.Window!.Mappings);
        }
    }

    [Fact]
    public async Task Map_outside_the_window_is_answered_with_an_error()
    {
        using var harness = new BackendHarness();
        var (vmm, connection, _) = harness.Connect();
        using (vmm)
        using (var blob = Memfd.Create("blob-far", 0x1000, seal: false))
        {
            Assert.NotEqual(0, await connection.BackendChannel!.ShmemMapAsync(1, blob, 0, EchoDevice.WindowSize, 0x1000, ShmemMapFlags.Read).WaitAsync(Timeout));
            Assert.Empty(vmm.Window!.Mappings);
        }
    }

    [Fact]
    public async Task Pending_request_fails_when_the_front_end_goes_away()
    {
        using var harness = new BackendHarness();
        var (vmm, connection, _) = harness.Connect(new TestVmmOptions { Handshake = false });
        vmm.Realize();
        vmm.DriverOk();
        var channel = (Transport.VhostUser.BackendChannel)connection.BackendChannel!;
        vmm.Dispose();
        harness.WaitClosed();
        await Assert.ThrowsAsync<IOException>(() => channel.ShmemUnmapAsync(1, 0, 0x1000).WaitAsync(Timeout));
    }
}
