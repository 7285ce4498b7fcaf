using VhsaKmt.Native.Interop;
using VhsaKmt.Transport.Interop;
using VhsaKmt.Transport.VhostUser;
using VhsaKmt.Transport.Virtio;
using Xunit;

namespace VhsaKmt.Transport.Tests.VhostUser;

/// <summary>Hostile or broken front-end messages: answered with failures or a closed connection, never a crash.</summary>
public sealed class ProtocolErrorTests
{
    [Fact]
    public void Unknown_request_with_need_reply_gets_a_failure_and_the_connection_stays()
    {
        using var harness = new BackendHarness();
        var (vmm, connection, _) = harness.Connect();
        using (vmm)
        {
            vmm.SendRaw(200, VhostUserHeader.NeedReplyFlag, new byte[8]);
            var reply = vmm.TryReadMessage(BackendHarness.Timeout)!;
            Assert.True(reply.Header.IsReply);
            Assert.Equal(200u, reply.Header.Request);
            Assert.NotEqual(0UL, reply.U64);
            Assert.Contains(harness.Log.Messages(), m => m.Contains("unsupported request 200"));
            Assert.Equal(2UL, vmm.Request(VhostUserRequest.GetQueueNum)!.U64);
            Assert.False(connection.IsClosed);
        }
    }

    [Fact]
    public void Unknown_request_without_need_reply_gets_no_reply()
    {
        using var harness = new BackendHarness();
        var (vmm, _, _) = harness.Connect();
        using (vmm)
        {
            vmm.SendRaw((uint)VhostUserRequest.SetLogBase, 0, new byte[16]);
            Assert.Null(vmm.TryReadMessage(TimeSpan.FromMilliseconds(100)));
            Assert.Equal(2UL, vmm.Request(VhostUserRequest.GetQueueNum)!.U64);
        }
    }

    [Fact]
    public void Payload_size_mismatch_is_refused_and_changes_nothing()
    {
        using var harness = new BackendHarness();
        var (vmm, connection, _) = harness.Connect();
        using (vmm)
        {
            ulong before = connection.AckedFeatures;
            vmm.SendRaw((uint)VhostUserRequest.SetFeatures, VhostUserHeader.NeedReplyFlag, new byte[4]);
            Assert.NotEqual(0UL, vmm.TryReadMessage(BackendHarness.Timeout)!.U64);
            Assert.Equal(before, connection.AckedFeatures);
            Assert.Contains(harness.Log.Messages(), m => m.Contains("payload size 4, expected 8"));

            // A memory table claiming more regions than it carries.
            var table = new byte[MemoryTableHeader.Size + MemoryRegionPayload.Size];
            BitConverter.TryWriteBytes(table, 2u);
            vmm.SendRaw((uint)VhostUserRequest.SetMemTable, VhostUserHeader.NeedReplyFlag, table);
            Assert.NotEqual(0UL, vmm.TryReadMessage(BackendHarness.Timeout)!.U64);
            Assert.Equal(2, connection.MemoryTable.RegionCount);
        }
    }

    [Fact]
    public void Fd_count_mismatch_is_refused_and_the_stray_fds_are_closed()
    {
        using var harness = new BackendHarness();
        var (vmm, connection, _) = harness.Connect();
        using (vmm)
        {
            // SET_VRING_KICK without an fd and without the "no fd" bit.
            ulong kick = 0;
            Assert.NotEqual(0UL, vmm.Request(VhostUserRequest.SetVringKick, in kick, needReply: true)!.U64);

            // SET_OWNER carrying an fd it should not: the back-end must close its copy.
            using var stray = EventFd.Create();
            var (probe, peer) = UnixSocket.Pair();
            using (probe)
            {
                vmm.SendRaw((uint)VhostUserRequest.SetOwner, VhostUserHeader.NeedReplyFlag, ReadOnlySpan<byte>.Empty, [peer]);
                peer.Dispose();
                Assert.NotEqual(0UL, vmm.TryReadMessage(BackendHarness.Timeout)!.U64);
                // Every copy of peer is closed once the back-end dropped its own: probe reads EOF.
                Assert.True(Poller.WaitReadable(probe.Fd, 2000));
                Assert.False(SocketIo.ReceiveExactly(probe, new byte[1], []));
            }
            Assert.Contains(harness.Log.Messages(), m => m.Contains("fds do not match"));
            Assert.False(connection.IsClosed);
        }
    }

    [Fact]
    public void Bad_vring_values_are_refused()
    {
        using var harness = new BackendHarness();
        var (vmm, _, _) = harness.Connect();
        using (vmm)
        {
            Assert.NotEqual(0UL, vmm.Request(VhostUserRequest.SetVringNum, new VringStatePayload { Index = 7, Num = 64 }, needReply: true)!.U64);
            Assert.NotEqual(0UL, vmm.Request(VhostUserRequest.SetVringEnable, new VringStatePayload { Index = 0, Num = 5 }, needReply: true)!.U64);
            vmm.GetVringBase(0);
            Assert.NotEqual(0UL, vmm.Request(VhostUserRequest.SetVringNum, new VringStatePayload { Index = 0, Num = 100 }, needReply: true)!.U64);
            // A ring whose addresses are not in the memory table does not start.
            vmm.RequestAcked(VhostUserRequest.SetVringAddr, new VringAddrPayload { Index = 0, DescUserAddr = 0x10, AvailUserAddr = 0x1000, UsedUserAddr = 0x2000 });
            using var kick = EventFd.Create();
            ulong q0 = 0;
            Assert.NotEqual(0UL, vmm.Request(VhostUserRequest.SetVringKick, in q0, [kick], needReply: true)!.U64);
            Assert.Contains(harness.Log.Messages(), m => m.Contains("not in the memory table"));
        }
    }

    [Fact]
    public void Bad_version_closes_the_connection_and_resets_the_device_but_the_listener_keeps_serving()
    {
        using var harness = new BackendHarness();
        var (vmm, _, device) = harness.Connect();
        using (vmm)
        {
            vmm.SendRaw(1, 0x2, ReadOnlySpan<byte>.Empty); // version 2 (SendRaw ORs in 1: flags 0x3)
            Assert.True(vmm.WaitBackendClosed(BackendHarness.Timeout));
            var closed = harness.WaitClosed();
            Assert.Equal(ConnectionCloseReason.ProtocolError, closed.Reason);
            Assert.Equal([DeviceResetReason.ProtocolError], device.Resets.ToArray());
        }
        var (again, connection, _) = harness.Connect();
        using (again)
        {
            Assert.Equal("vm-2", connection.VmId);
            again.PutChain(0, [[3]], [1]);
            again.Kick(0);
            Assert.Equal(new byte[] { 3 }, again.WaitUsed(0).Data);
        }
    }

    [Fact]
    public void Oversized_payload_closes_the_connection()
    {
        using var harness = new BackendHarness();
        var (vmm, _, _) = harness.Connect();
        using (vmm)
        {
            var header = new byte[VhostUserHeader.Size];
            BitConverter.TryWriteBytes(header, 1u);
            BitConverter.TryWriteBytes(header.AsSpan(4), 1u);
            BitConverter.TryWriteBytes(header.AsSpan(8), 1u << 30);
            // Raw bytes: a header that claims a 1 GiB payload.
            vmm.SendRawBytes(header);
            Assert.True(vmm.WaitBackendClosed(BackendHarness.Timeout));
            Assert.Equal(ConnectionCloseReason.ProtocolError, harness.WaitClosed().Reason);
        }
    }

    [Fact]
    public void Reply_flag_from_the_front_end_closes_the_connection()
    {
        using var harness = new BackendHarness();
        var (vmm, _, _) = harness.Connect();
        using (vmm)
        {
            vmm.SendRaw((uint)VhostUserRequest.GetFeatures, VhostUserHeader.ReplyFlag, ReadOnlySpan<byte>.Empty);
            Assert.True(vmm.WaitBackendClosed(BackendHarness.Timeout));
        }
    }
}
